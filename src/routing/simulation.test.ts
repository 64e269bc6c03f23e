/**
 * End-to-end behaviour of the routing maths without HTTP: the stats table, the planner and
 * the breaker driven by a simulated clock and seeded randomness, one request after another.
 * These are the adaptive-routing scenarios in miniature.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildCandidates, planRoute } from './plan.ts'
import { RoutingStats } from './target-stats.ts'
import { routerConfig } from '../../test/arbitraries/routing.ts'
import { seededRandom } from '../lib/rng.ts'

const cfg = routerConfig({ default: 'a,x', background: 'b,y', think: undefined, minSamples: 3, ewmaAlpha: 0.3 })
const cands = buildCandidates('a,x', 'default', cfg)

interface World {
  /** Latency of `target` at request `i`, or 'down' when it fails fast. */
  readonly latency: (target: string, i: number, now: number) => number | 'down'
}

/** Runs `n` requests; returns which target served each one. */
function run(
  world: World,
  n: number,
  seed: number,
  stats = new RoutingStats(cfg),
  start = 0,
): { served: string[]; end: number } {
  const random = seededRandom(seed)
  const served: string[] = []
  let now = start
  for (let i = 0; i < n; i++) {
    const plan = planRoute(cands, { stats: stats.all(now) }, { cfg, now, random })
    for (const t of plan.targets) {
      if (!stats.allows(t.target, now).allowed) continue
      const a = stats.begin(t.target, now)
      const l = world.latency(t.target, i, now)
      if (l === 'down') {
        now += 5
        a.fail(now, 'network')
        continue
      }
      now += l
      a.succeed(now)
      served.push(t.target)
      break
    }
    now += 20
  }
  return { served, end: now }
}

const share = (xs: readonly string[], t: string) => xs.filter((x) => x === t).length / Math.max(1, xs.length)

describe('adaptive routing simulation', () => {
  it('shares traffic between two equally fast tiers', () => {
    const { served } = run({ latency: () => 200 }, 300, 1)
    const a = share(served.slice(50), 'a,x')
    assert.ok(a > 0.3 && a < 0.7, `a share ${a}`)
  })

  it('a tier whose latency steps ×5 loses ≥ 90 % of the traffic within 50 requests', () => {
    const stepAt = 100
    const { served } = run({ latency: (t, i) => (t === 'a,x' && i >= stepAt ? 1_000 : 200) }, stepAt + 150, 2)
    const after = served.slice(stepAt + 50, stepAt + 150)
    assert.ok(share(after, 'a,x') <= 0.1, `a share after the step ${share(after, 'a,x')}`)
  })

  it('does not flap on single spikes', () => {
    const spikes = new Set([60, 61, 120, 180])
    const base = run({ latency: () => 200 }, 240, 3).served
    const spiky = run({ latency: (t, i) => (t === 'a,x' && spikes.has(i) ? 1_000 : 200) }, 240, 3).served
    const a0 = share(base.slice(60), 'a,x')
    const a1 = share(spiky.slice(60), 'a,x')
    assert.ok(a1 > 0.3 && Math.abs(a1 - a0) < 0.15, `share without spikes ${a0}, with ${a1}`)
  })

  it('serves from the fallback while the primary is down, and returns within 30 s of its recovery', () => {
    const downFrom = 20_000
    const downTo = 80_000
    const world: World = {
      latency: (t, _i, now) => (t === 'a,x' && now >= downFrom && now < downTo ? 'down' : t === 'a,x' ? 150 : 400),
    }
    const trace: { at: number; target: string }[] = []
    const s2 = new RoutingStats(cfg)
    let now = 0
    for (let k = 0; k < 2_000 && now < downTo + 40_000; k++) {
      const r = run(world, 1, 100 + k, s2, now)
      trace.push({ at: now, target: r.served[0] ?? 'none' })
      now = r.end
    }
    const during = trace.filter((x) => x.at > downFrom + 2_000 && x.at < downTo)
    assert.ok(during.length > 0 && during.every((x) => x.target === 'b,y'), 'fallback serves during the outage')
    const back = trace.find((x) => x.at >= downTo && x.target === 'a,x')
    assert.ok(back && back.at - downTo <= 30_000, `primary back at ${back?.at}`)
    const late = trace.filter((x) => x.at > (back?.at ?? 0) + 2_000).map((x) => x.target)
    assert.ok(late.length > 20 && share(late, 'a,x') > 0.8, `primary share after its return ${share(late, 'a,x')}`)
  })
})
