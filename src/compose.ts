/**
 * The composition root. `createInstance(config, runtime)` builds every service and store of one
 * instance and registers every route; the CLI, the tests and the OpenAPI generator all call it.
 * `createServices` is its first half (Config → the Deps the pipeline runs on), which only the
 * `probe` command uses on its own (it serves no routes); the fake-clock simulations of the
 * tests pass their clock to `createInstance` too.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { type AppOptions, createApp, Dedup } from './app.ts'
import { ActiveResults } from './perf/active.ts'
import { PerfEngine } from './perf/engine.ts'
import { passiveFromSnapshot } from './perf/passive.ts'
import { performanceScore } from './perf/score.ts'
import { configuredTargets } from './config/targets.ts'
import { ccrDir } from './config/load.ts'
import { loadPlugins, type ProjectDirs } from './plugins/setup.ts'
import { applyPresetAnswers, describePresetDir, removePresetFile } from './plugins/presets.ts'
import { createProbeSender } from './proxy/probe-sender.ts'
import { registerManagement } from './routes/management.ts'
import { registerPresets } from './routes/presets.ts'
import { registerObservability } from './routes/observability.ts'
import { registerPerformance } from './routes/performance.ts'
import { registerLive } from './routes/live.ts'
import { createLiveRecorder, DAYS_KEPT, dayTotals, type LiveRecorder, TIMELINE_SERIES } from './live/recent.ts'
import { DailyUsageStore } from './store/usage-daily.ts'
import { TimelineStore } from './store/timeline.ts'
import type { ConfigFileAccess } from './config/write.ts'
import { openStore, STORE_FILE } from './store/db.ts'
import { PerformanceStore } from './store/performance.ts'
import { UsageStore } from './store/usage.ts'
import type { Config } from './config/types.ts'
import type {
  CustomRouter,
  Deps,
  ExperimentRouter,
  ProjectRouters,
  Sleep,
  TokenService,
  UpstreamFetch,
} from './deps.ts'
import { Insights } from './insights/service.ts'
import { AlertMemory } from './insights/alerts.ts'
import { alertsSchema } from './config/alerts.ts'
import { registerInsights } from './routes/insights.ts'
import { AlertStore } from './store/alerts.ts'
import { SeriesStore } from './store/series.ts'
import { latencyReport } from './routing/report.ts'
import { systemClock } from './lib/clock.ts'
import { createLogger, type Logger } from './log.ts'
import { configuredPrices, createRoutingEngine, type RoutingParts } from './routing/routing-engine.ts'
import { sessionUsageLru } from './routing/sessions.ts'
import type { SessionUsage } from './routing/contract.ts'
import { StreamWatchdog } from './proxy/watchdog.ts'
import { memoryResponseStore, type ResponseStore } from './proxy/response-store.ts'
import { ImageDescriptionMemory } from './proxy/image-descriptions.ts'
import { createThinkingCache, type ThinkingCache, tokenView } from './formats/index.ts'
import { ProviderLimiter, type ProviderState } from './resilience/limiter.ts'
import { type HoldTimes, RetryAfterHolds } from './routing/retry-after-holds.ts'
import { RoutingStats, TargetMeasurements } from './routing/target-stats.ts'
import { providerOf } from './routing/candidates.ts'
import { createTelemetry, type LiveTelemetry, type TraceObserver } from './telemetry.ts'
import { TokenCache } from './tokens/cache.ts'
import { estimateTokens, type TokenEstimate } from './tokens/estimate.ts'
import type { JsonObject } from './formats/types.ts'
import {
  createObservability,
  createSwitchyardMetrics,
  type Observability,
  type SwitchyardMetrics,
  usageKeyer,
} from './observability.ts'
import { type KeyDayUsage, KeyLedger } from './keys/ledger.ts'
import { KeyUsageStore } from './store/key-usage.ts'
import { type CacheStore, MemoryCacheStore } from './cache/store.ts'
import { redisCacheStore } from './cache/redis-store.ts'
import { DEFAULT_CACHE, ResponseCache } from './proxy/cache.ts'
import type { PairTotals } from './usage/ledger.ts'
import { VERSION } from './version.ts'
import { runtime } from './runtime/index.ts'
import { createUpstreamFetch, type ProxyEnv } from './upstream-fetch.ts'
import type { SharedParts } from './fleet/fleet.ts'
import type { FleetUsageSnapshot } from './fleet/usage.ts'

export interface ServiceOptions {
  readonly fetch?: UpstreamFetch
  readonly now?: () => number
  readonly random?: () => number
  /** The retry wait (tests drive it with a simulated clock); a real timer when absent. */
  readonly sleep?: Sleep
  readonly log?: Logger
  readonly observers?: readonly TraceObserver[]
  /** Active test results blended into routing (see perf/score.ts); absent: live traffic only. */
  readonly performance?: RoutingParts['performance']
  /** Receives every usage-ledger change (the usage store's batched writer). */
  readonly onUsageDelta?: (d: PairTotals) => void
  /** Proxy environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY…) for the default upstream fetch. */
  readonly env?: ProxyEnv
  /** The custom router (src/plugins), when CUSTOM_ROUTER_PATH is set. */
  readonly customRouter?: CustomRouter
  /** CCR's project and session Routers (src/plugins), when a project has Router files. */
  readonly projectRouters?: ProjectRouters
  /** Routing experiments (src/insights), when `Router.experiments` is set. */
  readonly experiments?: ExperimentRouter
  /** Where cached responses live; in memory (bounded by `Cache`) when absent. */
  readonly cacheStore?: CacheStore
  /** Receives every named key's booking (the key usage store's batched writer). */
  readonly onKeyUsage?: (u: KeyDayUsage) => void
  /** Fleet mode's shared limiter, breakers and holds (src/fleet/); local ones when absent. */
  readonly shared?: SharedParts
  /** What a reload keeps (the server holds one for its life); a new one when absent. */
  readonly memory?: ServerMemory
}

/**
 * What an instance learned that its successor needs, since config says nothing about it: what
 * agents' next turns rely on (kept Responses answers for `previous_response_id`, each session's
 * last prompt size for the last-usage rule, thinking blocks a client does not send back), what
 * routing measured of each target (averages, windows, breakers) and what it may still send there
 * (rate budgets, Retry-After holds), the alerts and their detectors, and `/metrics`. A reload
 * keeps it: the server builds one and hands it to every instance it builds; what is kept per
 * provider goes when a reload removes the provider or points it elsewhere.
 */
export interface ServerMemory {
  readonly responses: ResponseStore
  readonly sessions: SessionUsage
  readonly thinking: ThinkingCache
  readonly measurements: TargetMeasurements
  /** Providers' rate buckets and in-flight counts, so a reload lets no burst past `rpm`, `tpm` or `maxConcurrent`. */
  readonly limits: Map<string, ProviderState>
  /** Upstream `Retry-After` holds, so a reload does not call a target that asked to be left alone. */
  readonly holds: HoldTimes
  /** The alerts firing, so a reload does not deliver them again. */
  readonly alerts: AlertMemory
  /** `/metrics`: counters go on across a reload (Prometheus reads a counter that drops to 0 as a restart). */
  readonly metrics: SwitchyardMetrics
  /**
   * The response cache's entries (its in-memory store) and the limits it was made with: kept
   * while a reload changes neither the limits nor any provider's upstream.
   */
  cache?: { readonly store: MemoryCacheStore; readonly limits: string }
  /** Requests in flight for deduplication: an identical request after a reload joins one begun before it. */
  readonly dedup: Dedup
  /** `Router.image`'s descriptions of earlier images, so a reload does not ask for them again. */
  readonly imageDescriptions: ImageDescriptionMemory
}

export function createServerMemory(now: () => number): ServerMemory {
  return {
    metrics: createSwitchyardMetrics({ version: VERSION, runtime: runtime.name }),
    responses: memoryResponseStore({ now }),
    sessions: sessionUsageLru(),
    thinking: createThinkingCache(2_000),
    measurements: new TargetMeasurements(),
    limits: new Map(),
    holds: new Map(),
    alerts: new AlertMemory(),
    dedup: new Dedup(),
    imageDescriptions: new ImageDescriptionMemory(),
  }
}

/** Forgets what `memory` keeps per provider of the `providers` a reload removed or pointed elsewhere. */
function forgetProviders(memory: ServerMemory, providers: ReadonlySet<string>): void {
  if (providers.size === 0) return
  memory.alerts.forgetProviders(providers)
  for (const p of providers) memory.limits.delete(p)
  for (const key of memory.holds.keys()) if (providers.has(providerOf(key))) memory.holds.delete(key)
}

/**
 * The in-memory response cache store: the one `memory` kept, when the cache's limits are the same
 * and no provider was removed or pointed elsewhere (its answers came from the upstream it names);
 * else a new one, kept from now on.
 */
function keptCacheStore(
  memory: ServerMemory,
  cache: { readonly maxEntries: number; readonly maxBytes: number },
  changedProviders: ReadonlySet<string>,
): MemoryCacheStore {
  const limits = `${cache.maxEntries}/${cache.maxBytes}`
  if (memory.cache?.limits === limits && changedProviders.size === 0) return memory.cache.store
  const store = new MemoryCacheStore({ maxEntries: cache.maxEntries, maxBytes: cache.maxBytes })
  memory.cache = { store, limits }
  return store
}

/** Most time one request's token estimate may tokenize before the rest is estimated from bytes. */
export const ESTIMATE_BUDGET_MS = 50

export interface Services {
  readonly deps: Deps
  readonly routing: RoutingParts
  readonly telemetry: LiveTelemetry
  readonly tokenCache: TokenCache
  readonly observability: Observability
  /** Closes proxy clients the default upstream fetch opened. */
  readonly closeFetch: () => void
  /** Fleet mode: the whole fleet's usage (undefined when Redis does not answer). */
  readonly fleetUsage?: () => Promise<FleetUsageSnapshot | undefined>
}

export function createServices(config: Config, opts: ServiceOptions = {}): Services {
  const now = opts.now ?? systemClock()
  const random = opts.random ?? Math.random
  const log = opts.log ?? createLogger({ level: config.logLevel, enabled: config.log })
  const memory = opts.memory ?? createServerMemory(now)
  // What was measured of an upstream the new config still reaches the same way carries over,
  // and so do its rate buckets and Retry-After holds (fleet mode keeps those in Redis).
  const changed = memory.measurements.retain(new Map(config.providers.map((p) => [p.name, p.baseUrl])))
  forgetProviders(memory, changed)
  const statsOpts = {
    ewmaAlpha: config.router.ewmaAlpha,
    failurePenalty: config.router.failurePenalty,
    breaker: config.router.breaker,
    measurements: memory.measurements,
  }
  const stats = opts.shared ? opts.shared.stats(statsOpts) : new RoutingStats(statsOpts)
  const limits = new Map(config.providers.map((p) => [p.name, p.limits]))
  const limiter = opts.shared ? opts.shared.limiter(limits) : new ProviderLimiter(limits, memory.limits)
  const prices = configuredPrices(config)
  const routing: RoutingParts = {
    config,
    stats,
    limiter,
    now,
    random,
    pricePerMTok: () => prices,
    ...(opts.performance ? { performance: opts.performance } : {}),
    holds: opts.shared?.holds ?? new RetryAfterHolds({ maxMs: config.router.maxRetryAfterMs, until: memory.holds }),
  }
  const tokenCache = new TokenCache()
  // Responses and Gemini bodies are counted as the hub sees them. One walk per request: routing
  // keeps the estimate on the request context, and the drift audit reads it from there.
  const breakdown = (body: JsonObject): TokenEstimate =>
    estimateTokens(tokenView(body), tokenCache, { now, ms: ESTIMATE_BUDGET_MS })
  const tokens: TokenService = { estimate: (body) => breakdown(body).total, breakdown }
  const shared = opts.shared
  const onUsageDelta = shared
    ? (d: PairTotals) => {
      opts.onUsageDelta?.(d)
      shared.usage.add(d)
    }
    : opts.onUsageDelta
  const observability = createObservability(config, {
    metrics: memory.metrics,
    log,
    now,
    version: VERSION,
    runtime: runtime.name,
    onUsageDelta,
  })
  // Fleet mode: each key's usage also goes into the fleet's totals (batched with the usage flush).
  const onKeyUsage = shared
    ? (u: KeyDayUsage) => {
      opts.onKeyUsage?.(u)
      shared.usage.addKey(u.name, u)
    }
    : opts.onKeyUsage
  const keys = config.keys?.length ? new KeyLedger(config.keys, onKeyUsage, shared?.keyLimits) : undefined
  // Observers see the trace with its price (telemetry owns costUsd).
  const keyObserver: TraceObserver = {
    request: (trace) => {
      const u = trace.usage
      if (keys && trace.apiKey !== undefined && u) {
        keys.record(trace.apiKey, now(), {
          inputTokens: u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens,
          outputTokens: u.outputTokens,
          costUsd: trace.costUsd,
        })
      }
    },
  }
  const telemetry = createTelemetry({
    log,
    costOf: observability.costOf,
    observers: [observability.observer, ...(keys ? [keyObserver] : []), ...(opts.observers ?? [])],
  })
  const upstream = createUpstreamFetch(config, opts.env ?? {})
  const cacheConfig = config.cache ?? DEFAULT_CACHE
  const cacheCounter = observability.metrics.registry.counter(
    'switchyard_response_cache_total',
    'Response cache lookups by result (hit, miss)',
    { labelNames: ['result'] },
  )
  const cache = new ResponseCache({
    config: cacheConfig,
    now,
    count: (r) => cacheCounter.labels(r).inc(),
    store: opts.cacheStore ?? keptCacheStore(memory, cacheConfig, changed),
  })
  const deps: Deps = {
    config,
    fetch: opts.fetch ?? upstream,
    now,
    random,
    log,
    routing: createRoutingEngine(routing),
    tokens,
    telemetry,
    // Fleet mode: a session's answers on other instances count here too.
    sessions: shared ? shared.sessions(memory.sessions) : memory.sessions,
    watchdog: new StreamWatchdog({ now }),
    thinking: memory.thinking,
    imageDescriptions: memory.imageDescriptions,
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.customRouter ? { customRouter: opts.customRouter } : {}),
    ...(opts.projectRouters ? { projectRouters: opts.projectRouters } : {}),
    ...(opts.experiments ? { experiments: opts.experiments } : {}),
    ...(keys ? { keys } : {}),
    // Fleet mode: a conversation stored by any instance continues on any other.
    responses: shared ? shared.responses(memory.responses) : memory.responses,
    cache,
    upgradeWebSocket: runtime.upgradeWebSocket,
  }
  return {
    deps,
    routing,
    telemetry,
    tokenCache,
    observability,
    closeFetch: () => upstream.close(),
    ...(shared ? { fleetUsage: () => shared.usage.snapshot() } : {}),
  }
}

/** What the host gives an instance: where it keeps data, and (for tests) its clock, randomness and upstream. */
export interface InstanceRuntime {
  readonly dataDir: string
  readonly log?: Logger
  readonly fetch?: UpstreamFetch
  readonly now?: () => number
  readonly random?: () => number
  readonly sleep?: Sleep
  readonly maxStreams?: number
  /** The config file as written (uninterpolated), for the redacted `GET /api/config`. */
  readonly rawConfig?: unknown
  readonly reload?: () => Promise<string>
  /** The config file's path: relative plugin paths (CUSTOM_ROUTER_PATH, transformers) resolve from its directory. */
  readonly configPath?: string
  /** Proxy environment for upstream calls (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). */
  readonly env?: ProxyEnv
  /** Preset files directory; default `~/.claude-code-router/presets` (none for a `:memory:` data dir). */
  readonly presetDir?: string
  /** The environment `$VAR` in preset files reads (the CLI's, as for config.json); none when absent. */
  readonly presetEnv?: Readonly<Record<string, string | undefined>>
  /**
   * CCR's project Router files and Claude Code's transcripts; default `~/.claude-code-router` and
   * `<claudeConfigDir>/projects` (none for a `:memory:` data dir).
   */
  readonly projectDirs?: ProjectDirs
  /** Claude Code's own folder (its CLAUDE_CONFIG_DIR, where it keeps its transcripts); default `~/.claude`. */
  readonly claudeConfigDir?: string
  /** The custom router's deadline; default CCR's 50 ms. Tests not about the deadline give a loaded machine more. */
  readonly routerTimeoutMs?: number
  /** Where relative plugin paths resolve when there is no config file (demo mode); default the working directory. */
  readonly cwd?: string
  /** For alert webhooks (tests point it at a local sink); the global fetch when absent. */
  readonly webhookFetch?: (req: Request) => Promise<Response>
  /** The config file for `PUT /api/config` (absent: the config cannot be saved from the API). */
  readonly configFile?: ConfigFileAccess
  /** Recent requests and timelines (the server keeps one across reloads); a new one when absent. */
  readonly live?: LiveRecorder
  /** When the process started serving, for `/health`'s uptime (kept across reloads); now when absent. */
  readonly startedAt?: number
  /** What a reload keeps (the server holds one for its life); a new one when absent. */
  readonly memory?: ServerMemory
  /**
   * Runs identical requests once (tests wrap the real one to see callers join); this instance's
   * own when absent. Fleet mode always uses the fleet's.
   */
  readonly dedup?: AppOptions['dedup']
}

/** A configured instance: every service built and every route registered, with no listener. */
export interface AppInstance {
  readonly app: OpenAPIHono
  readonly services: Services
  readonly engine: PerfEngine
  /** A reload replaced this instance: stop its schedule; in fleet mode let its Redis link go once its streams had time to end. */
  retire(): void
  /** Trends, alerts, recommendations and experiments. */
  readonly insights: Insights
  /**
   * Reads the usage totals (and named keys' figures) from the store again, replacing its own: an
   * instance a reload replaced books what it finishes into the same store, so once it has closed,
   * the store holds all of it and this instance's totals do not.
   */
  resyncUsage(): void
  close(): Promise<void>
}

/** A replaced instance keeps its fleet link this long, so its open streams can still release what they hold. */
const RETIRED_FLEET_GRACE_MS = 120_000

/**
 * The composition root: builds every service and store of an instance for a config and
 * registers every route. The CLI's server, the tests and the OpenAPI generator all call it.
 */
export async function createInstance(fileConfig: Config, opts: InstanceRuntime): Promise<AppInstance> {
  const log = opts.log ?? createLogger({ level: fileConfig.logLevel, enabled: fileConfig.log })
  const presetDir = opts.presetDir ?? (opts.dataDir === ':memory:' ? undefined : join(ccrDir(homedir()), 'presets'))
  const plugins = await loadPlugins(fileConfig, {
    base: { home: homedir(), dir: opts.configPath ? dirname(opts.configPath) : resolve(opts.cwd ?? '.') },
    log,
    rawConfig: opts.rawConfig,
    presetDir,
    env: opts.presetEnv,
    projectDirs: opts.projectDirs ?? (opts.dataDir === ':memory:' ? undefined : {
      routerDir: ccrDir(homedir()),
      projectsDir: join(opts.claudeConfigDir ?? join(homedir(), '.claude'), 'projects'),
    }),
    now: opts.now,
    routerTimeoutMs: opts.routerTimeoutMs,
  })
  const config = plugins.config
  const store = openStore(opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, STORE_FILE), (m) => log.warn(m))
  const usageStore = new UsageStore(store, { log: (m) => log.warn(m) })
  const keyStore = config.keys?.length ? new KeyUsageStore(store, (m) => log.warn(m)) : undefined
  // Filled in once the performance store is open; until then routing uses live traffic only.
  // deno-lint-ignore prefer-const -- assigned below, after the closure that reads it is made
  let active: ActiveResults | undefined
  const live = opts.live ?? createLiveRecorder(opts.now ?? systemClock())
  // Built once the services exist (it reads their metrics, stats and drift); the observer and the experiment router forward to it.
  // deno-lint-ignore prefer-const -- assigned below, after the closures that read it are made
  let insights: Insights | undefined
  const insightsObserver: TraceObserver = {
    request: (t, b) => insights?.observer.request?.(t, b),
    attemptFailed: (t, e) => insights?.observer.attemptFailed?.(t, e),
  }
  const experiments: ExperimentRouter | undefined = (config.router.experiments ?? []).some((e) => e.enabled)
    ? { pick: (q) => insights?.experiments?.pick(q) }
    : undefined
  const scoreOpts = {
    weights: config.performance.weights,
    thresholds: config.performance.thresholds,
    minTestCount: config.performance.minTestCount,
    minSamples: config.router.minSamples,
  }
  // Fleet mode: join before the services are built, so routing runs on the shared parts. Loaded
  // only then: the Redis client costs an instance without a fleet about 5 MB of RSS.
  const fleetMods = config.fleet
    ? await Promise.all([import('./fleet/fleet.ts'), import('./fleet/perf.ts')])
    : undefined
  const fleet = config.fleet && fleetMods
    ? await fleetMods[0].startFleet(config.fleet, {
      log,
      version: VERSION,
      caps: { maxHoldMs: config.router.maxRetryAfterMs, maxOpenMs: config.router.breaker.maxCooldownMs },
      ...(opts.now ? { now: opts.now } : {}),
    })
    : undefined
  const services = createServices(config, {
    // Fleet mode: the shared parts, and the response cache in Redis (every instance hits it).
    ...(fleet
      ? {
        shared: fleet.parts,
        cacheStore: redisCacheStore(fleet.redis, {
          prefix: fleet.keys.prefix,
          maxBytes: (config.cache ?? DEFAULT_CACHE).maxBytes,
        }),
      }
      : {}),
    observers: [insightsObserver, live.observer],
    ...(experiments ? { experiments } : {}),
    ...(opts.memory ? { memory: opts.memory } : {}),
    log,
    fetch: opts.fetch,
    now: opts.now,
    random: opts.random,
    sleep: opts.sleep,
    onUsageDelta: (d) => usageStore.enqueue(d),
    env: opts.env,
    ...(keyStore ? { onKeyUsage: (u: KeyDayUsage) => keyStore.enqueue(u) } : {}),
    customRouter: plugins.customRouter,
    projectRouters: plugins.projectRouters,
    performance: (target, snap, now) => {
      const a = active?.get(target)
      return a
        ? performanceScore(
          { active: a, ...(snap && snap.samples > 0 ? { passive: passiveFromSnapshot(snap) } : {}) },
          now,
          scoreOpts,
        )
        : undefined
    },
  })
  const { deps } = services
  const offFleetMetrics = fleet?.registerMetrics(services.observability.metrics.registry)
  services.observability.ledger.seed(usageStore.loadTotals())
  usageStore.start(1_000)
  const dailyStore = new DailyUsageStore(store, (m) => log.warn(m))
  live.timeline.seedDays(dailyStore.load(new Date(deps.now() - DAYS_KEPT * 86_400_000).toISOString().slice(0, 10)))
  live.timeline.onDay = (d) => dailyStore.enqueue(d)
  live.timeline.accountAs = usageKeyer(config)
  dailyStore.start(1_000)
  // The 15 min and 24 h timelines: seeded from the store once per process, changed slots written every 5 s.
  const timelineStore = new TimelineStore(store, {
    series: TIMELINE_SERIES,
    changed: () => live.timeline.takeChanged(),
    now: deps.now,
    log: (m) => log.warn(m),
  })
  live.timeline.seedBuckets(timelineStore.load(), deps.now())
  timelineStore.start(5_000)
  // Named keys' spend so far (today's counts against the budget), then batched writes.
  if (keyStore) {
    deps.keys?.seed(keyStore.load(), deps.now())
    keyStore.start(1_000)
  }
  const perfStore = PerformanceStore.open({
    store,
    ttlDays: config.performance.historyTtlDays,
    now: deps.now,
    warn: (m) => log.warn(m),
  })
  // Fleet mode: the leader's results fill in every target this instance has not tested itself.
  active = new ActiveResults(
    () => (fleet && fleetMods
      ? fleetMods[1].withFleetResults(perfStore.metrics(), fleet.perf.latest())
      : perfStore.metrics()),
  )
  fleet?.perf.onChange(() => active?.refresh())
  const engine = new PerfEngine({
    config: config.performance,
    targets: configuredTargets(config),
    sender: createProbeSender(deps),
    store: perfStore,
    now: deps.now,
    log: (m) => log.info(m),
    onResult: () => {
      active?.refresh()
      if (fleet?.leader()) void fleet.perf.publish(perfStore.metrics())
    },
    ...(fleet ? { leader: () => fleet.leader(), sharedBudget: fleet.budget } : {}),
  })
  if (config.performance.enabled) engine.start()
  // A reload's alerts still firing stay open in the history (those of a rule turned off are closed).
  const alertsConfig = config.alerts ?? alertsSchema().parse({})
  opts.memory?.alerts.retainEnabled(alertsConfig.rules, alertsConfig.enabled)
  const carriedAlerts = opts.memory?.alerts.firingIds()
  insights = new Insights({
    config,
    now: deps.now,
    log,
    registry: services.observability.metrics.registry,
    history: new AlertStore(store, {
      historySize: config.alerts?.historySize ?? 1000,
      now: deps.now(),
      ...(carriedAlerts ? { stillFiring: carriedAlerts } : {}),
    }),
    seriesStore: new SeriesStore(store),
    ...(opts.webhookFetch ? { fetch: opts.webhookFetch } : {}),
    ...(fleet ? { fleet: { instance: fleet.id, claim: (e) => fleet.alerts.claim(e) } } : {}),
    ...(opts.memory ? { alertMemory: opts.memory.alerts } : {}),
    inputs: {
      breakers: () =>
        latencyReport(services.routing.stats.all(deps.now()), config.router, { now: deps.now() }).map((r) => ({
          target: r.target,
          state: r.breaker,
          retryInMs: r.breakerRetryInMs,
        })),
      drift: () => ({ tiers: services.observability.drift.snapshot(), ...config.drift }),
      budget: () => (config.performance.enabled
        ? { limit: config.performance.dailyTokenBudget, used: engine.health().budget.used }
        : undefined),
      activeRuns: (since) =>
        configuredTargets(config).flatMap((target) =>
          perfStore.history(target, { since, limit: 1000 }).map((r) => ({ target, ok: r.ok }))
        ),
    },
    activeHistory: (target, since) =>
      perfStore.history(target, { since, limit: 1000 }),
  })
  insights.start()
  // Imports and deletes through the API change the store too: pick them up within a minute.
  const refreshTimer = setInterval(() => active?.refresh(), 60_000)
  const passive = (target: string) => {
    const snap = services.routing.stats.snapshot(target, deps.now())
    return snap.samples === 0 ? undefined : passiveFromSnapshot(snap)
  }
  // A server's instances share one (ServerMemory): a request after a reload joins one begun before it.
  const localDedup = opts.dedup ?? opts.memory?.dedup
  const app = createApp(deps, {
    startedAt: opts.startedAt ?? deps.now(),
    ...(fleet ? { fleet: fleet.health, dedup: fleet.dedup } : localDedup ? { dedup: localDedup } : {}),
    activeStreams: services.telemetry.activeStreams,
    maxStreams: opts.maxStreams ?? config.maxStreams,
  })
  // Registered after createApp's middleware, so they run behind the same auth and rate limit.
  registerObservability(app, { ...services, dayUsage: (day) => dayTotals(live.timeline.days(), day) })
  registerPerformance(app, { engine, store: perfStore, config: config.performance, now: deps.now, passive })
  registerManagement(app, { raw: opts.rawConfig, reload: opts.reload, file: opts.configFile })
  registerPresets(app, {
    list: async () =>
      presetDir
        ? await describePresetDir(presetDir, { config: fileConfig, env: opts.presetEnv })
        : { presets: [], errors: [] },
    remove: async (name) => presetDir !== undefined && await removePresetFile(presetDir, name),
    apply: async (name, answers) =>
      presetDir === undefined ? { found: false, unanswered: [] } : await applyPresetAnswers(presetDir, name, answers),
    ...(opts.reload ? { reload: opts.reload } : {}),
  })
  registerInsights(app, insights)
  registerLive(app, {
    live,
    now: deps.now,
    providers: config.providers.map((p) => p.name),
    budget: (p, t) => services.routing.limiter.budget?.(p, t),
  })
  let closed = false
  let retired = false
  let fleetReleased = false
  return {
    app,
    services,
    engine,
    insights,
    resyncUsage: () => {
      if (closed) return
      usageStore.flush()
      services.observability.ledger.reseed(usageStore.loadTotals())
      if (keyStore) {
        keyStore.flush()
        deps.keys?.reseed(keyStore.load(), deps.now())
      }
    },
    retire: () => {
      retired = true
      void engine.stop()
      if (!fleet) return
      const t = setTimeout(() => {
        if (closed) return
        fleetReleased = true
        offFleetMetrics?.()
        void fleet.retire()
      }, RETIRED_FLEET_GRACE_MS)
      ;(t as { unref?: () => void }).unref?.()
    },
    close: async () => {
      if (closed) return
      closed = true
      // Jobs in flight end first: their last results go to the store before it closes.
      await engine.stop()
      insights?.stop()
      clearInterval(refreshTimer)
      plugins.unload()
      services.closeFetch()
      deps.watchdog.stop()
      usageStore.stop()
      usageStore.flush()
      dailyStore.stop()
      timelineStore.stop()
      keyStore?.stop()
      perfStore.close()
      store.close()
      // A replaced instance shares its member id with the one that replaced it: it only lets go of
      // its link, where leaving would take the live instance out of the fleet (and its leadership).
      offFleetMetrics?.()
      if (!fleetReleased) await (retired ? fleet?.retire() : fleet?.close())
    },
  }
}
