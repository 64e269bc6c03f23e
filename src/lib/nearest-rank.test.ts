import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { nearestRank } from './nearest-rank.ts'

describe('nearestRank', () => {
  it('law: the result is an observed value, at least as many samples lie at or below it as q asks, and it is monotone in q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, a, b) => {
          const sorted = [...xs].sort((x, y) => x - y)
          const v = nearestRank(sorted, a)!
          const atOrBelow = sorted.filter((x) => x <= v).length
          return sorted.includes(v) && atOrBelow >= Math.ceil(a * sorted.length) &&
            (a <= b ? v <= nearestRank(sorted, b)! : v >= nearestRank(sorted, b)!)
        },
      ),
    )
    assert.equal(nearestRank([], 0.5), undefined)
    assert.equal(nearestRank([1, 2, 3, 4], 0.5), 2)
  })
})
