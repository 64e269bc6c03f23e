/**
 * The ONE zod schema for the CCR `config.json` (docs/protocols.md §8.1) plus our optional keys.
 * It validates shapes and defaults; cross-field checks (Router targets, fallback entries,
 * presets) run in the superRefine through checks.ts; normalise.ts maps the result to `Config`.
 *
 * Every schema here is built by a function and held only weakly (`configSchemas`): a zod schema
 * costs ~100 heap objects per node, this one ~2 MB of heap in all, and it only runs at start-up,
 * on reload and when the config is saved from the API, so an idle instance need not keep it
 * (docs/benchmarks.md, "Fourth pass: idle memory"). One build serves every use until the next
 * collection: building it again for each use made V8 (Deno) grow its heap by ~5 MB each time.
 */
import { z } from 'zod'
import { checkFile } from './checks.ts'
import { show } from './issues.ts'
import {
  bool,
  durationMs,
  fraction,
  httpUrl,
  modelEntrySchema,
  nameField,
  nonNeg,
  num,
  optStr,
  posInt,
  pricingSchema,
  retrySchema,
  transformerSchema,
  weight,
} from './fields.ts'
import { alertsSchema, experimentsSchema } from './alerts.ts'

// Upper bounds of counts and sizes: far above any real setting, low enough that nothing
// built from them (buffers, tables, timers) can exhaust the process.
/**
 * The largest `MAX_BODY_BYTES` a config may set. The server's own cap sits just above it, so every
 * body a config can refuse reaches the app and is refused in the client's format (a reload may
 * raise the limit, and the server's cap is fixed when it starts).
 */
export const MAX_BODY_BYTES_CEILING = 1024 * 1024 * 1024

const MILLION = 1_000_000
const BILLION = 1_000_000_000

export const providerSchema = () =>
  z.looseObject({
    name: nameField(),
    api_base_url: httpUrl(),
    // Missing and empty keys are kept (CCR silently drops such providers); checks.ts warns.
    api_key: z.string().default(''),
    models: z.array(modelEntrySchema()).default([]),
    transformer: transformerSchema().optional(),
    protocol: z.enum(['openai', 'anthropic', 'responses', 'gemini']).optional(),
    rpm: posInt(BILLION).optional(),
    tpm: posInt(1_000 * BILLION).optional(),
    maxConcurrent: posInt(MILLION).optional(),
    pricing: pricingSchema().optional(),
    model_pricing: pricingSchema().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    extra_headers: z.record(z.string(), z.string()).optional(),
  })

/** The Router keys naming a `"provider,model"` target, in CCR order (one list, kept in rules.ts beside the scenarios it starts). */
export { SCENARIO_KEYS } from './rules.ts'

/** Scenario targets only: also the shape of a Router-style preset. */
const scenarioTargets = () => ({
  default: optStr(),
  background: optStr(),
  think: optStr(),
  longContext: optStr(),
  // ccr-rust writes webSearch as an object {enabled, search_provider}; normalise.ts warns and ignores it.
  webSearch: z.union([optStr(), z.looseObject({})], {
    error: (iss) => `expected "provider,model", got ${show(iss.input)}`,
  }),
  image: optStr(),
})

/** Milliseconds within [min, max]: a typo such as an extra zero is an error, not a 3-hour wait. */
const boundedMs = (min: number, max: number) => num().pipe(z.number().int().min(min).max(max))

const breakerSchema = () =>
  z.object({
    consecutiveFailures: posInt(MILLION).default(5),
    errorRateThreshold: fraction().default(0.5),
    minRequestsForRate: posInt(MILLION).default(10),
    // The open interval grows 5 → 10 → 15 s and stays there: a primary that recovers is probed
    // by real traffic within 15 s (plus the gap to the next request), well inside 30 s.
    cooldownMs: durationMs().default(5000),
    maxCooldownMs: durationMs().default(15000),
    halfOpenProbes: posInt(1000).default(1),
  })

export function routerSchema() {
  const BreakerSchema = breakerSchema()
  return z.looseObject({
    ...scenarioTargets(),
    longContextThreshold: posInt(BILLION).default(60000),
    fallbackToOtherTiers: bool().default(true),
    optimization: z.enum(['latency', 'cost', 'reliability', 'balanced']).default('balanced'),
    weights: z
      .object({
        latency: weight().default(0.4),
        throughput: weight().default(0.4),
        reliability: weight().default(0.2),
        cost: weight().default(0),
      })
      .default({ latency: 0.4, throughput: 0.4, reliability: 0.2, cost: 0 }),
    thresholds: z.object({
      maxLatencyMs: durationMs().optional(),
      minTokensPerSec: nonNeg().optional(),
      minSuccessRate: fraction().optional(),
    }).default({}),
    tierRetries: z.record(z.string().regex(/^(tier-\d+|default)$/, 'expected "tier-N" or "default"'), retrySchema())
      .default({}),
    minSamples: posInt(MILLION).default(3),
    ewmaAlpha: num().pipe(z.number().gt(0).max(1)).default(0.3),
    failurePenalty: num().pipe(z.number().min(1).max(1000)).default(2),
    retryBudgetRatio: fraction().default(0.2),
    breaker: BreakerSchema.default(BreakerSchema.parse({})),
    // Local servers (llama.cpp, Ollama) may send no headers until prefill is done: be generous.
    connectTimeoutMs: durationMs().default(60000),
    firstTokenTimeoutMs: durationMs().default(60000),
    // The adaptive first-event timeout (resilience/attempt-budget.ts) stays within [floor, firstTokenTimeoutMs].
    firstTokenFloorMs: boundedMs(100, 600_000).default(5000),
    adaptiveFirstToken: bool().default(true),
    streamIdleTimeoutMs: durationMs().default(120000),
    // The longest pause an upstream's Retry-After (or rate-limit reset) can impose on a target.
    maxRetryAfterMs: durationMs().default(600000),
    dedup: bool().default(false),
    experiments: experimentsSchema().default([]),
    // A stream cut after the commit point is continued on the next candidate (proxy/continue.ts).
    continueStreams: bool().default(true),
    // Start the next candidate too when a stream's first event is later than its target's usual p95.
    hedge: bool().default(false),
    // Validated and compiled by rules.ts (through checks.ts), so each error names its rule.
    rules: z.unknown().optional(),
  })
}

/** ccr-rust `{route, max_tokens?, temperature?}`, a CCR 2.0-style `{Router: {...}}`, or Router keys directly. */
export const presetSchema = () =>
  z.looseObject({
    ...scenarioTargets(),
    route: optStr(),
    Router: z.looseObject(scenarioTargets()).optional(),
    max_tokens: posInt(BILLION).optional(),
    temperature: num().pipe(z.number().min(0).max(2)).optional(),
  })

const performanceSchema = () =>
  z.object({
    enabled: bool().default(false),
    testIntervalMinutes: posInt(7 * 24 * 60).default(60),
    testTimeoutSeconds: posInt(3600).default(30),
    maxConcurrentTests: posInt(1000).default(2),
    minTestCount: posInt(MILLION).default(3),
    thresholds: z.object({
      maxLatencyMs: durationMs().optional(),
      minThroughputTokensPerSec: nonNeg().optional(),
      minSuccessRate: fraction().optional(),
    }).default({}),
    weights: z
      .object({ latency: weight().default(0.4), throughput: weight().default(0.4), reliability: weight().default(0.2) })
      .default({ latency: 0.4, throughput: 0.4, reliability: 0.2 }),
    models: z.array(z.string()).default([]),
    dailyTokenBudget: posInt(1_000 * BILLION).default(200000),
    maxTokensPerTest: posInt(MILLION).default(256),
    historyTtlDays: posInt(3650).default(30),
  })

/** Top-level keys this schema reads; every other top-level key is reported in `ignoredKeys`. */
export const KNOWN_TOP_LEVEL = [
  'Providers',
  'providers',
  'Router',
  'APIKEY',
  'HOST',
  'PORT',
  'LOG',
  'LOG_LEVEL',
  'API_TIMEOUT_MS',
  'PROXY_URL',
  'HTTPS_PROXY',
  'https_proxy',
  'httpsProxy',
  'CUSTOM_ROUTER_PATH',
  'transformers',
  'fallback',
  'Presets',
  'SSE_BUFFER_SIZE',
  'SSE_MAX_EVENT_BYTES',
  'drift',
  'TOKEN_AUDIT_SIZE',
  'MAX_BODY_BYTES',
  'MAX_STREAMS',
  'performance',
  'Keys',
  'Cache',
  'Fleet',
  'Alerts',
] as const

const keySchema = () =>
  z.strictObject({
    name: z.string().min(1),
    key: z.string().min(1),
    budgetUsdPerDay: nonNeg().optional(),
    rpm: posInt(BILLION).optional(),
    allowedModels: z.array(z.string().min(1)).min(1).optional(),
  })

const cacheSchema = () =>
  z.strictObject({
    enabled: bool().default(false),
    ttlSeconds: posInt(30 * 24 * 3600).default(300),
    maxEntries: posInt(MILLION).default(1000),
    maxBytes: posInt(1024 * 1024 * 1024).default(64 * 1024 * 1024),
  })

/**
 * Fleet mode (docs/fleet.md): instances sharing limits, breakers, holds and usage through Redis.
 * Absent (and no SWITCHYARD_REDIS_URL): one instance on its own state, exactly as before.
 */
export const fleetSchema = () =>
  z.object({
    redis: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
    keyPrefix: z.string().min(1).max(64).regex(/^[^{}\s]+$/, 'no braces or spaces (they would break hash tags)')
      .default(
        'switchyard:',
      ),
    instanceId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').optional(),
    /** Every Redis command gives up after this long and the instance uses its local state. */
    commandTimeoutMs: posInt(1_000).default(50),
    heartbeatMs: posInt(60_000).pipe(z.number().min(100)).default(1_000),
    /** A concurrency slot held by a crashed instance comes back after this long. */
    leaseTtlMs: posInt(3_600_000).pipe(z.number().min(1_000)).default(30_000),
    /** Redis Cluster: the URL names one seed node. */
    cluster: bool().default(false),
    /** Redis Sentinel: the primary is found through these sentinels (`host:port`); the URL gives password, db and TLS. */
    sentinel: z.object({
      name: z.string().min(1).max(128),
      nodes: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1).max(16),
    }).optional(),
  })

/** The schemas the config's users need, from one build. */
export interface ConfigSchemas {
  readonly file: ReturnType<typeof configFileSchema>
  readonly provider: ReturnType<typeof providerSchema>
  readonly router: ReturnType<typeof routerSchema>
  readonly preset: ReturnType<typeof presetSchema>
  readonly fleet: ReturnType<typeof fleetSchema>
}

let kept: WeakRef<ConfigSchemas> | undefined

/** The config schemas, built on first use and kept until the collector wants the memory back. */
export function configSchemas(): ConfigSchemas {
  const alive = kept?.deref()
  if (alive) return alive
  const provider = providerSchema()
  const router = routerSchema()
  const preset = presetSchema()
  const built = { file: configFileSchema({ provider, router, preset }), provider, router, preset, fleet: fleetSchema() }
  kept = new WeakRef(built)
  return built
}

export function configFileSchema(
  parts: Pick<ConfigSchemas, 'provider' | 'router' | 'preset'> = {
    provider: providerSchema(),
    router: routerSchema(),
    preset: presetSchema(),
  },
) {
  const ProviderSchema = parts.provider
  const RouterSchema = parts.router
  const PresetSchema = parts.preset
  const PerformanceSchema = performanceSchema()
  const AlertsSchema = alertsSchema()
  const CacheSchema = cacheSchema()
  return z
    .looseObject({
      Providers: z.array(ProviderSchema).optional(),
      providers: z.array(ProviderSchema).optional(),
      Router: RouterSchema.default(RouterSchema.parse({})),
      APIKEY: optStr(),
      HOST: optStr(),
      PORT: num().pipe(z.number().int().min(1).max(65535)).default(3456),
      LOG: bool().default(true),
      LOG_LEVEL: z.preprocess(
        (v) => (typeof v === 'string' ? v.toLowerCase() : v),
        z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
      ).default('info'),
      API_TIMEOUT_MS: durationMs().default(600000),
      PROXY_URL: optStr(),
      HTTPS_PROXY: optStr(),
      https_proxy: optStr(),
      httpsProxy: optStr(),
      CUSTOM_ROUTER_PATH: optStr(),
      transformers: z.array(
        z.object({ path: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}) }),
      )
        .default([]),
      fallback: z.record(z.string(), z.array(z.string())).default({}),
      Presets: z.record(z.string(), PresetSchema).default({}),
      SSE_BUFFER_SIZE: posInt(65_536).default(32),
      // One SSE line or event from an upstream; past it the attempt fails (and fails over before the commit point).
      SSE_MAX_EVENT_BYTES: posInt(1024 * 1024 * 1024).default(16 * 1024 * 1024),
      drift: z
        .object({
          warnPct: num().pipe(z.number().min(0).max(10_000)).default(10),
          criticalPct: num().pipe(z.number().min(0).max(10_000)).default(25),
        })
        .refine((d) => d.criticalPct >= d.warnPct, {
          message: 'criticalPct must be at least warnPct',
          path: ['criticalPct'],
        })
        .default({ warnPct: 10, criticalPct: 25 }),
      TOKEN_AUDIT_SIZE: posInt(MILLION).default(1000),
      MAX_BODY_BYTES: posInt(MAX_BODY_BYTES_CEILING).default(50 * 1024 * 1024),
      MAX_STREAMS: posInt(MILLION).default(2048),
      performance: PerformanceSchema.default(PerformanceSchema.parse({})),
      Alerts: AlertsSchema.default(() => AlertsSchema.parse({})),
      Keys: z.array(keySchema()).default([]),
      Cache: CacheSchema.default(CacheSchema.parse({})),
      Fleet: fleetSchema().optional(),
    })
    .superRefine(
      (file, ctx) => {
        for (const f of checkFile(file)) {
          if (f.severity === 'error') ctx.addIssue({ code: 'custom', path: [...f.path], message: f.message })
        }
      },
      // Run even when fields failed, so one parse reports every problem at once (checkFile is defensive).
      { when: () => true },
    )
}

export type ConfigFile = z.output<ReturnType<typeof configFileSchema>>
export type ProviderFile = z.output<ReturnType<typeof providerSchema>>
export type RouterFile = z.output<ReturnType<typeof routerSchema>>
export type PresetFile = z.output<ReturnType<typeof presetSchema>>
