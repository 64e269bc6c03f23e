/**
 * What the fleet tests share: a quick breaker policy for the routing stats, a bounded wait, and
 * a redis-server of a test file's own with the instances it opened closed after it.
 */
import { after, before } from 'node:test'
import type { AppInstance } from '../../src/compose.ts'
import type { BreakerPolicy } from '../../src/config/types.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'

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

/**
 * Inside a `describe`: a redis-server on a free port for its tests (started before them), and
 * `open`, the instances they built, closed after them, before Redis stops.
 */
export function redisForSuite(): { redis(): TestRedis; readonly open: AppInstance[] } {
  let redis: TestRedis | undefined
  const open: AppInstance[] = []
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((i) => i.close()))
    await redis?.stop()
  })
  return {
    redis: () => {
      if (!redis) throw new Error('redis-server is not started yet (use it inside a test)')
      return redis
    },
    open,
  }
}
