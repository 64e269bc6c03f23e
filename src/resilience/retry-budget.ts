/**
 * A global retry budget (Finagle's RetryBudget idea): over a sliding window, retries may not
 * exceed `ratio × requests + minRetries`. The floor lets a quiet proxy still retry a single
 * failed call; the ratio stops a retry storm from multiplying load on a failing upstream.
 */
import { emptyWindow, windowAdd, windowSum } from '../lib/window.ts'
import type { SlidingWindow, WindowParams } from '../lib/window.ts'

export interface RetryBudgetParams extends WindowParams {
  readonly ratio: number
  readonly minRetries: number
}

export type RetryBudget = SlidingWindow<'requests' | 'retries'>

/** Defaults: 20 % over 10 s in 10 slots, plus 10 retries per window. */
export function retryBudgetParams(ratio = 0.2): RetryBudgetParams {
  return { ratio, minRetries: 10, windowMs: 10_000, buckets: 10 }
}

/** A budget with nothing counted. */
export function emptyRetryBudget(): RetryBudget {
  return emptyWindow()
}

/** Counts one client request (not retries) at `now`. */
export function budgetRequest(b: RetryBudget, now: number, p: RetryBudgetParams): RetryBudget {
  return windowAdd(b, 'requests', 1, now, p)
}

/** Retries still allowed in the window at `now`. */
export function budgetRemaining(b: RetryBudget, now: number, p: RetryBudgetParams): number {
  const allowed = Math.max(0, p.ratio) * windowSum(b, 'requests', now, p) + Math.max(0, p.minRetries)
  return Math.max(0, Math.floor(allowed - windowSum(b, 'retries', now, p)))
}

/**
 * Spends one retry if the budget allows it; the budget is unchanged when it does not.
 * @example budgetTryRetry(emptyRetryBudget(), 0, { ...retryBudgetParams(), minRetries: 0 }).allowed // false
 */
export function budgetTryRetry(
  b: RetryBudget,
  now: number,
  p: RetryBudgetParams,
): { budget: RetryBudget; allowed: boolean } {
  if (budgetRemaining(b, now, p) < 1) return { budget: b, allowed: false }
  return { budget: windowAdd(b, 'retries', 1, now, p), allowed: true }
}
