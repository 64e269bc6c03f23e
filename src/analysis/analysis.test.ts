import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { armAt, sessionPoint } from './experiments.ts'
import { addSample, clearlyWorse, meanInterval, NO_MOMENTS, wilson } from './intervals.ts'
import { type Candidate, dominates, paretoFrontier, suggest } from './pareto.ts'
import { changePoints, hourOfWeek, hourOfWeekLabel, slopePerHour, slowHours } from './trends.ts'
import { seededRandom } from '../lib/rng.ts'

const SEED = 18
const HOUR = 3_600_000

describe('trends', () => {
  it('slope per hour of a straight line is its gradient', () => {
    const pts = [0, 1, 2, 3].map((h) => ({ t: h * HOUR, v: 100 + 25 * h }))
    assert.equal(slopePerHour(pts), 25)
    assert.equal(slopePerHour(pts.slice(0, 1)), undefined)
  })

  it('finds the change point of a ×3 step and none on a flat noisy series', () => {
    const r = seededRandom(4)
    const flat = Array.from({ length: 120 }, (_, i) => ({ t: i * 60_000, v: 800 * (1 + 0.1 * (r() - 0.5)) }))
    assert.deepEqual(changePoints(flat), [])
    const step = flat.map((p, i) => (i >= 60 ? { ...p, v: p.v * 3 } : p))
    const cps = changePoints(step)
    assert.equal(cps.length, 1)
    assert.equal(cps[0]!.direction, 'up')
    assert.ok(cps[0]!.t >= 60 * 60_000 && cps[0]!.t <= 63 * 60_000, `at ${cps[0]!.t}`)
    assert.ok(cps[0]!.ratio > 2.5 && cps[0]!.ratio < 3.5)
  })

  it('hour of week: Monday 00:00 UTC is 0, a Tuesday 14:00 UTC is 38', () => {
    assert.equal(hourOfWeek(Date.UTC(2026, 10, 30, 0, 30)), 0) // Mon 30 Nov 2026
    assert.equal(hourOfWeek(Date.UTC(2026, 11, 1, 14, 59)), 38)
    assert.equal(hourOfWeekLabel(38), 'Tue 14:00 UTC')
    assert.equal(hourOfWeek(Date.UTC(2026, 11, 6, 23, 0)), 167)
  })

  it('hour of week agrees with the Date it replaced, before the epoch and on fractional milliseconds too', () => {
    const byDate = (t: number) => {
      const d = new Date(t)
      return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours()
    }
    const H = 3_600_000
    for (
      const t of [
        0,
        -1,
        -0.5,
        -H,
        -H - 0.5,
        H - 0.5,
        H,
        1e12 + 0.25,
        Date.UTC(1969, 6, 20, 20, 17),
        Date.UTC(2100, 0, 1),
      ]
    ) {
      assert.equal(hourOfWeek(t), byDate(t), `at ${t}`)
    }
  })

  it('slow hours: an hour at ≥ 1.5× the median of the hourly means', () => {
    const profile = Array.from({ length: 10 }, (_, hour) => ({ hour, mean: hour === 7 ? 2_000 : 800, samples: 5 }))
    assert.deepEqual(slowHours(profile).map((b) => b.hour), [7])
  })
})

describe('Pareto frontier', () => {
  const c = (
    target: string,
    latencyMs: number,
    successRate: number,
    costPer1k?: number,
    tokensPerSec?: number,
  ): Candidate => ({
    target,
    latencyMs,
    successRate,
    requests: 50,
    ...(costPer1k === undefined ? {} : { costPer1k }),
    ...(tokensPerSec === undefined ? {} : { tokensPerSec }),
  })

  it('property: no frontier member is dominated, and every other candidate is dominated by a member', () => {
    const arb = fc.array(
      fc.record({
        latencyMs: fc.integer({ min: 1, max: 5000 }),
        successRate: fc.double({ min: 0, max: 1, noNaN: true }),
        costPer1k: fc.double({ min: 0, max: 1, noNaN: true }),
        tokensPerSec: fc.integer({ min: 1, max: 200 }),
      }),
      { maxLength: 12 },
    )
    fc.assert(
      fc.property(arb, (rows) => {
        const cs = rows.map((r, i) => ({ ...r, target: `p,m${i}`, requests: 10 }))
        const f = paretoFrontier(cs)
        return f.every((x) => !cs.some((o) => dominates(o, x))) &&
          cs.filter((x) => !f.includes(x)).every((x) => f.some((m) => dominates(m, x)))
      }),
      { seed: SEED },
    )
  })

  it('suggests a faster, cheaper target with the same success rate, with its evidence in the text', () => {
    const all = [
      c('deepseek,deepseek-reasoner', 1_000, 0.99, 0.4),
      c('anthropic,claude-opus', 2_100, 0.99, 1),
      c('x,slow', 5_000, 0.5, 2),
    ]
    const s = suggest(paretoFrontier(all), all, {
      scenario: 'think',
      current: 'anthropic,claude-opus',
      windowLabel: '7 days',
    })
    assert.ok(s)
    assert.equal(s.suggested, 'deepseek,deepseek-reasoner')
    assert.equal(
      s.text,
      'think: deepseek,deepseek-reasoner is 2.1× faster at 40 % of the cost of anthropic,claude-opus over 7 days with the same success rate; consider making it the think target',
    )
  })

  it('suggests nothing when the current target is on the frontier and no one beats it clearly', () => {
    const all = [c('a,fast-pricey', 500, 0.99, 2), c('b,slow-cheap', 900, 0.99, 1)]
    assert.equal(
      suggest(paretoFrontier(all), all, { scenario: 'default', current: 'b,slow-cheap', windowLabel: '7 days' }),
      undefined,
    )
  })

  it('never suggests a less reliable target', () => {
    const all = [c('a,flaky', 200, 0.7, 0.1), c('b,steady', 1_000, 0.99, 1)]
    assert.equal(
      suggest(paretoFrontier(all), all, { scenario: 'default', current: 'b,steady', windowLabel: '7 days' }),
      undefined,
    )
  })
})

describe('intervals', () => {
  it('mean interval of a sample, and Wilson of a proportion', () => {
    let m = NO_MOMENTS
    for (const x of [10, 12, 8, 10]) m = addSample(m, x)
    const i = meanInterval(m)!
    assert.equal(i.mean, 10)
    assert.ok(i.low < 10 && i.high > 10)
    const w = wilson(0, 50)!
    assert.ok(w.low >= 0 && w.low < 1e-12)
    assert.ok(w.high > 0 && w.high < 0.1)
  })

  it('property: the 95 % Wilson interval covers the true rate about 95 % of the time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        (seed, p) => {
          const r = seededRandom(seed)
          let covered = 0
          for (let t = 0; t < 400; t++) {
            let k = 0
            for (let i = 0; i < 100; i++) {
              if (r() < p) k++
            }
            const w = wilson(k, 100)!
            if (w.low <= p && p <= w.high) covered++
          }
          return covered / 400 >= 0.9
        },
      ),
      { seed: SEED, numRuns: 20 },
    )
  })

  it('clearly worse needs enough samples and non-overlapping intervals', () => {
    const bad = wilson(30, 100)
    const good = wilson(2, 100)
    assert.ok(clearlyWorse(bad, good, { higherIsWorse: true, minSamples: 30 }))
    assert.ok(!clearlyWorse(bad, good, { higherIsWorse: true, minSamples: 200 }))
    assert.ok(!clearlyWorse(good, bad, { higherIsWorse: true, minSamples: 30 }))
  })
})

describe('experiment arms', () => {
  const arms = [{ name: 'a', percent: 30 }, { name: 'b', percent: 70 }]

  it('property: a session always gets the same arm', () => {
    fc.assert(
      fc.property(
        fc.string(),
        (sid) => armAt(arms, sessionPoint('exp', sid)) === armAt(arms, sessionPoint('exp', sid)),
      ),
      { seed: SEED },
    )
  })

  it("sessions split by the arms' percents", () => {
    let a = 0
    for (let i = 0; i < 10_000; i++) if (armAt(arms, sessionPoint('exp', `session-${i}`))!.name === 'a') a++
    assert.ok(a > 2_800 && a < 3_200, `${a} of 10 000 on arm a`)
  })

  it('property: stopping an arm moves only its own sessions', () => {
    const three = [{ name: 'a', percent: 40 }, { name: 'b', percent: 20 }, { name: 'c', percent: 40 }]
    fc.assert(
      fc.property(fc.double({ min: 0, max: 99.999, noNaN: true }), (point) => {
        const before = armAt(three, point)!.name
        const after = armAt(three, point, new Set(['b']))!.name
        return before === 'b' ? after !== 'b' : after === before
      }),
      { seed: SEED },
    )
    assert.equal(armAt(three, 50, new Set(['a', 'b', 'c'])), undefined)
  })
})
