import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { orderByPerformance, performanceScore } from './score.ts'
import type { ActiveSample, PassiveSample, ScoreOptions } from './score.ts'

const HOUR = 3_600_000
const NOW = 10 * HOUR
const opts: ScoreOptions = {
  weights: { latency: 0.4, throughput: 0.4, reliability: 0.2 },
  thresholds: {},
  minTestCount: 3,
}
const active = (over: Partial<ActiveSample> = {}): ActiveSample => ({
  avgTtftMs: 500,
  tokensPerSec: 50,
  successRate: 1,
  lastTested: NOW,
  testCount: 5,
  ...over,
})

const activeArb = fc.record({
  avgTtftMs: fc.double({ min: 1, max: 60_000, noNaN: true }),
  tokensPerSec: fc.double({ min: 0.1, max: 2000, noNaN: true }),
  successRate: fc.double({ min: 0, max: 1, noNaN: true }),
  lastTested: fc.integer({ min: 0, max: NOW }),
  testCount: fc.integer({ min: 1, max: 100 }),
})

describe('performanceScore', () => {
  it('no data gives undefined so the caller keeps config order', () => {
    assert.equal(performanceScore({}, NOW, opts), undefined)
    assert.equal(performanceScore({ passive: { samples: 0 } }, NOW, opts), undefined)
  })
  it('law: the score lies in [0, 1]', () => {
    fc.assert(fc.property(activeArb, (a) => {
      const s = performanceScore({ active: a }, NOW, opts)!
      assert.ok(s.performance_score >= 0 && s.performance_score <= 1)
    }))
  })
  it('law: lower latency never lowers the score, higher throughput never lowers it', () => {
    fc.assert(fc.property(activeArb, fc.double({ min: 0.01, max: 1, noNaN: true }), (a, f) => {
      const base = performanceScore({ active: a }, NOW, opts)!.performance_score
      const faster = performanceScore({ active: { ...a, avgTtftMs: a.avgTtftMs * f } }, NOW, opts)!.performance_score
      const quicker =
        performanceScore({ active: { ...a, tokensPerSec: a.tokensPerSec / f } }, NOW, opts)!.performance_score
      assert.ok(faster >= base - 1e-12 && quicker >= base - 1e-12)
    }))
  })
  it('law: recent passive data outweighs older test data of the same size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 48 * HOUR }), fc.integer({ min: 0, max: 48 * HOUR }), (ageA, ageP) => {
        fc.pre(ageP <= ageA)
        const passive: PassiveSample = {
          ewmaTtftMs: 2000,
          successRate: 1,
          tokensPerSec: 50,
          samples: 5,
          lastAt: NOW - ageP,
        }
        const s = performanceScore({ active: active({ avgTtftMs: 200, lastTested: NOW - ageA }), passive }, NOW, opts)!
        assert.ok(s.metrics.passiveWeight > s.metrics.activeWeight)
        assert.ok(s.metrics.latencyMs! > 1100, `blended latency ${s.metrics.latencyMs} leans to the passive 2000`)
      }),
    )
  })
  it('fresh test data dominates passive data that is many hours old', () => {
    const passive: PassiveSample = { ewmaTtftMs: 2000, samples: 50, lastAt: NOW - 6 * HOUR }
    const s = performanceScore({ active: active({ avgTtftMs: 200 }), passive }, NOW, opts)!
    assert.ok(s.metrics.latencyMs! < 300)
  })
  it('thresholds demote a slow target and say why', () => {
    const t: ScoreOptions = {
      ...opts,
      thresholds: { maxLatencyMs: 1000, minThroughputTokensPerSec: 20, minSuccessRate: 0.9 },
    }
    const slow = performanceScore({ active: active({ avgTtftMs: 3000 }) }, NOW, t)!
    assert.equal(slow.demoted, true)
    assert.match(slow.reasons.join(), /latency 3000 ms > 1000 ms/)
    const flaky = performanceScore({ active: active({ successRate: 0.5, tokensPerSec: 5 }) }, NOW, t)!
    assert.equal(flaky.reasons.length, 2)
    assert.equal(performanceScore({ active: active() }, NOW, t)!.demoted, false)
  })
  it('uses only the components it has data for', () => {
    const s = performanceScore({ passive: { successRate: 0.5, samples: 10, lastAt: NOW } }, NOW, opts)!
    assert.equal(s.performance_score, 0.5)
    assert.deepEqual(Object.keys(s.components), ['reliability'])
  })
})

describe('orderByPerformance', () => {
  const sc = (x: number, demoted = false) => ({
    ...performanceScore({ active: active() }, NOW, opts)!,
    performance_score: x,
    demoted,
  })
  it('sorts by score with demoted targets last once all are scored', () => {
    const out = orderByPerformance([{ id: 'a', score: sc(0.2) }, { id: 'b', score: sc(0.9, true) }, {
      id: 'c',
      score: sc(0.5),
    }])
    assert.deepEqual(out.map((t) => t.id), ['c', 'a', 'b'])
  })
  it('keeps config order while some target has no data, still moving demoted ones last', () => {
    const out = orderByPerformance([{ id: 'a', score: sc(0.1, true) }, { id: 'b' }, { id: 'c', score: sc(0.9) }, {
      id: 'd',
      score: sc(0.2),
    }])
    assert.deepEqual(out.map((t) => t.id), ['b', 'c', 'd', 'a'])
  })
  it('law: the output is a permutation of the input', () => {
    fc.assert(fc.property(fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined })), (xs) => {
      const ts = xs.map((x, i) => (x === undefined ? { i } : { i, score: sc(x) }))
      assert.deepEqual(orderByPerformance(ts).map((t) => t.i).sort((a, b) => a - b), ts.map((t) => t.i))
    }))
  })
})
