/**
 * The composition root. `createInstance(config, runtime)` builds every service and store of one
 * instance and registers every route; the CLI, the tests and the OpenAPI generator all call it.
 * `createServices` is its first half (Config → the Deps the pipeline runs on), which the
 * fake-clock simulations and the `probe` command use on their own.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createApp } from './app.ts'
import { ActiveResults } from './perf/active.ts'
import { PerfEngine } from './perf/engine.ts'
import { passiveFromSnapshot } from './perf/passive.ts'
import { performanceScore } from './perf/score.ts'
import { configuredTargets } from './config/targets.ts'
import { loadPlugins } from './plugins/setup.ts'
import { createProbeSender } from './proxy/probe-sender.ts'
import { registerManagement } from './routes/management.ts'
import { registerObservability } from './routes/observability.ts'
import { registerPerformance } from './routes/performance.ts'
import { openStore, STORE_FILE } from './store/db.ts'
import { PerformanceStore } from './store/performance.ts'
import { UsageStore } from './store/usage.ts'
import type { Config } from './config/types.ts'
import type { CustomRouter, Deps, Sleep, TokenService, UpstreamFetch } from './deps.ts'
import { systemClock } from './lib/clock.ts'
import { createLogger, type Logger } from './log.ts'
import { configuredPrices, createRoutingEngine, type RoutingParts } from './routing/routing-engine.ts'
import { sessionUsageLru } from './routing/sessions.ts'
import { StreamWatchdog } from './proxy/watchdog.ts'
import { createThinkingCache } from './formats/index.ts'
import { ProviderLimiter } from './resilience/limiter.ts'
import { RoutingStats } from './routing/target-stats.ts'
import { createTelemetry, type LiveTelemetry, type TraceObserver } from './telemetry.ts'
import { TokenCache } from './tokens/cache.ts'
import { estimateTokens, type TokenEstimate } from './tokens/estimate.ts'
import type { JsonObject } from './formats/types.ts'
import { createObservability, type Observability } from './observability.ts'
import { KeyLedger, type KeyDayUsage } from './keys/ledger.ts'
import { KeyUsageStore } from './store/key-usage.ts'
import { MemoryCacheStore, type CacheStore } from './cache/store.ts'
import { DEFAULT_CACHE, ResponseCache } from './proxy/cache.ts'
import type { PairTotals } from './usage/ledger.ts'
import { VERSION } from './version.ts'
import { runtime } from './runtime/index.ts'
import { createUpstreamFetch, type ProxyEnv } from './upstream-fetch.ts'

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
  /** Where cached responses live; in memory (bounded by `Cache`) when absent. */
  readonly cacheStore?: CacheStore
  /** Receives every named key's booking (the key usage store's batched writer). */
  readonly onKeyUsage?: (u: KeyDayUsage) => void
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
}

export function createServices(config: Config, opts: ServiceOptions = {}): Services {
  const now = opts.now ?? systemClock()
  const random = opts.random ?? Math.random
  const log = opts.log ?? createLogger({ level: config.logLevel, enabled: config.log })
  const stats = new RoutingStats({ ewmaAlpha: config.router.ewmaAlpha, failurePenalty: config.router.failurePenalty, breaker: config.router.breaker })
  const limiter = new ProviderLimiter(Object.fromEntries(config.providers.map((p) => [p.name, p.limits])))
  const prices = configuredPrices(config)
  const routing: RoutingParts = { config, stats, limiter, now, random , pricePerMTok: () => prices, ...(opts.performance ? { performance: opts.performance } : {}) }
  const tokenCache = new TokenCache()
  // One walk per request body: routing and the drift audit read the same estimate.
  const walked = new WeakMap<object, TokenEstimate>()
  const breakdown = (body: JsonObject): TokenEstimate => {
    let e = walked.get(body)
    if (!e) { e = estimateTokens(body, tokenCache, { now, ms: ESTIMATE_BUDGET_MS }); walked.set(body, e) }
    return e
  }
  const tokens: TokenService = { estimate: (body) => breakdown(body).total, breakdown }
  const observability = createObservability(config, { log, breakdown, now, version: VERSION, runtime: runtime.name, onUsageDelta: opts.onUsageDelta })
  const keys = config.keys?.length ? new KeyLedger(config.keys, opts.onKeyUsage) : undefined
  // Observers see the trace with its price (telemetry owns costUsd).
  const keyObserver: TraceObserver = {
    request: (trace) => {
      const u = trace.usage
      if (keys && trace.apiKey !== undefined && u) keys.record(trace.apiKey, now(), { inputTokens: u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens, outputTokens: u.outputTokens, costUsd: trace.costUsd })
    },
  }
  const telemetry = createTelemetry({ log, costOf: observability.costOf, observers: [observability.observer, ...(keys ? [keyObserver] : []), ...(opts.observers ?? [])] })
  const upstream = createUpstreamFetch(config, opts.env ?? {})
  const cacheConfig = config.cache ?? DEFAULT_CACHE
  const cacheCounter = observability.metrics.registry.counter('switchyard_response_cache_total', 'Response cache lookups by result (hit, miss)', { labelNames: ['result'] })
  const cache = new ResponseCache({
    config: cacheConfig, now, count: (r) => cacheCounter.labels(r).inc(),
    store: opts.cacheStore ?? new MemoryCacheStore({ maxEntries: cacheConfig.maxEntries, maxBytes: cacheConfig.maxBytes }),
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
    sessions: sessionUsageLru(),
    watchdog: new StreamWatchdog({ now }),
    thinking: createThinkingCache(2_000),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.customRouter ? { customRouter: opts.customRouter } : {}),
    ...(keys ? { keys } : {}),
    cache,
  }
  return { deps, routing, telemetry, tokenCache, observability, closeFetch: () => upstream.close() }
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
  /** Where relative plugin paths resolve when there is no config file (demo mode); default the working directory. */
  readonly cwd?: string
}

/** A configured instance: every service built and every route registered, with no listener. */
export interface AppInstance {
  readonly app: OpenAPIHono
  readonly services: Services
  readonly engine: PerfEngine
  close(): Promise<void>
}

/**
 * The composition root: builds every service and store of an instance for a config and
 * registers every route. The CLI's server, the tests and the OpenAPI generator all call it.
 */
export async function createInstance(fileConfig: Config, opts: InstanceRuntime): Promise<AppInstance> {
  const log = opts.log ?? createLogger({ level: fileConfig.logLevel, enabled: fileConfig.log })
  const plugins = await loadPlugins(fileConfig, {
    base: { home: homedir(), dir: opts.configPath ? dirname(opts.configPath) : resolve(opts.cwd ?? '.') },
    log,
    rawConfig: opts.rawConfig,
    presetDir: opts.presetDir ?? (opts.dataDir === ':memory:' ? undefined : join(homedir(), '.claude-code-router', 'presets')),
  })
  const config = plugins.config
  const store = openStore(opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, STORE_FILE), (m) => log.warn(m))
  const usageStore = new UsageStore(store, { log: (m) => log.warn(m) })
  const keyStore = config.keys?.length ? new KeyUsageStore(store, (m) => log.warn(m)) : undefined
  // Filled in once the performance store is open; until then routing uses live traffic only.
  // deno-lint-ignore prefer-const -- assigned below, after the closure that reads it is made
  let active: ActiveResults | undefined
  const scoreOpts = { weights: config.performance.weights, thresholds: config.performance.thresholds, minTestCount: config.performance.minTestCount, minSamples: config.router.minSamples }
  const services = createServices(config, {
    log, fetch: opts.fetch, now: opts.now, random: opts.random, sleep: opts.sleep, onUsageDelta: (d) => usageStore.enqueue(d), env: opts.env,
    ...(keyStore ? { onKeyUsage: (u: KeyDayUsage) => keyStore.enqueue(u) } : {}), customRouter: plugins.customRouter,
    performance: (target, snap, now) => {
      const a = active?.get(target)
      return a ? performanceScore({ active: a, ...(snap && snap.samples > 0 ? { passive: passiveFromSnapshot(snap) } : {}) }, now, scoreOpts) : undefined
    },
  })
  const { deps } = services
  services.observability.ledger.seed(usageStore.loadTotals())
  usageStore.start(1_000)
  // Named keys' spend so far (today's counts against the budget), then batched writes.
  if (keyStore) { deps.keys?.seed(keyStore.load(), deps.now()); keyStore.start(1_000) }
  const perfStore = PerformanceStore.open({ store, ttlDays: config.performance.historyTtlDays, now: deps.now, warn: (m) => log.warn(m) })
  active = new ActiveResults(() => perfStore.metrics())
  const engine = new PerfEngine({
    config: config.performance,
    targets: configuredTargets(config),
    sender: createProbeSender(deps),
    store: perfStore,
    now: deps.now,
    log: (m) => log.info(m),
    onResult: () => active?.refresh(),
  })
  if (config.performance.enabled) engine.start()
  // Imports and deletes through the API change the store too: pick them up within a minute.
  const refreshTimer = setInterval(() => active?.refresh(), 60_000)
  const passive = (target: string) => {
    const snap = services.routing.stats.snapshot(target, deps.now())
    return snap.samples === 0 ? undefined : passiveFromSnapshot(snap)
  }
  const app = createApp(deps, {
    startedAt: deps.now(),
    activeStreams: services.telemetry.activeStreams,
    maxStreams: opts.maxStreams ?? config.maxStreams,
  })
  // Registered after createApp's middleware, so they run behind the same auth and rate limit.
  registerObservability(app, services)
  registerPerformance(app, { engine, store: perfStore, config: config.performance, now: deps.now, passive })
  registerManagement(app, { raw: opts.rawConfig, reload: opts.reload })
  let closed = false
  return {
    app,
    services,
    engine,
    close: async () => {
      if (closed) return
      closed = true
      engine.stop()
      clearInterval(refreshTimer)
      plugins.unload()
      services.closeFetch()
      deps.watchdog.stop()
      usageStore.stop()
      usageStore.flush()
      keyStore?.stop()
      perfStore.close()
      store.close()
    },
  }
}
