/**
 * The composition root's building blocks: from a Config to the Deps the app runs on, plus
 * the live services the management routes read. cli.ts and the integration tests both use it.
 */
import type { Config } from './config/types.ts'
import type { CustomRoutes, Deps, Sleep, TokenService, UpstreamFetch } from './deps.ts'
import { systemClock } from './lib/clock.ts'
import { createLogger, type Logger } from './log.ts'
import { configuredPrices, createRoutingEngine, type RoutingParts } from './proxy/routing-engine.ts'
import { sessionUsageLru } from './proxy/sessions.ts'
import { StreamWatchdog } from './proxy/watchdog.ts'
import { createThinkingCache } from './formats/index.ts'
import { ProviderLimiter } from './resilience/limiter.ts'
import { RoutingStats } from './routing/stats.ts'
import { createTelemetry, type LiveTelemetry, type TraceObserver } from './telemetry.ts'
import { TokenCache } from './tokens/cache.ts'
import { estimateTokens, type TokenEstimate } from './tokens/estimate.ts'
import type { JsonObject } from './formats/types.ts'
import { createObservability, type Observability } from './observe.ts'
import type { PairTotals } from './usage/ledger.ts'
import { VERSION } from './version.ts'
import { runtime } from './runtime/index.ts'
import { createUpstreamFetch, type ProxyEnv } from './upstream-fetch.ts'
import type { SharedParts } from './fleet/fleet.ts'

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
  /** Custom-router picks (src/plugins), when CUSTOM_ROUTER_PATH is set. */
  readonly customRoutes?: CustomRoutes
  /** Fleet mode's shared limiter, breakers and holds (src/fleet/); local ones when absent. */
  readonly shared?: SharedParts
}

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
  const statsOpts = { ewmaAlpha: config.router.ewmaAlpha, failurePenalty: config.router.failurePenalty, breaker: config.router.breaker }
  const stats = opts.shared ? opts.shared.stats(statsOpts) : new RoutingStats(statsOpts)
  const limits = new Map(config.providers.map((p) => [p.name, p.limits]))
  const limiter = opts.shared ? opts.shared.limiter(limits) : new ProviderLimiter(limits)
  const prices = configuredPrices(config)
  const routing: RoutingParts = {
    config, stats, limiter, now, random, pricePerMTok: () => prices,
    ...(opts.performance ? { performance: opts.performance } : {}), ...(opts.shared ? { holds: opts.shared.holds } : {}),
  }
  const tokenCache = new TokenCache()
  // One walk per request body: routing and the drift audit read the same estimate.
  const walked = new WeakMap<object, TokenEstimate>()
  const breakdown = (body: JsonObject): TokenEstimate => {
    let e = walked.get(body)
    if (!e) { e = estimateTokens(body, tokenCache); walked.set(body, e) }
    return e
  }
  const tokens: TokenService = { estimate: (body) => breakdown(body).total, breakdown }
  const observability = createObservability(config, { log, breakdown, now, version: VERSION, runtime: runtime.name, onUsageDelta: opts.onUsageDelta })
  const telemetry = createTelemetry({ log, observers: [observability.observer, ...(opts.observers ?? [])] })
  const upstream = createUpstreamFetch(config, opts.env ?? {})
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
    ...(opts.customRoutes ? { customRoutes: opts.customRoutes } : {}),
  }
  return { deps, routing, telemetry, tokenCache, observability, closeFetch: () => upstream.close() }
}
