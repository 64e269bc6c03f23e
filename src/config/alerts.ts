/**
 * The `Alerts` block and `Router.experiments`: shapes, defaults and bounds (docs/alerts.md).
 * Their parsed form is already the normalised one, so `Config` uses these types as they are.
 */
import { z } from 'zod'
import { bool, fraction, httpUrl, num, posInt } from './fields.ts'

const ms = (def: number, max: number) => num().pipe(z.number().int().min(0).max(max)).default(def)
const HOUR = 3_600_000

const RatioRule = (ratio: number) =>
  z.object({
    enabled: bool().default(true),
    /** Fires at current ≥ ratio × baseline. */
    ratio: num().pipe(z.number().min(1.1).max(100)).default(ratio),
    /** Resolves at current < resolveRatio × baseline. */
    resolveRatio: num().pipe(z.number().min(1).max(100)).default(1.3),
    minDurationMs: ms(60_000, 24 * HOUR),
    /** Samples that seed the baseline before the rule can fire. */
    warmupSamples: num().pipe(z.number().int().min(3).max(10_000)).default(20),
  }).refine((r) => r.resolveRatio < r.ratio, { message: 'resolveRatio must be below ratio', path: ['resolveRatio'] })

const alertRulesSchema = () =>
  z.object({
    latency: RatioRule(2).default(() => RatioRule(2).parse({})),
    ttft: RatioRule(2).default(() => RatioRule(2).parse({})),
    throughput: z.object({
      enabled: bool().default(true),
      /** 0: off. */
      minTokensPerSec: num().pipe(z.number().min(0).max(100_000)).default(0),
      minDurationMs: ms(60_000, 24 * HOUR),
    }).default({ enabled: true, minTokensPerSec: 0, minDurationMs: 60_000 }),
    successRate: z.object({
      enabled: bool().default(true),
      min: fraction().default(0.8),
      resolveAt: fraction().default(0.9),
      /** Outcomes (last N requests of the target) the rate is taken over. */
      window: num().pipe(z.number().int().min(5).max(10_000)).default(20),
      minDurationMs: ms(0, 24 * HOUR),
    }).refine((r) => r.resolveAt >= r.min, { message: 'resolveAt must be at least min', path: ['resolveAt'] })
      .default({ enabled: true, min: 0.8, resolveAt: 0.9, window: 20, minDurationMs: 0 }),
    breaker: z.object({ enabled: bool().default(true) }).default({ enabled: true }),
    drift: z.object({
      enabled: bool().default(true),
      /** Requests of a tier with a drift sample before the rule can fire (one odd request is no drift). */
      minSamples: posInt(10_000).default(10),
    }).default({ enabled: true, minSamples: 10 }),
    budget: z.object({
      enabled: bool().default(true),
      /** Fires when this fraction of the daily test-token budget is spent. */
      fireAt: fraction().default(0.9),
      resolveAt: fraction().default(0.8),
    }).refine((r) => r.resolveAt <= r.fireAt, { message: 'resolveAt must not exceed fireAt', path: ['resolveAt'] })
      .default({ enabled: true, fireAt: 0.9, resolveAt: 0.8 }),
    activeTests: z.object({
      enabled: bool().default(true),
      /** Runs of one target in the last hour before the rule can fire. */
      minRuns: num().pipe(z.number().int().min(1).max(10_000)).default(3),
      /** Fires when more than this fraction of them failed. */
      maxFailureRate: fraction().default(0.5),
    }).default({ enabled: true, minRuns: 3, maxFailureRate: 0.5 }),
    routingShift: z.object({
      enabled: bool().default(true),
      /** Traffic-share change, in percentage points, that fires. */
      points: num().pipe(z.number().min(1).max(100)).default(30),
      /** Length of each of the two windows compared (the last `minutes`, and the `minutes` before). */
      minutes: num().pipe(z.number().int().min(1).max(24 * 60)).default(10),
      /** Requests each window needs before shares are compared. */
      minRequests: num().pipe(z.number().int().min(1).max(1_000_000)).default(20),
    }).default({ enabled: true, points: 30, minutes: 10, minRequests: 20 }),
  })

const webhookSchema = () =>
  z.object({
    url: httpUrl(),
    /** Sent with every POST; values are secrets (never logged or shown). */
    headers: z.record(z.string(), z.string()).default({}),
  })

/** Built anew on each call and never kept, as every config schema (see config/schema.ts). */
export function alertsSchema() {
  const AlertRulesSchema = alertRulesSchema()
  return z.object({
    enabled: bool().default(true),
    /** How often the time-based rules are evaluated. */
    evaluateIntervalMs: num().pipe(z.number().int().min(100).max(HOUR)).default(10_000),
    webhooks: z.array(webhookSchema()).max(10, 'at most 10 webhooks').default([]),
    /** Alerts kept in the persisted history. */
    historySize: num().pipe(z.number().int().min(10).max(100_000)).default(1000),
    rules: AlertRulesSchema.default(() => AlertRulesSchema.parse({})),
  })
}

// The parsed shape is the normalised one (config/types.ts); normalise.ts assigns it as it is, so they cannot drift apart.
export type { AlertRules, AlertsConfig, ExperimentConfig } from './types.ts'

const experimentArmSchema = () =>
  z.object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"'),
    /** `"provider,model"` this arm routes the scenario to, or… */
    target: z.string().min(3).optional(),
    /** …the routing strategy it plans the scenario's own target with (`Router.optimization` for this arm). */
    optimization: z.enum(['latency', 'cost', 'reliability', 'balanced']).optional(),
    /** Share of the scenario's sessions, in percent; the arms of one experiment add up to 100. */
    percent: num().pipe(z.number().min(0).max(100)),
  }).refine((a) => (a.target === undefined) !== (a.optimization === undefined), {
    message: 'an arm sets exactly one of target and optimization',
  })

const experimentSchema = () =>
  z.object({
    id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"'),
    scenario: z.enum(['default', 'background', 'think', 'longContext', 'webSearch', 'image']),
    arms: z.array(experimentArmSchema()).min(2, 'an experiment needs at least 2 arms').max(4, 'at most 4 arms'),
    enabled: bool().default(true),
    /** Stop an arm automatically when it is clearly worse (non-overlapping 95 % intervals). */
    autoStop: bool().default(true),
    /** Requests each arm needs before the stop rule looks at it. */
    minSamples: posInt(1_000_000).default(30),
  }).refine((e) => Math.abs(e.arms.reduce((s, a) => s + a.percent, 0) - 100) < 1e-6, {
    message: 'arm percents must add up to 100',
    path: ['arms'],
  })
    .refine((e) => new Set(e.arms.map((a) => a.name)).size === e.arms.length, {
      message: 'arm names must be distinct',
      path: ['arms'],
    })

export const experimentsSchema = () =>
  z.array(experimentSchema()).max(16, 'at most 16 experiments')
    .refine((xs) => new Set(xs.map((x) => x.id)).size === xs.length, { message: 'experiment ids must be distinct' })
    .refine(
      (xs) => new Set(xs.filter((x) => x.enabled).map((x) => x.scenario)).size === xs.filter((x) => x.enabled).length,
      { message: 'at most one enabled experiment per scenario' },
    )
