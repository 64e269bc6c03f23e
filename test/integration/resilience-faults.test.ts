/**
 * Upstream faults before any answer, through the real app on simulated time: what the client
 * gets, how many upstream tries it took (the mock's attempt log), and what the metrics say.
 * Faults inside streams are in resilience-streams.test.ts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sseEvents, testConfigFile, testProxy } from './helpers.ts'
import { ask, metricValue, routeOf, simConfig, type SimProxy, simProxy } from './resilience-helpers.ts'

const noTiers = { fallbackToOtherTiers: false }
const models = (p: SimProxy) => p.mock.attempts().map((a) => a.model)

/** One streamed request read to its end. */
async function tickStream(p: SimProxy): Promise<Response> {
  const res = await p.post(ask('claude-sonnet-4', { stream: true }))
  await res.clone().text()
  return res
}

describe('resilience: retries on the same target', () => {
  it('a 500 once is retried once and succeeds, counted in ccr_retries_total and ccr_failures_total', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:fail-first=1', background: 'anth,mock-a' }))
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 200)
    assert.deepEqual(routeOf(res), { target: 'oai,mock-o:fail-first=1', tier: 'tier-0', attempts: 2, fallback: 0 })
    assert.deepEqual(p.mock.attempts().map((a) => [a.model, a.outcome]), [['mock-o:fail-first=1', 'status'], [
      'mock-o:fail-first=1',
      'ok',
    ]])
    const metrics = await (await p.get('/metrics')).text()
    assert.equal(metricValue(metrics, 'ccr_retries_total', { tier: 'tier-0' }), 1)
    assert.equal(metricValue(metrics, 'ccr_failures_total', { tier: 'tier-0', reason: 'status_500' }), 1)
    p.close()
  })

  it('a connection reset is retried on the same target', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:reset:fail-first=1', background: 'anth,mock-a' }))
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    assert.equal(res.status, 200)
    assert.equal(sseEvents(await res.text()).at(-1)?.event, 'message_stop')
    assert.deepEqual(p.mock.attempts().map((a) => a.outcome), ['reset', 'ok'])
    assert.equal(routeOf(res).attempts, 2)
    const metrics = await (await p.get('/metrics')).text()
    assert.equal(metricValue(metrics, 'ccr_failures_total', { tier: 'tier-0', reason: 'upstream_network' }), 1)
    p.close()
  })

  it('a 400 is answered at once: no retry, no failover', async () => {
    const p = await simProxy(simConfig({ default: 'anth,mock-a:status=400:invalid', background: 'oai,mock-o' }))
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'invalid_request_error')
    assert.deepEqual(models(p), ['mock-a:status=400:invalid'])
    assert.equal(routeOf(res).attempts, 1)
    p.close()
  })

  for (const status of [503, 429, 529]) {
    it(`a persistent ${status} is retried max_retries times, then the fallback answers`, async () => {
      const primary = `oai,mock-o:status=${status}`
      const router = { default: primary, ...noTiers, tierRetries: { 'tier-0': { max_retries: 2 } } }
      const p = await simProxy(simConfig(router, { fallback: { default: ['anth,mock-a'] } }))
      const res = await p.post(ask('claude-sonnet-4'))
      assert.equal(res.status, 200)
      assert.deepEqual(models(p), [...Array<string>(3).fill(primary.slice(4)), 'mock-a'])
      assert.deepEqual(routeOf(res), { target: 'anth,mock-a', tier: 'fallback-0', attempts: 4, fallback: 1 })
      const metrics = await (await p.get('/metrics')).text()
      assert.equal(metricValue(metrics, 'ccr_retries_total', { tier: 'tier-0' }), 2)
      p.close()
    })
  }

  it('context_length_exceeded skips the next tier and goes to the Router longContext target', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:status=400', background: 'anth,mock-a', longContext: 'oai,mock-p' }),
    )
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 200)
    assert.deepEqual(models(p), ['mock-o:status=400', 'mock-p'])
    assert.deepEqual(routeOf(res), { target: 'oai,mock-p', tier: 'tier-2', attempts: 2, fallback: 1 })
    p.close()
  })
})

describe('resilience: Retry-After', () => {
  it('a short Retry-After is waited out: the retry arrives exactly when the upstream asked', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:status=429:retry-after=2:fail-first=1', background: 'anth,mock-a' }),
    )
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 200)
    const [first, second] = p.mock.attempts()
    assert.equal(first?.status, 429)
    assert.equal(second?.model, first?.model)
    assert.equal(second!.t - first!.t, 2_000)
    p.close()
  })

  // The primary takes 3 s to its first token: 2 s + 3 s beats a 6 s fallback, loses to a 4 s one.
  for (const [fallbackTtft, waits] of [[6_000, true], [4_000, false]] as const) {
    it(`Retry-After 2 s on a primary with a 3 s TTFT, fallback measured at ${fallbackTtft / 1_000} s: ${waits ? 'wait and retry the primary' : 'fail over at once'}`, async () => {
      let limited = false
      const fallback = `anth,mock-a:ttft=${fallbackTtft}`
      // One 429 on the primary's next call, then it answers.
      const inject = (req: Request) => {
        if (!limited || !req.url.includes('/chat/')) return undefined
        limited = false
        return { 'x-mock-status': '429', 'x-mock-retry-after': '2' }
      }
      const p = await simProxy(simConfig({ default: 'oai,mock-o:ttft=3000', background: fallback }), { inject })
      for (const model of ['oai,mock-o:ttft=3000', fallback]) {
        for (let i = 0; i < 3; i++) await (await p.post(ask(model, { stream: true }))).text()
      }
      limited = true
      const res = await p.post(ask('claude-sonnet-4', { stream: true }))
      assert.equal(sseEvents(await res.text()).at(-1)?.event, 'message_stop')
      const tries = p.mock.attempts().slice(6)
      if (waits) {
        assert.deepEqual(tries.map((a) => a.baseModel), ['mock-o', 'mock-o'])
        assert.equal(
          tries[1]!.t - tries[0]!.t,
          3_000 + 2_000,
          "the 429 came after the primary's 3 s, the retry exactly 2 s later",
        )
      } else assert.deepEqual(tries.map((a) => a.baseModel), ['mock-o', 'mock-a'])
      p.close()
    })
  }

  it('a long Retry-After fails over at once, and no request touches that target inside the window', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:status=429:retry-after=30:fail-first=1', background: 'anth,mock-a' }),
    )
    const served: string[] = []
    for (let i = 0; i < 40; i++) {
      served.push(routeOf(await p.post(ask('claude-sonnet-4'))).target)
      p.clock.advance(1_000)
    }
    const [first, ...rest] = p.mock.attempts().filter((a) => a.baseModel === 'mock-o')
    assert.equal(first?.status, 429)
    assert.equal(served[0], 'anth,mock-a', 'the first request failed over instead of waiting 30 s')
    assert.ok(rest.length > 0, 'the target is used again after the window')
    for (const a of rest) assert.ok(a.t - first!.t >= 30_000, `attempt at +${a.t - first!.t} ms is inside the window`)
    assert.equal(
      served[30],
      'oai,mock-o:status=429:retry-after=30:fail-first=1',
      'back in config order as soon as the window ends',
    )
    assert.ok(served.slice(1, 30).every((s) => s === 'anth,mock-a'))
    p.close()
  })

  it('a lone target under Retry-After: 429 with retry-after when the wait would pass the deadline, then no upstream call until it ends', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:status=429:retry-after=30', ...noTiers }, { API_TIMEOUT_MS: 10_000 }),
    )
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 429)
    assert.equal(res.headers.get('retry-after'), '30')
    p.clock.advance(10_000)
    const again = await p.post(ask('claude-sonnet-4'))
    assert.equal(again.status, 429)
    assert.equal(again.headers.get('retry-after'), '20')
    assert.equal(p.mock.attempts().length, 1, 'the held target was not called again')
    p.close()
  })
})

describe('resilience: timeouts', () => {
  it('a hung stream is bounded by firstTokenTimeoutMs and fails over without retrying the silent target', async () => {
    const router = {
      default: 'oai,mock-o:hang',
      background: 'anth,mock-a',
      firstTokenTimeoutMs: 40,
      connectTimeoutMs: 5_000,
    }
    const p = await simProxy(simConfig(router))
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    assert.equal(res.status, 200)
    assert.equal(sseEvents(await res.text()).at(-1)?.event, 'message_stop')
    assert.deepEqual(p.mock.attempts().map((a) => [a.model, a.outcome]), [['mock-o:hang', 'aborted'], ['mock-a', 'ok']])
    const metrics = await (await p.get('/metrics')).text()
    assert.equal(
      metricValue(metrics, 'ccr_failures_total', { tier: 'tier-0', reason: 'timeout_first_token' }),
      1,
      'timeouts are counted with their phase',
    )
    p.close()
  })

  it('a hung JSON call is bounded by firstTokenTimeoutMs plus max_tokens at the floor rate, and fails over', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:hang', background: 'anth,mock-a', firstTokenTimeoutMs: 40 }),
    )
    const res = await p.post(ask('claude-sonnet-4', { max_tokens: 1 }))
    assert.equal(res.status, 200)
    assert.deepEqual(p.mock.attempts().map((a) => [a.baseModel, a.outcome]), [['mock-o', 'aborted'], ['mock-a', 'ok']])
    assert.deepEqual(routeOf(res), { target: 'anth,mock-a', tier: 'tier-1', attempts: 2, fallback: 1 })
    p.close()
  })

  it('a hung JSON call on a lone target is bounded by API_TIMEOUT_MS: 504, one attempt, nothing tried past the deadline', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:hang', ...noTiers }, { API_TIMEOUT_MS: 50 }))
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 504)
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'timeout_error')
    assert.deepEqual(p.mock.attempts().map((a) => a.outcome), ['aborted'])
    p.close()
  })

  it('a silent target with a fallback after it gets half the deadline, so the fallback still answers inside API_TIMEOUT_MS', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:hang', background: 'anth,mock-a' }, { API_TIMEOUT_MS: 200 }),
    )
    const res = await p.post(ask('claude-sonnet-4', { max_tokens: 32_000 }))
    assert.equal(res.status, 200)
    assert.deepEqual(
      p.mock.attempts().map((a) => [a.baseModel, a.outcome]),
      [['mock-o', 'aborted'], ['mock-a', 'ok']],
      'never retried on the same route',
    )
    assert.deepEqual(routeOf(res), { target: 'anth,mock-a', tier: 'tier-1', attempts: 2, fallback: 1 })
    p.close()
  })

  it('the first-event timeout adapts: a warm primary that goes quiet is left at its floor, not at firstTokenTimeoutMs', async () => {
    let quiet = false
    const router = {
      default: 'oai,mock-o:ttft=50',
      background: 'anth,mock-a',
      firstTokenTimeoutMs: 60_000,
      firstTokenFloorMs: 100,
    }
    const p = await simProxy(simConfig(router), {
      inject: (req) => (quiet && req.url.includes('/chat/') ? { 'x-mock-stall': '0' } : undefined),
    })
    for (let i = 0; i < 4; i++) assert.equal(routeOf(await tickStream(p)).target, 'oai,mock-o:ttft=50')
    quiet = true
    const res = await tickStream(p)
    assert.equal(routeOf(res).target, 'anth,mock-a', 'the fallback answered after the adaptive bound, long before 60 s')
    assert.deepEqual(p.mock.attempts().slice(-2).map((a) => [a.baseModel, a.outcome]), [['mock-o', 'aborted'], [
      'mock-a',
      'ok',
    ]])
    p.close()
  })

  it('retries stop at the client deadline: no try starts that could not finish before API_TIMEOUT_MS', async () => {
    const router = {
      default: 'oai,mock-o:status=500:ttft=3000',
      ...noTiers,
      tierRetries: { 'tier-0': { max_retries: 10, base_backoff_ms: 10 } },
    }
    const p = await simProxy(simConfig(router, { API_TIMEOUT_MS: 10_000 }))
    const start = p.clock.t - 1_000_000
    const res = await p.post(ask('claude-sonnet-4'))
    assert.equal(res.status, 500)
    const tries = p.mock.attempts()
    assert.ok(tries.length >= 2 && tries.length <= 3, `${tries.length} tries`)
    for (const a of tries) {
      assert.ok(a.t + 3_000 <= start + 10_000, `a try at +${a.t - start} ms could not finish in time`)
    }
    p.close()
  })
})

describe('resilience: the production composition (createInstance, real clock and timers)', () => {
  it('a 429 with a 50 ms Retry-After is waited out and retried; /v1/latencies and /metrics show it', async () => {
    const p = await testProxy(testConfigFile({}, { default: 'oai,mock-o:status=429:retry-after=0.05:fail-first=1' }))
    const res = await p.post('/v1/messages', ask('claude-sonnet-4'))
    assert.equal(res.status, 200)
    const [first, second] = p.mock.attempts()
    assert.equal(first?.status, 429)
    assert.ok(second!.t - first!.t >= 45, `retried after ${second!.t - first!.t} ms`)
    const rows = ((await (await p.app.request('/v1/latencies')).json()) as {
      targets: { target: string; samples: number; error_rate: number }[]
    }).targets
    assert.deepEqual(rows.filter((r) => r.target.startsWith('oai,mock-o')).map((r) => [r.samples, r.error_rate]), [[
      2,
      0.5,
    ]])
    assert.equal(
      metricValue(await (await p.app.request('/metrics')).text(), 'ccr_retries_total', { tier: 'tier-0' }),
      1,
    )
    await p.close()
  })
})
