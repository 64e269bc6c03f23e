import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { seededRandom } from '../lib/rng.ts'
import {
  DEFAULT_RATIO,
  type Hysteresis,
  hysteresis,
  HYSTERESIS_IDLE,
  pageHinkley,
  PH_EMPTY,
  RATIO_EMPTY,
  ratioDetector,
  type RatioState,
  ratioView,
} from './detectors.ts'

/** Fixed seed in CI (fast-check prints the seed and path of any failure). */
const SEED = 18
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())

/** Lognormal noise around `level` with log-sd `sigma`: latency-like samples. */
function noisy(r: () => number, level: number, sigma: number): number {
  return level * Math.exp(sigma * gauss(r))
}

/** Fires (rising edges of `degraded`) over `n` stationary samples after the warm-up. */
function falseAlarms(seed: number, sigma: number, n: number): number {
  const r = seededRandom(seed)
  let s: RatioState = RATIO_EMPTY
  let prev = false
  let fires = 0
  for (let i = 0; i < n; i++) {
    s = ratioDetector(s, noisy(r, 800, sigma), DEFAULT_RATIO)
    const d = ratioView(s, DEFAULT_RATIO).degraded
    if (d && !prev) fires++
    prev = d
  }
  return fires
}

describe('Page–Hinkley', () => {
  it('alarms once the excess over delta accumulates past lambda, not before', () => {
    let s = PH_EMPTY
    const p = { delta: 0.5, lambda: 2 }
    const alarms: boolean[] = []
    for (const x of [0, 0, 1.5, 1.5, 1.5]) {
      const step = pageHinkley(s, x, p)
      s = step.state
      alarms.push(step.alarm)
    }
    assert.deepEqual(alarms, [false, false, false, false, true])
  })

  it('property: residuals at or below delta never alarm', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 0.3, noNaN: true }), { maxLength: 200 }), (xs) => {
        let s = PH_EMPTY
        for (const x of xs) {
          const step = pageHinkley(s, x, { delta: 0.3, lambda: 1 })
          if (step.alarm) return false
          s = step.state
        }
        return true
      }),
      { seed: SEED },
    )
  })
})

describe('hysteresis', () => {
  it('fires after the condition held for the minimum duration, and resolves the same way', () => {
    let h: Hysteresis = HYSTERESIS_IDLE
    const events: string[] = []
    const step = (fire: boolean, clear: boolean, now: number) => {
      const r = hysteresis(h, { fire, clear, now }, 60_000)
      h = r.state
      if (r.event) events.push(`${r.event}@${now}`)
    }
    step(true, false, 0)
    step(true, false, 30_000)
    step(false, false, 40_000) // the condition broke: the wait starts over
    step(true, false, 50_000)
    step(true, false, 110_000)
    step(true, false, 120_000) // already firing: no second event
    step(false, true, 130_000)
    step(false, true, 190_000)
    assert.deepEqual(events, ['fire@110000', 'resolve@190000'])
  })

  it('property: events alternate fire, resolve, fire… whatever the conditions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean(), fc.nat(10_000))), fc.nat(20_000), (steps, minMs) => {
        let h: Hysteresis = HYSTERESIS_IDLE
        let now = 0
        let last: string | undefined
        for (const [fire, clear, dt] of steps) {
          now += dt
          const r = hysteresis(h, { fire, clear, now }, minMs)
          h = r.state
          if (r.event) {
            if (r.event === last || (last === undefined && r.event === 'resolve')) return false
            last = r.event
          }
        }
        return true
      }),
      { seed: SEED },
    )
  })
})

describe('ratio detector (latency degradation)', () => {
  // Stated bounds (docs/alerts.md): lognormal noise with log-sd σ ≤ 0.35 gives at most 1 false
  // alarm per 10 000 samples; after a lasting ×3 step the detector reports `degraded` within 15 samples.
  it('on stationary noise (σ ≤ 0.35) the false-alarm rate stays under 1 per 10 000 samples', () => {
    let fires = 0
    let samples = 0
    for (let seed = 1; seed <= 50; seed++) {
      fires += falseAlarms(seed, 0.35, 2_000)
      samples += 2_000
    }
    assert.ok(fires / samples <= 1e-4, `${fires} false alarms in ${samples} samples`)
  })

  it('property: on stationary noise no single run of 2 000 samples has more than one false alarm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0.01, max: 0.35, noNaN: true }),
        (seed, sigma) => falseAlarms(seed, sigma, 2_000) <= 1,
      ),
      { seed: SEED, numRuns: 30 },
    )
  })

  it('property: after a ×3 step the detector fires within 15 samples and stays firing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0.01, max: 0.35, noNaN: true }),
        fc.integer({ min: 21, max: 400 }),
        (seed, sigma, stepAt) => {
          const r = seededRandom(seed)
          let s: RatioState = RATIO_EMPTY
          for (let i = 0; i < stepAt; i++) s = ratioDetector(s, noisy(r, 800, sigma), DEFAULT_RATIO)
          let firedAt = -1
          for (let i = 1; i <= 40; i++) {
            s = ratioDetector(s, noisy(r, 2_400, sigma), DEFAULT_RATIO)
            const v = ratioView(s, DEFAULT_RATIO)
            if (firedAt < 0 && v.degraded) firedAt = i
            if (i === 40 && firedAt > 0) {
              return firedAt <= 15 && !v.recovered && Math.abs(Math.log(v.ratio / 3)) < 0.5
            }
          }
          return false
        },
      ),
      { seed: SEED, numRuns: 60 },
    )
  })

  it('recovers once the level is back, and the baseline did not learn the degradation', () => {
    const r = seededRandom(3)
    let s: RatioState = RATIO_EMPTY
    for (let i = 0; i < 100; i++) s = ratioDetector(s, noisy(r, 800, 0.1), DEFAULT_RATIO)
    for (let i = 0; i < 200; i++) s = ratioDetector(s, noisy(r, 2_400, 0.1), DEFAULT_RATIO)
    assert.ok(ratioView(s, DEFAULT_RATIO).degraded)
    assert.ok(
      Math.abs(ratioView(s, DEFAULT_RATIO).baseline - 800) < 100,
      `baseline ${ratioView(s, DEFAULT_RATIO).baseline}`,
    )
    for (let i = 0; i < 20; i++) s = ratioDetector(s, noisy(r, 800, 0.1), DEFAULT_RATIO)
    const v = ratioView(s, DEFAULT_RATIO)
    assert.ok(v.recovered && !v.degraded)
  })

  it('a lasting mild shift (×1.6) never fires and becomes the new baseline', () => {
    const r = seededRandom(6)
    let s: RatioState = RATIO_EMPTY
    for (let i = 0; i < 100; i++) s = ratioDetector(s, noisy(r, 800, 0.1), DEFAULT_RATIO)
    for (let i = 0; i < 400; i++) {
      s = ratioDetector(s, noisy(r, 1_280, 0.1), DEFAULT_RATIO)
      assert.ok(!ratioView(s, DEFAULT_RATIO).degraded)
    }
    assert.ok(
      Math.abs(ratioView(s, DEFAULT_RATIO).baseline - 1_280) < 130,
      `baseline ${ratioView(s, DEFAULT_RATIO).baseline}`,
    )
    // Measured against the new baseline, a ×3 step still fires.
    for (let i = 0; i < 15; i++) s = ratioDetector(s, noisy(r, 3_840, 0.1), DEFAULT_RATIO)
    assert.ok(ratioView(s, DEFAULT_RATIO).degraded)
  })

  it('a lower-is-worse metric (tokens/s) fires on a drop to a third', () => {
    const p = { ...DEFAULT_RATIO, direction: 'down' as const }
    const r = seededRandom(5)
    let s: RatioState = RATIO_EMPTY
    for (let i = 0; i < 50; i++) s = ratioDetector(s, noisy(r, 60, 0.1), p)
    assert.ok(!ratioView(s, p).degraded)
    for (let i = 0; i < 15; i++) s = ratioDetector(s, noisy(r, 20, 0.1), p)
    assert.ok(ratioView(s, p).degraded)
  })

  it('ignores zero, negative and non-finite samples', () => {
    const s = ratioDetector(RATIO_EMPTY, 100, DEFAULT_RATIO)
    for (const bad of [0, -1, NaN, Infinity]) assert.equal(ratioDetector(s, bad, DEFAULT_RATIO), s)
  })
})
