import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { dampen, EMPTY_EWMA, ewma, ewmaValue, penalise } from './ewma.ts'
import type { Ewma } from './ewma.ts'
import { nonNeg } from '../../test/arbitraries/routing.ts'

const alphaArb = fc.double({ min: 0, max: 1, noNaN: true })
const seededArb = nonNeg().map((v): Ewma => ({ kind: 'seeded', value: v, samples: 1 }))

describe('ewma', () => {
  it('the first sample seeds the average as it is', () => {
    assert.deepEqual(ewma(EMPTY_EWMA, 250, 0.3), { kind: 'seeded', value: 250, samples: 1 })
    assert.equal(ewmaValue(EMPTY_EWMA), undefined)
  })

  it('blends later samples with weight alpha', () => {
    const e = ewma(ewma(EMPTY_EWMA, 100, 0.3), 200, 0.3)
    assert.equal(e.kind === 'seeded' && Math.round(e.value * 1e9) / 1e9, 130)
    assert.equal(e.kind === 'seeded' && e.samples, 2)
  })

  it('property: the new value stays between the old value and the sample', () => {
    fc.assert(fc.property(seededArb, nonNeg(), alphaArb, (prev, sample, alpha) => {
      const next = ewmaValue(ewma(prev, sample, alpha)) ?? NaN
      const old = ewmaValue(prev) ?? NaN
      return next >= Math.min(old, sample) && next <= Math.max(old, sample)
    }))
  })

  it('property: a constant input converges to that constant', () => {
    fc.assert(fc.property(nonNeg(), nonNeg(), fc.double({ min: 0.05, max: 1, noNaN: true }), (start, c, alpha) => {
      let e = ewma(EMPTY_EWMA, start, alpha)
      for (let i = 0; i < 2_000; i++) e = ewma(e, c, alpha)
      return Math.abs((ewmaValue(e) ?? NaN) - c) <= 1e-6 * Math.max(1, start, c)
    }))
  })

  it('ignores non-finite samples', () => {
    const e = ewma(EMPTY_EWMA, 10, 0.5)
    assert.equal(ewma(e, Number.NaN, 0.5), e)
    assert.equal(ewma(e, Number.POSITIVE_INFINITY, 0.5), e)
  })
})

describe('penalise', () => {
  it('counts a failure as factor × the current value, not as a timeout length', () => {
    const e: Ewma = { kind: 'seeded', value: 100, samples: 3 }
    assert.equal(ewmaValue(penalise(e, 2)), 200)
    assert.equal(ewmaValue(penalise(e, 2, 0.5)), 150)
  })

  it('leaves an empty average empty', () => {
    assert.equal(penalise(EMPTY_EWMA, 2, 0.3), EMPTY_EWMA)
  })

  it('property: a factor ≥ 1 never lowers the average', () => {
    fc.assert(
      fc.property(
        seededArb,
        fc.double({ min: 1, max: 10, noNaN: true }),
        alphaArb,
        (prev, f, a) => (ewmaValue(penalise(prev, f, a)) ?? -1) >= (ewmaValue(prev) ?? 0),
      ),
    )
  })
})

describe('dampen', () => {
  const e: Ewma = { kind: 'seeded', value: 200, samples: 5 }
  it('caps how much worse a sample may count, and lets improvements through', () => {
    assert.equal(dampen(e, 1_000, { maxRatio: 1.5, worse: 'higher' }), 300)
    assert.equal(dampen(e, 50, { maxRatio: 1.5, worse: 'higher' }), 50)
    assert.equal(dampen(e, 10, { maxRatio: 2, worse: 'lower' }), 100)
    assert.equal(dampen(EMPTY_EWMA, 1_000, { maxRatio: 1.5, worse: 'higher' }), 1_000)
  })

  it('property: a damped latency sample lies between the sample and ratio × value', () => {
    fc.assert(fc.property(seededArb, nonNeg(), fc.double({ min: 1, max: 10, noNaN: true }), (prev, x, r) => {
      const d = dampen(prev, x, { maxRatio: r, worse: 'higher' })
      return d <= x && d <= Math.max(x, (ewmaValue(prev) ?? 0) * r) &&
        (x <= (ewmaValue(prev) ?? 0) * r ? d === x : true)
    }))
  })
})
