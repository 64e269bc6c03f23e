import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { backoffCeiling, backoffMs, ewmaScale, MIN_EWMA_SCALE } from './backoff.ts'
import { defaultRetry, nonNeg, retryPolicyArb } from '../../test/arbitraries/routing.ts'

const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe('backoffMs', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    assert.equal(backoffMs(0, defaultRetry, () => 0.5), 50)
    assert.equal(backoffMs(3, defaultRetry, () => 0.5), 400)
    assert.equal(backoffMs(20, defaultRetry, () => 0.5), 2_500)
    assert.equal(backoffMs(3, defaultRetry, () => 0), 0)
  })

  it('retries a fast tier sooner than a slow one', () => {
    const fast = backoffMs(2, { ...defaultRetry, ewmaMs: 200 }, () => 0.9)
    const slow = backoffMs(2, { ...defaultRetry, ewmaMs: 3_000 }, () => 0.9)
    assert.ok(fast < slow)
    assert.equal(slow, 0.9 * 400)
    assert.equal(ewmaScale(1), MIN_EWMA_SCALE)
  })

  it('property: backoff stays within [0, min(cap, base·m^n)]', () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        retryPolicyArb,
        fc.option(nonNeg(100_000), { nil: undefined }),
        unit,
        (n, p, ewmaMs, r) => {
          const d = backoffMs(n, { ...p, ewmaMs }, () => r)
          return d >= 0 && d <= Math.min(p.maxBackoffMs, p.baseBackoffMs * p.backoffMultiplier ** n)
        },
      ),
    )
  })

  it('property: the ceiling is monotone in the attempt number and never above the cap', () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        retryPolicyArb,
        (n, p) => backoffCeiling(n, p) <= backoffCeiling(n + 1, p) && backoffCeiling(n + 1, p) <= p.maxBackoffMs,
      ),
    )
  })
})
