import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../config/load.ts'
import type { Config } from '../config/types.ts'
import { knownTransformer } from '../formats/index.ts'
import { ProviderLimiter } from '../resilience/limiter.ts'
import { RoutingStats } from './target-stats.ts'
import {
  configuredPrices,
  createRoutingEngine,
  explainPlan,
  isContextOverflow,
  type RoutingParts,
  UNKNOWN_TARGET_EXPECTED_MS,
} from './routing-engine.ts'
import type { PlannedTarget } from './contract.ts'

function configWith(router: Record<string, unknown> = {}, providers: Record<string, object> = {}): Config {
  const file = {
    Providers: [
      {
        name: 'a',
        api_base_url: 'http://a.test/v1/chat/completions',
        api_key: 'k',
        models: ['m1', 'm2'],
        ...providers.a,
      },
      { name: 'b', api_base_url: 'http://b.test/v1/chat/completions', api_key: 'k', models: ['m3'], ...providers.b },
    ],
    Router: { default: 'a,m1', background: 'b,m3', longContext: 'a,m2', ...router },
  }
  const r = parseConfig(JSON.stringify(file), {}, { knownTransformer })
  if (!r.ok) throw new Error(r.error.join('; '))
  return r.value.config
}

function engineOf(config: Config, t = { now: 0 }) {
  const stats = new RoutingStats({
    ewmaAlpha: config.router.ewmaAlpha,
    failurePenalty: config.router.failurePenalty,
    breaker: config.router.breaker,
  })
  const limiter = new ProviderLimiter(Object.fromEntries(config.providers.map((p) => [p.name, p.limits])))
  const parts: RoutingParts = { config, stats, limiter, now: () => t.now, random: () => 0.5 }
  return { engine: createRoutingEngine(parts), stats, limiter, parts, t }
}

/** Records one successful attempt of `ms` on `key`. */
function measure(stats: RoutingStats, key: string, ms: number, at = 0): void {
  stats.begin(key, at).succeed(at + ms)
}

const limited = (ms: number) => ({ kind: 'rate_limited' as const, target: 'a,m1', retryAfterMs: ms })

describe('routing engine: decide', () => {
  const config = configWith({ tierRetries: { 'tier-0': { max_retries: 3 } } })
  const { engine, stats } = engineOf(config)
  const plan = engine.plan('default', 'a,m1')
  const [first, next] = plan as [PlannedTarget, PlannedTarget]

  it('a Retry-After longer than the next target is expected to take fails over; a shorter one is waited out', () => {
    measure(stats, next.key, 800)
    assert.deepEqual(engine.decide(limited(2_000), 0, first, 60_000, next), { action: 'failover' })
    assert.deepEqual(engine.decide(limited(500), 0, first, 60_000, next), { action: 'retry', delayMs: 500 })
  })

  it(`an unmeasured next target counts as ${UNKNOWN_TARGET_EXPECTED_MS} ms; with no next target the wait is honoured`, () => {
    const fresh = engineOf(config).engine
    const unknown = { ...next, key: 'b,unmeasured' }
    assert.deepEqual(fresh.decide(limited(UNKNOWN_TARGET_EXPECTED_MS + 1), 0, first, 60_000, unknown), {
      action: 'failover',
    })
    assert.deepEqual(fresh.decide(limited(UNKNOWN_TARGET_EXPECTED_MS - 1), 0, first, 60_000, unknown), {
      action: 'retry',
      delayMs: UNKNOWN_TARGET_EXPECTED_MS - 1,
    })
    assert.deepEqual(fresh.decide(limited(30_000), 0, first, 60_000), { action: 'retry', delayMs: 30_000 })
  })

  it('never waits past the client deadline', () => {
    assert.deepEqual(engineOf(config).engine.decide(limited(30_000), 0, first, 10_000), { action: 'failover' })
  })

  it('a target with failures only (an empty EWMA) is expected to take as long as its last try', () => {
    const t = { now: 0 }
    const { engine: e } = engineOf(config, t)
    const err = { kind: 'upstream_status' as const, target: first.key, status: 500, message: 'boom' }
    const timer = e.begin(first)
    t.now = 3_000
    timer.finish({ ok: false, error: err })
    assert.equal(e.decide(err, 0, first, 2_900).action, 'failover', 'a retry would need ~3 s with 2.9 s left')
    assert.equal(e.decide(err, 0, first, 60_000).action, 'retry')
  })

  it('the global retry budget turns retries into failovers once spent', () => {
    const c = configWith({ retryBudgetRatio: 0, tierRetries: { 'tier-0': { max_retries: 100 } } })
    const e = engineOf(c).engine
    const t = e.plan('default', 'a,m1')[0]!
    const err = { kind: 'upstream_network' as const, target: t.key, message: 'reset' }
    const actions = Array.from({ length: 12 }, (_, n) => e.decide(err, n, t, 600_000).action)
    // retryBudgetParams keeps a floor of 10 retries per window even at ratio 0.
    assert.deepEqual(actions, [...Array<string>(10).fill('retry'), 'failover', 'failover'])
  })
})

describe('routing engine: plan and admission', () => {
  it('a target under an upstream Retry-After goes last in the plan and is refused with the time left', async () => {
    const { engine, t } = engineOf(configWith())
    const [a] = engine.plan('default', 'a,m1') as [PlannedTarget]
    engine.decide(limited(4_000), 0, a, 600_000)
    t.now = 1_000
    assert.deepEqual(engine.plan('default', 'a,m1').map((p) => p.key), ['b,m3', 'a,m2', 'a,m1'])
    const refused = await engine.admit(a, 10)
    assert.equal(refused.ok, false)
    assert.deepEqual(
      !refused.ok && refused.error.kind === 'rate_limited' ? refused.error.retryAfterMs : undefined,
      3_000,
    )
    t.now = 4_000
    assert.equal(engine.plan('default', 'a,m1')[0]?.key, 'a,m1')
    assert.equal((await engine.admit(a, 10)).ok, true)
  })

  it('a provider over its rpm is dropped from the plan while another can serve, and listed with the reason', async () => {
    const { engine, parts } = engineOf(configWith({}, { a: { rpm: 1 } }))
    const a = engine.plan('default', 'a,m1')[0]!
    assert.equal((await engine.admit(a, 1)).ok, true)
    assert.deepEqual(engine.plan('default', 'a,m1').map((p) => p.key), ['b,m3'])
    const explained = explainPlan(parts, { scenario: 'default', target: 'a,m1' })
    assert.equal(explained.kind, 'ready')
    assert.deepEqual(explained.kind === 'ready' ? explained.dropped.map((d) => [d.target, d.skip?.reason]) : [], [[
      'a,m1',
      'rate_limited',
    ], ['a,m2', 'rate_limited']])
  })
})

describe('routing engine: reroute after context overflow', () => {
  const overflow = {
    kind: 'upstream_status' as const,
    target: 'a,m1',
    status: 400,
    message: 'too long',
    code: 'context_length_exceeded',
  }
  const { engine } = engineOf(configWith())
  const [, ...rest] = engine.plan('default', 'a,m1')

  it('moves the Router longContext target first', () => {
    assert.deepEqual(rest.map((p) => p.key), ['b,m3', 'a,m2'])
    assert.deepEqual(engine.reroute!(overflow, rest, ['a,m1']).map((p) => p.key), ['a,m2', 'b,m3'])
  })

  it('adds it when the plan does not list it (fallbackToOtherTiers off) and leaves other errors alone', () => {
    assert.deepEqual(engine.reroute!(overflow, [], ['a,m1']).map((p) => [p.key, p.tier]), [['a,m2', 'tier-2']])
    assert.deepEqual(engine.reroute!({ ...overflow, code: 'other' }, rest, ['a,m1']).map((p) => p.key), [
      'b,m3',
      'a,m2',
    ])
    assert.deepEqual(
      engine.reroute!(overflow, rest, ['a,m1', 'a,m2']).map((p) => p.key),
      ['b,m3', 'a,m2'],
      'never back to a target that already overflowed',
    )
  })

  it('isContextOverflow reads the upstream code', () => {
    assert.equal(isContextOverflow(overflow), true)
    assert.equal(isContextOverflow({ ...overflow, code: undefined }), false)
  })
})

describe('routing engine: prices', () => {
  it('blends configured prices 3:1 input to output per provider,model, and unknown models have none', () => {
    const prices = configuredPrices(configWith({}, { a: { pricing: { input_per_million: 4, output_per_million: 8 } } }))
    assert.equal(prices.get('a,m1'), 5)
    assert.equal(prices.get('a,m2'), 5)
    assert.equal(prices.has('b,m3'), false)
  })

  it('with optimization "cost", the cheaper of two equally fast measured targets ranks first', () => {
    const config = configWith({ optimization: 'cost', fallbackToOtherTiers: true }, {
      a: { pricing: { input_per_million: 10, output_per_million: 30 } },
      b: { pricing: { input_per_million: 1, output_per_million: 2 } },
    })
    const { stats, parts } = engineOf(config)
    for (const key of ['a,m1', 'b,m3', 'a,m2']) for (let i = 0; i < 3; i++) measure(stats, key, 100)
    // Whatever the random draw: equal speed leaves price as the only difference, and it is wider than the sharing band.
    for (const r of [0, 0.25, 0.5, 0.75, 0.99]) {
      const plan = explainPlan({ ...parts, random: () => r }, { scenario: 'default', target: 'a,m1' })
      assert.equal(plan.kind === 'ready' ? plan.ordering : '', 'score')
      assert.equal(plan.targets[0]?.target, 'b,m3', `random ${r}`)
    }
  })
})
