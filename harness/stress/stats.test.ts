import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { markdownTable, percentile, summarise } from './stats.ts'

describe('percentile', () => {
  it('law: the percentile is an element of the sample and is monotone in q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, q1, q2) => {
          const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1]
          assert.ok(xs.includes(percentile(xs, lo)))
          assert.ok(percentile(xs, lo) <= percentile(xs, hi))
        },
      ),
    )
  })

  it('law: at least a q share of the sample is <= the q-percentile', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (xs, q) => {
        const p = percentile(xs, q)
        assert.ok(xs.filter((x) => x <= p).length >= Math.ceil(q * xs.length))
      }),
    )
  })

  it('summarise reports NaN for an empty sample and the extremes otherwise', () => {
    assert.ok(Number.isNaN(summarise([]).p50))
    const s = summarise([5, 1, 9, 3])
    assert.deepEqual([s.count, s.p50, s.max, s.mean], [4, 3, 9, 4.5])
  })

  it('markdownTable has a separator row matching the header width', () => {
    const t = markdownTable(['a', 'b'], [['1', '2']]).split('\n')
    assert.deepEqual(t, ['| a | b |', '| --- | --- |', '| 1 | 2 |'])
  })
})
