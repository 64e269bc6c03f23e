/** What the fleet tests share: a quick breaker policy for the routing stats, and a bounded wait. */
import type { BreakerPolicy } from '../../src/config/types.ts'

export const breaker: BreakerPolicy = {
  consecutiveFailures: 2,
  errorRateThreshold: 1,
  minRequestsForRate: 1_000,
  cooldownMs: 300,
  maxCooldownMs: 5_000,
  halfOpenProbes: 1,
}
export const statsOpts = { ewmaAlpha: 0.3, failurePenalty: 2, breaker }

/** Waits until `cond` holds, looking every 5 ms; throws after `ms`. Answers how long it took. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 3_000): Promise<number> {
  const t0 = performance.now()
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
  return performance.now() - t0
}

/** A usage delta of `requests` requests on `p,m` (10 input and 5 output tokens, $0.50 each). */
export const usageDelta = (requests: number, tier = 'tier-0') => ({
  tier,
  target: 'p,m',
  requests,
  inputTokens: 10 * requests,
  outputTokens: 5 * requests,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  costUsd: 0.5 * requests,
  unknownCostRequests: 0,
  failures: {},
})
