import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { buildCandidates, planRoute } from './plan.ts'
import type { PlanView } from './plan.ts'
import type { TargetSnapshot } from './types.ts'
import { routerConfig } from '../../test/arbitraries/routing.ts'
import { seededRandom } from '../lib/rng.ts'

const cfg = routerConfig({
  default: 'a,x',
  background: 'b,y',
  think: 'c,z',
  tierRetries: { 'tier-1': { maxRetries: 9, baseBackoffMs: 1, backoffMultiplier: 1, maxBackoffMs: 1 } },
})
const cands = buildCandidates('a,x', 'default', cfg)
const closed = { kind: 'closed', consecutiveFailures: 0, trips: 0, since: 0 } as const
const snap = (key: string, over: Partial<TargetSnapshot> = {}): TargetSnapshot => ({
  key,
  samples: 10,
  successes: 10,
  errors: 0,
  inFlight: 0,
  breaker: closed,
  lastFinishedAt: 1_000,
  ...over,
})
const view = (snaps: readonly TargetSnapshot[], extra: Partial<PlanView> = {}): PlanView => ({
  stats: new Map(snaps.map((s) => [s.key, s])),
  tuning: { exploreShare: 0 },
  ...extra,
})
const keys = (p: ReturnType<typeof planRoute>) => p.targets.map((t) => t.target)

describe('planRoute', () => {
  it('keeps config order until every candidate has minSamples', () => {
    const p = planRoute(
      cands,
      view([
        snap('a,x', { latencyMs: 5_000 }),
        snap('b,y', { latencyMs: 10, samples: 2 }),
        snap('c,z', { latencyMs: 10 }),
      ]),
      { cfg, now: 1_000, random: seededRandom(1) },
    )
    assert.equal(p.kind === 'ready' && p.ordering, 'config')
    assert.deepEqual(keys(p), ['a,x', 'b,y', 'c,z'])
  })

  it('orders by score once warm, and carries score, components and the tier retry policy', () => {
    const p = planRoute(
      cands,
      view([snap('a,x', { latencyMs: 5_000 }), snap('b,y', { latencyMs: 100 }), snap('c,z', { latencyMs: 900 })]),
      { cfg, now: 1_000, random: seededRandom(1) },
    )
    assert.equal(p.kind === 'ready' && p.ordering, 'score')
    assert.deepEqual(keys(p), ['b,y', 'c,z', 'a,x'])
    const b = p.targets[0]
    assert.equal(b?.components.latency, 1)
    assert.equal(b?.retry.maxRetries, 9)
    assert.equal(p.targets[1]?.retry, cfg.defaultRetry)
  })

  it('law: a target the client named (explicit, subagent, custom) stays first however slow it measures; the rest is reordered', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('explicit', 'subagent', 'custom'),
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (scenario, slow, fast) => {
          const named = buildCandidates('c,z', scenario as 'explicit', cfg)
          const p = planRoute(
            named,
            view([
              snap('a,x', { latencyMs: fast }),
              snap('b,y', { latencyMs: fast + 1 }),
              snap('c,z', { latencyMs: slow + fast }),
            ]),
            { cfg, now: 1_000, random: seededRandom(2) },
          )
          return p.kind === 'ready' && keys(p)[0] === 'c,z' && keys(p).length === 3
        },
      ),
    )
    // A routed scenario's primary is not pinned: a much faster tier goes first once warm.
    const routed = planRoute(
      buildCandidates('c,z', 'think', cfg),
      view([snap('a,x', { latencyMs: 50 }), snap('b,y', { latencyMs: 60 }), snap('c,z', { latencyMs: 9_000 })]),
      { cfg, now: 1_000, random: seededRandom(2) },
    )
    assert.notEqual(keys(routed)[0], 'c,z')
  })

  it('without live samples, orders by the performance score of active tests; a demoted one goes last even with the best score', () => {
    const cold = [snap('a,x', { samples: 0 }), snap('b,y', { samples: 0 }), snap('c,z', { samples: 0 })]
    const performance = new Map([
      ['a,x', { performance_score: 0.2, demoted: false }],
      ['b,y', { performance_score: 0.9, demoted: true }],
      ['c,z', { performance_score: 0.6, demoted: false }],
    ])
    const p = planRoute(cands, view(cold, { performance }), { cfg, now: 1_000, random: seededRandom(1) })
    assert.equal(p.kind === 'ready' && p.ordering, 'performance')
    assert.deepEqual(keys(p), ['c,z', 'a,x', 'b,y'])
    assert.equal(p.targets[0]?.performanceScore, 0.6)
    // One target never tested: no complete data, so config order stays.
    const partial = planRoute(cands, view(cold, { performance: new Map([...performance].slice(1)) }), {
      cfg,
      now: 1_000,
      random: seededRandom(1),
    })
    assert.equal(partial.kind === 'ready' && partial.ordering, 'config')
  })

  it('puts demoted targets last whatever their score', () => {
    const c = routerConfig({ ...cfg, thresholds: { minSuccessRate: 0.8 } })
    const p = planRoute(
      cands,
      view([
        snap('a,x', { latencyMs: 100 }),
        snap('b,y', { latencyMs: 50, successes: 1, errors: 9 }),
        snap('c,z', { latencyMs: 400 }),
      ]),
      { cfg: c, now: 1_000, random: seededRandom(2) },
    )
    assert.deepEqual(keys(p), ['a,x', 'c,z', 'b,y'])
    assert.match(p.targets[2]?.reason ?? '', /minSuccessRate/)
  })

  it('drops open breakers and rate-limited providers', () => {
    const open = { kind: 'open', until: 5_000, trips: 1 } as const
    const p = planRoute(
      cands,
      view([snap('a,x', { breaker: open })], { limited: new Map([['b', { reason: 'rpm', retryInMs: 700 }]]) }),
      { cfg, now: 1_000, random: seededRandom(3) },
    )
    assert.equal(p.kind, 'ready')
    assert.deepEqual(keys(p), ['c,z'])
    assert.deepEqual(p.kind === 'ready' && p.dropped.map((d) => [d.target, d.skip?.reason]), [['a,x', 'circuit_open'], [
      'b,y',
      'rate_limited',
    ]])
  })

  it('returns every candidate in order with the reason when all are dropped', () => {
    const open = (until: number) => ({ kind: 'open', until, trips: 1 }) as const
    const p = planRoute(
      cands,
      view([
        snap('a,x', { breaker: open(9_000) }),
        snap('b,y', { breaker: open(3_000) }),
        snap('c,z', { breaker: open(4_000) }),
      ]),
      { cfg, now: 1_000, random: seededRandom(4) },
    )
    assert.equal(p.kind, 'exhausted')
    assert.deepEqual(keys(p), ['a,x', 'b,y', 'c,z'])
    assert.equal(p.kind === 'exhausted' && p.reason, 'circuit_open')
    assert.equal(p.kind === 'exhausted' && p.retryInMs, 2_000)
  })

  it('lets a target through again once its cooldown has passed', () => {
    const p = planRoute(cands, view([snap('a,x', { breaker: { kind: 'open', until: 900, trips: 1 } })]), {
      cfg,
      now: 1_000,
      random: seededRandom(5),
    })
    assert.deepEqual(keys(p), ['a,x', 'b,y', 'c,z'])
  })

  it('puts a half-open target first so its probe happens at once', () => {
    const snaps = [
      snap('a,x', { latencyMs: 100 }),
      snap('b,y', { latencyMs: 100 }),
      snap('c,z', { latencyMs: 900, breaker: { kind: 'open', until: 500, trips: 1 } }),
    ]
    assert.equal(planRoute(cands, view(snaps), { cfg, now: 1_000, random: seededRandom(6) }).targets[0]?.target, 'c,z')
    assert.notEqual(planRoute(cands, view(snaps), { cfg, now: 400, random: seededRandom(6) }).targets[0]?.target, 'c,z')
  })

  it('explores a cold target with a capped share once the first target is measured', () => {
    const r = seededRandom(8)
    const snaps = view([snap('a,x', { latencyMs: 100 })], { tuning: { exploreShare: 0.2 } })
    const firsts = Array.from(
      { length: 1_000 },
      () => planRoute(cands, snaps, { cfg, now: 1_000, random: r }).targets[0]?.target,
    )
    const moved = firsts.filter((t) => t !== 'a,x').length
    assert.ok(moved > 120 && moved < 280, `moved ${moved}`)
  })

  it('property: ordering is stable (config order) without data', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom('a,x', 'b,y', 'c,z', 'd,w', 'e,v'), { minLength: 1 }),
        fc.integer(),
        (targets, seed) => {
          const cs = targets.map((target, i) => ({ target, tier: `tier-${i}`, source: 'tier' as const }))
          return keys(planRoute(cs, { stats: new Map() }, { cfg, now: 0, random: seededRandom(seed) })).join('|') ===
            targets.join('|')
        },
      ),
    )
  })

  it('property: the plan never contains an open breaker unless it is exhausted', () => {
    const snapArb = fc.record({
      open: fc.boolean(),
      samples: fc.nat(10),
      latencyMs: fc.integer({ min: 1, max: 5_000 }),
    })
    fc.assert(fc.property(fc.array(snapArb, { minLength: 3, maxLength: 3 }), fc.integer(), (xs, seed) => {
      const snaps = cands.map((c, i) => {
        const x = xs[i] ?? { open: false, samples: 0, latencyMs: 1 }
        return snap(c.target, {
          samples: x.samples,
          latencyMs: x.latencyMs,
          breaker: x.open ? { kind: 'open', until: 10_000, trips: 1 } : closed,
        })
      })
      const p = planRoute(cands, view(snaps), { cfg, now: 1_000, random: seededRandom(seed) })
      const anyOpen = p.targets.some((t) => t.skip?.reason === 'circuit_open')
      return p.kind === 'exhausted' ? p.targets.length === 3 : !anyOpen && p.targets.length + p.dropped.length === 3
    }))
  })
})
