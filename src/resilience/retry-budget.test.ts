import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { budgetRemaining, budgetRequest, budgetTryRetry, emptyRetryBudget, retryBudgetParams } from './retry-budget.ts'
import { windowSum } from '../lib/window.ts'

describe('retry budget', () => {
  const p = { ...retryBudgetParams(0.2), minRetries: 2 }

  it('allows the floor on a quiet proxy, then 20 % of requests', () => {
    let b = emptyRetryBudget()
    const tries = () => {
      const r = budgetTryRetry(b, 0, p)
      b = r.budget
      return r.allowed
    }
    assert.deepEqual([tries(), tries(), tries()], [true, true, false])
    for (let i = 0; i < 10; i++) b = budgetRequest(b, 0, p)
    assert.deepEqual([tries(), tries(), tries()], [true, true, false])
  })

  it('refills as old retries leave the window', () => {
    let b = emptyRetryBudget()
    b = budgetTryRetry(b, 0, p).budget
    b = budgetTryRetry(b, 0, p).budget
    assert.equal(budgetRemaining(b, 500, p), 0)
    assert.equal(budgetRemaining(b, p.windowMs + 1_000, p), 2)
  })

  it('property: whenever a retry is granted, retries in the window ≤ ratio × requests + minRetries', () => {
    const evArb = fc.array(fc.tuple(fc.boolean(), fc.nat(3_000)), { maxLength: 200 })
    fc.assert(fc.property(evArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(5), (evs, ratio, minRetries) => {
      const q = { ...retryBudgetParams(ratio), minRetries }
      let b = emptyRetryBudget()
      let now = 0
      for (const [isRetry, dt] of evs) {
        now += dt
        if (!isRetry) {
          b = budgetRequest(b, now, q)
          continue
        }
        const r = budgetTryRetry(b, now, q)
        b = r.budget
        if (
          r.allowed && windowSum(b, 'retries', now, q) > ratio * windowSum(b, 'requests', now, q) + minRetries + 1e-9
        ) return false
      }
      return true
    }))
  })
})
