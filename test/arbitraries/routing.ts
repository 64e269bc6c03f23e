/**
 * fast-check generators and fixtures for routing and resilience tests.
 */
import fc from 'fast-check'
import type { BreakerPolicy, RetryPolicy, RouterConfig } from '../../src/config/types.ts'
import type { BreakerEvent } from '../../src/resilience/breaker.ts'
import type { TargetSnapshot } from '../../src/routing/types.ts'

/** A finite, non-negative double of at most `max`. */
export const nonNeg = (max = 1e6): fc.Arbitrary<number> =>
  fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true })

export const retryPolicyArb: fc.Arbitrary<RetryPolicy> = fc.record({
  maxRetries: fc.integer({ min: 0, max: 10 }),
  baseBackoffMs: nonNeg(10_000),
  backoffMultiplier: fc.double({ min: 1, max: 5, noNaN: true }),
  maxBackoffMs: nonNeg(120_000),
})

export const breakerPolicyArb: fc.Arbitrary<BreakerPolicy> = fc.record({
  consecutiveFailures: fc.integer({ min: 1, max: 10 }),
  errorRateThreshold: fc.double({ min: 0.05, max: 1, noNaN: true }),
  minRequestsForRate: fc.integer({ min: 1, max: 50 }),
  cooldownMs: fc.integer({ min: 1, max: 60_000 }),
  maxCooldownMs: fc.integer({ min: 1, max: 600_000 }),
  halfOpenProbes: fc.integer({ min: 1, max: 5 }),
})

export const breakerEventArb: fc.Arbitrary<BreakerEvent> = fc.oneof(
  fc.constant({ type: 'attempt' } as const),
  fc.constant({ type: 'release' } as const),
  fc.constant({ type: 'success' } as const),
  fc.record({
    type: fc.constant('failure' as const),
    errorRate: fc.double({ min: 0, max: 1, noNaN: true }),
    requests: fc.integer({ min: 0, max: 100 }),
  }),
)

/** A sequence of (time step, event) pairs; times are increasing when accumulated. */
export const breakerTraceArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 120_000 }), breakerEventArb), {
  maxLength: 60,
})

/** A snapshot of a target with optional measurements, closed breaker. */
export const snapshotArb: fc.Arbitrary<TargetSnapshot> = fc.record({
  key: fc.constantFrom('a,x', 'b,y', 'c,z'),
  samples: fc.integer({ min: 0, max: 1_000 }),
  latencyMs: fc.option(nonNeg(60_000), { nil: undefined }),
  ttftMs: fc.option(nonNeg(60_000), { nil: undefined }),
  tokensPerSec: fc.option(nonNeg(5_000), { nil: undefined }),
  successes: fc.integer({ min: 0, max: 500 }),
  errors: fc.integer({ min: 0, max: 500 }),
  inFlight: fc.integer({ min: 0, max: 100 }),
  breaker: fc.constant({ kind: 'closed' as const, consecutiveFailures: 0, trips: 0, since: 0 }),
}).map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as TargetSnapshot)

export const defaultRetry: RetryPolicy = {
  maxRetries: 3,
  baseBackoffMs: 100,
  backoffMultiplier: 2,
  maxBackoffMs: 5_000,
}

/** A complete RouterConfig with CCR-like defaults; override what a test is about. */
export function routerConfig(over: Partial<RouterConfig> = {}): RouterConfig {
  return {
    default: 'a,x',
    background: 'b,y',
    think: 'c,z',
    longContextThreshold: 60_000,
    fallback: {},
    fallbackToOtherTiers: true,
    optimization: 'balanced',
    weights: { latency: 0.4, throughput: 0.4, reliability: 0.2, cost: 0 },
    thresholds: {},
    tierRetries: {},
    defaultRetry,
    minSamples: 3,
    ewmaAlpha: 0.3,
    failurePenalty: 2,
    retryBudgetRatio: 0.2,
    breaker: {
      consecutiveFailures: 5,
      errorRateThreshold: 0.5,
      minRequestsForRate: 20,
      cooldownMs: 1_000,
      maxCooldownMs: 60_000,
      halfOpenProbes: 1,
    },
    connectTimeoutMs: 5_000,
    firstTokenTimeoutMs: 30_000,
    firstTokenFloorMs: 5_000,
    adaptiveFirstToken: true,
    streamIdleTimeoutMs: 60_000,
    maxRetryAfterMs: 600_000,
    dedup: false,
    continueStreams: true,
    hedge: false,
    ...over,
  }
}
