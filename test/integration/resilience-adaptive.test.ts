/**
 * Adaptive routing through the real app on simulated time: breakers that open, probe and
 * close (seen at GET /v1/latencies), a primary down for 60 s and back, a tier whose latency
 * steps ×5 (and one that only spikes once), all driven by the mock's latency profile and
 * faults injected by time.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sseEvents } from './helpers.ts'
import { ask, metricValue, routeOf, simConfig, type SimProxy, simProxy } from './resilience-helpers.ts'

interface LatencyRow {
  target: string
  breaker: string
  breaker_retry_in_ms: number
  samples: number
  error_rate: number | null
}

async function latencyOf(p: SimProxy, target: string): Promise<LatencyRow | undefined> {
  const body = (await (await p.get('/v1/latencies')).json()) as { targets: LatencyRow[] }
  return body.targets.find((r) => r.target === target)
}

/** Sends one request and moves the clock to the next whole second of simulated time. */
async function tick(p: SimProxy, model = 'claude-sonnet-4', stream = false): Promise<Response> {
  const res = await p.post(ask(model, stream ? { stream: true } : {}))
  await res.clone().text()
  p.clock.advance(1_000 - ((p.clock.t - 1_000_000) % 1_000))
  return res
}

const isOai = (req: Request) => req.url.includes('/chat/completions')
const primaryAttempts = (p: SimProxy) => p.mock.attempts().filter((a) => a.baseModel === 'mock-o')

describe('resilience: circuit breaker', () => {
  it('opens after N consecutive failures, probes once after the cooldown (longer after a failed probe), closes on success', async () => {
    let down = true
    const router = {
      default: 'oai,mock-o',
      background: 'anth,mock-a',
      tierRetries: { 'tier-0': { max_retries: 0 } },
      breaker: { consecutiveFailures: 3, cooldownMs: 5_000 },
    }
    const p = await simProxy(simConfig(router), {
      inject: (req) => (down && isOai(req) ? { 'x-mock-status': '503' } : undefined),
    })
    for (let i = 0; i < 3; i++) assert.equal((await p.post(ask('claude-sonnet-4'))).status, 200)
    assert.equal((await latencyOf(p, 'oai,mock-o'))?.breaker, 'open')
    assert.equal(metricValue(await (await p.get('/metrics')).text(), 'ccr_circuit_state', { target: 'oai,mock-o' }), 2)
    assert.equal(
      routeOf(await p.post(ask('claude-sonnet-4'))).attempts,
      1,
      'an open breaker keeps requests off the target',
    )
    assert.equal(primaryAttempts(p).length, 3)
    p.clock.advance(5_000)
    await p.post(ask('claude-sonnet-4'))
    assert.equal(primaryAttempts(p).length, 4, 'one half-open probe after the cooldown')
    const reopened = await latencyOf(p, 'oai,mock-o')
    assert.equal(reopened?.breaker, 'open')
    assert.equal(reopened?.breaker_retry_in_ms, 10_000, 'the second trip doubles the cooldown')
    down = false
    p.clock.advance(10_000)
    const probe = await p.post(ask('claude-sonnet-4'))
    assert.equal(routeOf(probe).target, 'oai,mock-o')
    assert.equal((await latencyOf(p, 'oai,mock-o'))?.breaker, 'closed')
    assert.equal(metricValue(await (await p.get('/metrics')).text(), 'ccr_circuit_state', { target: 'oai,mock-o' }), 0)
    p.close()
  })
})

describe('resilience: outage and recovery', () => {
  for (const fault of [{ 'x-mock-status': '503' }, { 'x-mock-reset': '1' }] as Record<string, string>[]) {
    const name = Object.keys(fault)[0]!.slice(7)
    it(`a primary down (${name}) for 60 s is served by the fallback, then used again within 30 s of recovering`, async () => {
      const [downFrom, upAt] = [10_000, 70_000]
      const inject = (req: Request, now: number) => {
        const t = now - 1_000_000
        return isOai(req) && t >= downFrom && t < upAt ? fault : undefined
      }
      const p = await simProxy(
        simConfig({ default: 'oai,mock-o', fallbackToOtherTiers: false }, { fallback: { default: ['anth,mock-a'] } }),
        { inject },
      )
      const served: [number, number, string][] = []
      while (p.clock.t - 1_000_000 < 130_000) {
        const at = p.clock.t - 1_000_000
        const res = await tick(p)
        served.push([at, res.status, routeOf(res).target])
      }
      assert.ok(served.every(([, status]) => status === 200), 'every request answered')
      const during = served.filter(([t]) => t >= downFrom + 1_000 && t < upAt)
      assert.ok(during.every(([, , target]) => target === 'anth,mock-a'), 'the fallback serves the outage')
      const back = served.find(([t, , target]) => t >= upAt && target === 'oai,mock-o')
      assert.ok(back && back[0] - upAt <= 30_000, `primary back at +${back ? back[0] - upAt : '∞'} ms`)
      const after = served.filter(([t]) => t >= back![0])
      assert.ok(
        after.filter(([, , target]) => target === 'oai,mock-o').length >= after.length / 2,
        'and keeps its share',
      )
      const outageTries = primaryAttempts(p).filter((a) => a.t >= downFrom + 15_000 && a.t < upAt).length
      assert.ok(outageTries <= 10, `the open breaker spares the dead primary (${outageTries} tries in 45 s)`)
      p.close()
    })
  }
})

describe('resilience: recovery with sparse traffic', () => {
  /**
   * Primary 503 from `downFrom` for `outageMs`, one request every 4 s; returns how long after
   * its recovery the primary served again, and its share of the traffic after that.
   */
  async function outage(downFrom: number, outageMs: number): Promise<{ recoveredMs: number; share: number }> {
    const upAt = downFrom + outageMs
    const inject = (req: Request, now: number) => {
      const t = now - 1_000_000
      return isOai(req) && t >= downFrom && t < upAt ? { 'x-mock-status': '503' } : undefined
    }
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o', fallbackToOtherTiers: false }, { fallback: { default: ['anth,mock-a'] } }),
      { inject },
    )
    const served: [number, string][] = []
    while (p.clock.t - 1_000_000 < upAt + 240_000) {
      const at = p.clock.t - 1_000_000
      const res = await p.post(ask('claude-sonnet-4'))
      assert.equal(res.status, 200)
      await res.text()
      served.push([at, routeOf(res).target])
      p.clock.t = 1_000_000 + at + 4_000
    }
    p.close()
    const back = served.find(([t, target]) => t >= upAt && target === 'oai,mock-o')
    if (!back) return { recoveredMs: Infinity, share: 0 }
    const after = served.filter(([t]) => t >= back[0] + 20_000)
    return {
      recoveredMs: back[0] - upAt,
      share: after.filter(([, target]) => target === 'oai,mock-o').length / after.length,
    }
  }

  for (const outageMs of [60_000, 120_000]) {
    it(`a primary answering 503 for ${outageMs / 1_000} s, one request every 4 s: back within the 15 s open-interval cap + one request gap, whatever the phase`, async () => {
      const results = []
      for (let downFrom = 8_000; downFrom < 8_000 + 16_000; downFrom += 3_000) {
        results.push({ downFrom, ...(await outage(downFrom, outageMs)) })
      }
      const worst = Math.max(...results.map((r) => r.recoveredMs))
      assert.ok(worst <= 15_000 + 4_000, `recovery after ${JSON.stringify(results.map((r) => r.recoveredMs))} ms`)
      // Equal targets share the band by weighted draws: a fair share, where stickiness would be ~0.
      for (const r of results) {
        assert.ok(r.share >= 0.35, `primary share ${r.share} after recovery (phase ${r.downFrom})`)
      }
    })
  }
})

describe('resilience: a burst during an outage', () => {
  /** 40 concurrent streams while the primary resets; returns the tries the primary got. */
  async function burst(breaker: object): Promise<number> {
    const router = {
      default: 'oai,mock-o:reset',
      background: 'anth,mock-a',
      tierRetries: { 'tier-0': { max_retries: 3 } },
      breaker,
    }
    const p = await simProxy(simConfig(router))
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => p.post(ask('claude-sonnet-4', { stream: true }))),
    )
    const ends = await Promise.all(responses.map(async (r) => sseEvents(await r.text()).at(-1)?.event))
    assert.deepEqual(new Set(ends), new Set(['message_stop']), 'every stream completes on the fallback')
    p.close()
    return primaryAttempts(p).length
  }

  it('with the breaker out of the way, the global retry budget caps the retry storm (20 % of requests + 10)', async () => {
    // Without the budget: 40 × (1 + 3) = 160 tries.
    assert.equal(await burst({ consecutiveFailures: 1_000, minRequestsForRate: 1_000 }), 40 + 0.2 * 40 + 10)
  })

  it('with the default breaker, it opens on the first failures and no retry reaches the dead primary', async () => {
    assert.equal(await burst({}), 40)
  })
})

describe('resilience: latency-adaptive shares', () => {
  /** 20 warm-up rounds of default + background traffic, then 60 default-scenario requests; O = the slowed tier. */
  async function run(
    seed: number,
    profile: { fromMs: number; toMs: number },
  ): Promise<{ before: string; after: string }> {
    const p = await simProxy(simConfig({ default: 'oai,mock-o', background: 'anth,mock-a' }), {
      seed,
      mock: { defaults: { ttftMs: 200, delayMs: 20 }, profile: [{ ...profile, factor: 5, model: 'mock-o' }] },
    })
    let before = ''
    for (let i = 0; i < 20; i++) {
      before += routeOf(await tick(p, 'claude-sonnet-4', true)).target === 'oai,mock-o' ? 'O' : 'a'
      await tick(p, 'claude-3-5-haiku-latest', true)
    }
    let after = ''
    for (let i = 0; i < 60; i++) {
      after += routeOf(await tick(p, 'claude-sonnet-4', true)).target === 'oai,mock-o' ? 'O' : 'a'
    }
    p.close()
    return { before, after }
  }
  const share = (s: string) => [...s].filter((c) => c === 'O').length / s.length

  for (const seed of [7, 8, 9]) {
    it(`a tier whose latency steps ×5 loses ≥ 90 % of traffic within 50 requests (seed ${seed})`, async () => {
      const { before, after } = await run(seed, { fromMs: 40_000, toMs: Infinity })
      assert.ok(share(before) >= 0.3, `it had traffic to lose: ${before}`)
      assert.ok(share(after.slice(10, 50)) <= 0.1, `requests 10-50 after the step: ${after}`)
      assert.ok(share(after.slice(50)) <= 0.1, `and it stays away: ${after}`)
    })

    it(`a single ×5 spike does not move traffic away (seed ${seed})`, async () => {
      const { before, after } = await run(seed, { fromMs: 40_000, toMs: 40_001 })
      assert.ok(share(before) >= 0.3, before)
      assert.ok(share(after.slice(0, 30)) >= 0.3, `the spiked tier keeps its share: ${after}`)
    })
  }
})
