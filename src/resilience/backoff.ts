/**
 * Retry delays: exponential growth with full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"), shrunk for fast tiers as ccr-rust's `backoff_duration_with_ewma` does.
 */
import type { RetryPolicy } from '../config/types.ts'

/** A tier whose EWMA latency is at or above this gets the full delay; faster tiers get less. */
export const EWMA_REFERENCE_MS = 1_000
/** The smallest share of the delay a very fast tier keeps, so retries never become a busy loop. */
export const MIN_EWMA_SCALE = 0.1

/** The upper bound of the delay before retry number `attempt` (0-based): min(cap, base·m^n). */
export function backoffCeiling(attempt: number, p: RetryPolicy): number {
  const n = Math.max(0, Math.floor(attempt))
  const grown = Math.max(0, p.baseBackoffMs) * Math.max(1, p.backoffMultiplier) ** n
  return Math.min(Math.max(0, p.maxBackoffMs), grown)
}

/** The factor in [MIN_EWMA_SCALE, 1] that shortens delays for a tier answering in `ewmaMs`. */
export function ewmaScale(ewmaMs: number | undefined): number {
  if (ewmaMs === undefined || !Number.isFinite(ewmaMs)) return 1
  return Math.min(1, Math.max(MIN_EWMA_SCALE, ewmaMs / EWMA_REFERENCE_MS))
}

/**
 * The delay in ms before retry number `attempt` (0 = the first retry): a uniform draw in
 * [0, ceiling·scale], so always within [0, min(cap, base·m^n)].
 * @example backoffMs(2, { maxRetries: 3, baseBackoffMs: 100, backoffMultiplier: 2, maxBackoffMs: 5_000 }, () => 0.5) // 200
 */
export function backoffMs(
  attempt: number,
  p: RetryPolicy & { readonly ewmaMs?: number },
  random: () => number,
): number {
  const r = Math.min(1, Math.max(0, random()))
  return r * backoffCeiling(attempt, p) * ewmaScale(p.ewmaMs)
}
