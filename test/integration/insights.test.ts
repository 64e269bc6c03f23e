/**
 * The analysis layer end to end: a ×3 degradation reaches a real webhook sink on 127.0.0.1
 * (the harness scenario), the four read-only routes answer typed JSON, experiments split
 * sessions stickily and stop a clearly worse arm, and webhook secrets never leave the config.
 */
import { describe, it } from 'node:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { runAlertScenario } from '../../harness/alerts.ts'
import { demoConfigFile } from '../../src/config/demo.ts'
import { parseConfig } from '../../src/config/load.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import { createInstance, createServerMemory } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { anthropicBody, configOf, testConfigFile, testProxy } from './helpers.ts'
import { anthropicAnswer } from './session-fixtures.ts'

const session = (id: string) => ({ metadata: { user_id: `user_abc_account__session_${id}` } })

describe('alerts: a target degrading ×3 mid-run', () => {
  it('fires within 15 requests, the webhook sink receives the alert with its evidence and header, and it resolves once', async () => {
    const r = await runAlertScenario()
    assert.deepEqual(r.problems, [])
    assert.ok(r.firedAfter !== undefined && r.firedAfter <= 15, `fired after ${r.firedAfter}`)
    assert.ok(r.resolvedAfter !== undefined && r.resolvedAfter <= 30, `resolved after ${r.resolvedAfter}`)
    assert.deepEqual(r.deliveries.map((d) => `${d.body.event} ${d.body.alert?.rule}`).sort(), [
      'fire latency_degraded',
      'fire ttft_degraded',
      'resolve latency_degraded',
      'resolve ttft_degraded',
    ])
    const hook = r.deliveries.find((d) => d.body.alert?.rule === 'latency_degraded')!
    assert.equal(hook.body.event, 'fire')
    assert.match(hook.body.text ?? '', /^\[FIRING warning\] latency_degraded mock,mock-o: latency of mock,mock-o is \d/)
    const ev = hook.body.alert!.evidence!
    assert.ok(Number(ev.ratio) >= 2 && Number(ev.ratio) <= 3.5, `ratio ${ev.ratio}`)
    assert.ok(Number(ev.baseline_ms) > 300 && Number(ev.baseline_ms) < 500, `baseline ${ev.baseline_ms}`)
  })

  it('a steady run fires nothing', async () => {
    const r = await runAlertScenario({ factor: 1 })
    assert.equal(r.firedAfter, undefined)
    assert.equal(r.deliveries.length, 0)
  })
})

describe('token drift alert in demo mode', () => {
  type AlertsView = { firing: { rule: string; subject: string }[] }
  const driftFiring = async (p: Awaited<ReturnType<typeof testProxy>>) => {
    p.insights.evaluate()
    const v = await (await p.app.request('/v1/alerts')).json() as AlertsView
    return v.firing.filter((a) => a.rule === 'token_drift_critical')
  }
  const hi = { model: 'claude-sonnet-demo', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }

  it('a fresh demo instance answering a few requests has no firing drift alert (the mock counts bytes/4)', async () => {
    const p = await testProxy({ ...demoConfigFile('http://mock.test'), LOG: false })
    try {
      for (let i = 0; i < 3; i++) assert.equal((await (await p.post('/v1/messages', hi)).text()).length > 0, true)
      const d = await (await p.app.request('/v1/token-drift')).json() as {
        tiers: Record<string, { samples: number; lastPct: number }>
      }
      const tier = Object.values(d.tiers)[0]!
      assert.equal(tier.samples, 3)
      assert.ok(Math.abs(tier.lastPct) >= 25, `the demo drift is past critical (${tier.lastPct} %), yet no alarm`)
      assert.deepEqual(await driftFiring(p), [])
    } finally {
      await p.close()
    }
  })

  it('a sustained drift still fires once the tier has Alerts.rules.drift.minSamples samples', async () => {
    const p = await testProxy({
      ...demoConfigFile('http://mock.test'),
      LOG: false,
      Alerts: { rules: { drift: { minSamples: 5 } } },
    })
    try {
      for (let i = 0; i < 4; i++) await (await p.post('/v1/messages', hi)).text()
      assert.deepEqual(await driftFiring(p), [])
      await (await p.post('/v1/messages', hi)).text()
      const firing = await driftFiring(p)
      assert.equal(firing.length, 1)
    } finally {
      await p.close()
    }
  })

  it('minSamples is bounded and reported with the path', () => {
    for (const minSamples of [0, 10_001, 2.5]) {
      const r = parseConfig(JSON.stringify(testConfigFile({ Alerts: { rules: { drift: { minSamples } } } })), {}, {
        knownTransformer,
      })
      assert.ok(!r.ok && r.error.some((e) => e.includes('Alerts.rules.drift.minSamples')), JSON.stringify(r))
    }
  })
})

describe('analysis routes', () => {
  it('GET /v1/alerts, /v1/trends, /v1/recommendations and /v1/experiments answer typed JSON', async () => {
    const p = await testProxy()
    for (let i = 0; i < 5; i++) {
      assert.equal((await p.post('/v1/messages', anthropicBody('claude-sonnet-4'))).status, 200)
    }
    const alerts = await (await p.app.request('/v1/alerts')).json() as { firing: unknown[]; history: unknown[] }
    assert.deepEqual(alerts, { firing: [], history: [] })
    const trends = await (await p.app.request('/v1/trends?window=1h')).json() as {
      window: string
      targets: { target: string; live: { requests: number }[]; trends: Record<string, unknown> }[]
    }
    assert.equal(trends.window, '1h')
    assert.deepEqual(trends.targets.map((t) => t.target), ['oai,gpt-up'])
    assert.equal(trends.targets[0]!.live.reduce((s, b) => s + b.requests, 0), 5)
    assert.deepEqual(Object.keys(trends.targets[0]!.trends).sort(), [
      'cost_per_1k_tokens',
      'latency_ms',
      'success_rate',
      'tokens_per_sec',
      'ttft_ms',
    ])
    assert.equal((await p.app.request('/v1/trends?window=2h')).status, 400)
    const recs = await (await p.app.request('/v1/recommendations')).json() as {
      scenarios: { scenario: string; current: string; candidates: { target: string; pareto: boolean }[] }[]
      note: string
    }
    assert.equal(recs.scenarios[0]!.scenario, 'default')
    assert.equal(recs.scenarios[0]!.current, 'oai,gpt-up')
    assert.deepEqual(recs.scenarios[0]!.candidates.map((c) => [c.target, c.pareto]), [['oai,gpt-up', true]])
    assert.match(recs.note, /never changes its config/)
    assert.deepEqual(await (await p.app.request('/v1/experiments')).json(), { experiments: [] })
    const metrics = await (await p.app.request('/metrics')).text()
    assert.match(metrics, /^switchyard_baseline_ratio\{target="oai,gpt-up",metric="latency"\} 1$/m)
    assert.match(metrics, /^# TYPE switchyard_alerts_firing gauge$/m)
    await p.close()
  })

  it('webhook headers and URLs are validated, and redacted in GET /api/config', async () => {
    const bad = parseConfig(
      JSON.stringify(
        testConfigFile({
          Alerts: { webhooks: [{ url: 'not a url' }], rules: { latency: { ratio: 1.2, resolveRatio: 1.5 } } },
        }),
      ),
      {},
      { knownTransformer },
    )
    assert.ok(!bad.ok)
    assert.ok(bad.error.some((e) => e.includes('Alerts.webhooks[0].url')), bad.error.join('\n'))
    assert.ok(
      bad.error.some((e) => e.includes('Alerts.rules.latency.resolveRatio') && e.includes('below ratio')),
      bad.error.join('\n'),
    )
    const raw = testConfigFile({
      APIKEY: 'k',
      Alerts: { webhooks: [{ url: 'http://127.0.0.1:9/hook', headers: { authorization: 'Bearer very-secret' } }] },
    })
    const inst = await createInstance(configOf(raw), {
      dataDir: ':memory:',
      rawConfig: raw,
      log: createLogger({ enabled: false }),
    })
    const shown = await (await inst.app.request('/api/config', { headers: { authorization: 'Bearer k' } })).text()
    assert.ok(
      shown.includes('"Alerts"') && !shown.includes('very-secret') && !shown.includes('127.0.0.1:9/hook'),
      shown,
    )
    await inst.close()
  })
})

describe('routing experiments', () => {
  const file = testConfigFile({}, {
    experiments: [{
      id: 'speed',
      scenario: 'default',
      minSamples: 10,
      arms: [{ name: 'up', target: 'oai,gpt-up', percent: 50 }, { name: 'alt', target: 'anth,mock-a', percent: 50 }],
    }],
  })

  it('a session stays on one arm, sessions split between arms, and the report has intervals', async () => {
    const p = await testProxy(file)
    const arms = new Map<string, Set<string>>()
    for (let s = 0; s < 20; s++) {
      for (let i = 0; i < 3; i++) {
        const res = await p.post('/v1/messages', anthropicBody('claude-sonnet-4', session(`s${s}`)))
        assert.equal(res.status, 200)
        const route = res.headers.get('x-switchyard-route') ?? ''
        const set = arms.get(`s${s}`) ?? new Set()
        set.add(route.includes('gpt-up') ? 'up' : 'alt')
        arms.set(`s${s}`, set)
      }
    }
    assert.ok([...arms.values()].every((s) => s.size === 1), 'every session stayed on its arm')
    const ups = [...arms.values()].filter((s) => s.has('up')).length
    assert.ok(ups > 3 && ups < 17, `${ups} of 20 sessions on arm up`)
    const report = await (await p.app.request('/v1/experiments')).json() as {
      experiments: {
        id: string
        arms: {
          name: string
          requests: number
          state: string
          latency_ms?: { low: number; high: number }
          error_rate?: { mean: number }
          tokens_per_request?: { mean: number }
        }[]
      }[]
    }
    const [exp] = report.experiments
    assert.equal(exp!.id, 'speed')
    assert.equal(exp!.arms.reduce((s, a) => s + a.requests, 0), 60)
    for (const a of exp!.arms) {
      assert.equal(a.state, 'running')
      assert.equal(a.error_rate?.mean, 0)
      assert.ok(a.latency_ms && a.latency_ms.low <= a.latency_ms.high)
      assert.ok(a.tokens_per_request && a.tokens_per_request.mean > 0)
    }
    await p.close()
  })

  it("strategy arms plan the scenario's own target with their optimization; the log line names the arm", async () => {
    const p = await testProxy(testConfigFile({}, {
      experiments: [{
        id: 'strategy',
        scenario: 'default',
        arms: [{ name: 'fast', optimization: 'latency', percent: 50 }, {
          name: 'cheap',
          optimization: 'cost',
          percent: 50,
        }],
      }],
    }))
    for (let s = 0; s < 10; s++) {
      assert.equal((await p.post('/v1/messages', anthropicBody('claude-sonnet-4', session(`z${s}`)))).status, 200)
    }
    const r = await (await p.app.request('/v1/experiments')).json() as {
      experiments: { arms: { name: string; optimization?: string; target?: string; requests: number }[] }[]
    }
    const arms = r.experiments[0]!.arms
    assert.deepEqual(arms.map((a) => [a.name, a.optimization, a.target]), [['fast', 'latency', undefined], [
      'cheap',
      'cost',
      undefined,
    ]])
    assert.equal(arms[0]!.requests + arms[1]!.requests, 10)
    assert.ok(p.logs.some((l) => l.includes('"experiment":"strategy/')))
    await p.close()
  })

  it('a matching routing rule wins over the experiment', async () => {
    const p = await testProxy(testConfigFile({}, {
      rules: [{ name: 'tagged', when: { header: { 'x-switchyard-tag': 'ci' } }, route: 'anth,mock-a' }],
      experiments: [{
        id: 'speed',
        scenario: 'default',
        arms: [{ name: 'up', target: 'oai,gpt-up', percent: 100 }, { name: 'off', target: 'oai,mock-o', percent: 0 }],
      }],
    }))
    const tagged = await p.post('/v1/messages', anthropicBody('claude-sonnet-4', session('r1')), {
      'x-switchyard-tag': 'ci',
    })
    assert.match(tagged.headers.get('x-switchyard-route') ?? '', /anth,mock-a/)
    const plain = await p.post('/v1/messages', anthropicBody('claude-sonnet-4', session('r1')))
    assert.match(plain.headers.get('x-switchyard-route') ?? '', /oai,gpt-up/)
    const r = await (await p.app.request('/v1/experiments')).json() as {
      experiments: { arms: { requests: number }[] }[]
    }
    assert.deepEqual(r.experiments[0]!.arms.map((a) => a.requests), [1, 0])
    await p.close()
  })

  it('an arm whose target fails is stopped, and its sessions move to the other arm', async () => {
    const base = testConfigFile()
    const providers = base.Providers as Record<string, unknown>[]
    const bad = testConfigFile({
      Providers: [providers[0], { ...providers[1], models: ['gpt-up', 'mock-o:status=500'] }],
    }, {
      fallbackToOtherTiers: false,
      tierRetries: { default: { max_retries: 0 } },
      experiments: [{
        id: 'risky',
        scenario: 'default',
        minSamples: 8,
        arms: [{ name: 'up', target: 'oai,gpt-up', percent: 50 }, {
          name: 'broken',
          target: 'oai,mock-o:status=500',
          percent: 50,
        }],
      }],
    })
    const p = await testProxy(bad)
    const statuses: number[] = []
    for (let s = 0; s < 60; s++) {
      statuses.push((await p.post('/v1/messages', anthropicBody('claude-sonnet-4', session(`x${s}`)))).status)
    }
    const r = await (await p.app.request('/v1/experiments')).json() as {
      experiments: { arms: { name: string; state: string; stopped_reason?: string; errors: number }[] }[]
    }
    const broken = r.experiments[0]!.arms.find((a) => a.name === 'broken')!
    assert.equal(broken.state, 'stopped')
    assert.match(broken.stopped_reason ?? '', /error rate clearly worse than arm up/)
    assert.ok(broken.errors >= 8 && broken.errors < 30, `${broken.errors} requests were spent on the broken arm`)
    // After the stop every session, also those that were on the broken arm, is served.
    assert.ok(statuses.slice(-10).every((x) => x === 200), statuses.join(','))
    assert.ok(p.logs.some((l) => l.includes('experiment arm stopped')))
    await p.close()
  })
})

describe('alerts across a config reload', () => {
  it('an alert firing before a reload is not delivered again after it, stays open in the history, and resolves once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-alert-reload-'))
    const memory = createServerMemory(Date.now)
    const hooks: string[] = []
    let up = false
    const file = testConfigFile({
      Alerts: { webhooks: [{ url: 'http://127.0.0.1:9/hook' }], rules: { successRate: { enabled: false } } },
    }, { default: 'anth,mock-a', fallbackToOtherTiers: false, breaker: { cooldownMs: 100, maxCooldownMs: 100 } })
    const build = () =>
      createInstance(configOf(file), {
        dataDir: dir,
        memory,
        log: createLogger({ enabled: false }),
        fetch: () =>
          up
            ? Promise.resolve(Response.json(anthropicAnswer('mock-a')))
            : Promise.reject(new TypeError('fetch failed')),
        webhookFetch: async (req) => {
          const body = await req.json() as { event: string; alert: { rule: string } }
          hooks.push(`${body.event} ${body.alert.rule}`)
          return new Response(null, { status: 204 })
        },
      })
    const ask = (i: { app: { request: (p: string, init: RequestInit) => Response | Promise<Response> } }) =>
      Promise.resolve(i.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(anthropicBody('claude-sonnet-4-5')),
      })).then((r) => r.text())
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10))
      assert.ok(ok(), JSON.stringify(hooks))
    }
    const first = await build()
    for (let i = 0; i < 6; i++) await ask(first)
    first.insights.evaluate()
    await until(() => hooks.length === 1)
    assert.deepEqual(hooks, ['fire breaker_open'])
    first.retire()
    const second = await build()
    await first.close()
    try {
      second.insights.evaluate()
      const view = await (await second.app.request('/v1/alerts')).json() as {
        firing: { rule: string }[]
        history: { rule: string; state: string }[]
      }
      assert.deepEqual(view.firing.map((a) => a.rule), ['breaker_open'])
      assert.deepEqual(view.history.map((a) => `${a.rule} ${a.state}`), ['breaker_open firing'])
      const metrics = await (await second.app.request('/metrics')).text()
      assert.match(
        metrics,
        /switchyard_alerts_firing\{alert="breaker_open",subject="anth,mock-a",severity="critical"\} 1/,
      )
      // The upstream is back: the breaker's probe closes it, and the alert resolves, once.
      up = true
      await new Promise((r) => setTimeout(r, 150))
      await ask(second)
      second.insights.evaluate()
      await until(() => hooks.length === 2)
      assert.deepEqual(hooks, ['fire breaker_open', 'resolve breaker_open'])
    } finally {
      await second.close()
    }
  })
})
