/**
 * Everything the request pipeline may touch, handed in by the composition root (cli.ts, or a
 * test). Nothing below the edge reaches for a global: clocks, randomness, the upstream fetch,
 * the routing table and the telemetry sinks all arrive through here.
 */
import type { ResponseStore } from './proxy/response-store.ts'
import type { Config, RouterConfig, Scenario } from './config/types.ts'
import type { ProxyError } from './errors.ts'
import type { JsonObject, WireFormatName } from './formats/types.ts'
import type { Logger } from './log.ts'
import type { TokenEstimate } from './tokens/estimate.ts'
import type { ClientRequest, RequestTrace } from './proxy/types.ts'
import type { PlannedTarget, RoutingEngine, SessionUsage } from './routing/contract.ts'
import type { StreamWatchdog } from './proxy/watchdog.ts'
import type { ThinkingCache } from './formats/translate/thinking-cache.ts'
import type { KeyLedger } from './keys/ledger.ts'
import type { CacheEntry, CacheLookup, CacheStats } from './cache/store.ts'
import type { UpgradeWebSocket } from './lib/web-socket.ts'

export type {
  Admission,
  AttemptReport,
  AttemptTimer,
  NextStep,
  RoutingEngine,
  SessionUsage,
} from './routing/contract.ts'

/**
 * Sends an upstream call. `body`, where given, is how a JSON text body is best handed to this
 * fetch (the runtime's choice, upstream-fetch.ts); without it the text goes as it is.
 */
export type UpstreamFetch = ((req: Request) => Promise<Response>) & { readonly body?: (text: string) => BodyInit }

/** What of a request the cache reads (a RequestContext, proxy/context.ts). */
export interface CachedRequest {
  readonly req: ClientRequest
  /** The routed body: what the upstream will see. */
  readonly body: JsonObject
  readonly trace: RequestTrace
}

/** The response cache as the pipeline uses it (proxy/cache.ts). */
export interface PipelineCache {
  applies(req: Pick<ClientRequest, 'headers' | 'format'>): boolean
  find(ctx: CachedRequest, plan: readonly PlannedTarget[]): Promise<CacheLookup>
  answer(ctx: CachedRequest, entry: CacheEntry): Response
  missed(trace: RequestTrace): void
  capture(ctx: CachedRequest, committed: { target: PlannedTarget; res: Response; lookup: CacheLookup }): Response
  stats(): CacheStats
}

/** Waits `ms` or until `signal` aborts; resolves false when it aborted. Injected so tests drive time. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<boolean>

export interface TokenService {
  /** Pre-request input-token estimate of a client body (memoised per content block). */
  estimate(body: JsonObject, format: WireFormatName): number
  /** The same estimate by component (routing keeps it on the request context for the token audit). */
  breakdown(body: JsonObject): TokenEstimate
}

/** Sinks for what happened: metrics, usage ledger, drift, audit, logs. */
export interface Telemetry {
  streamOpened(): void
  streamClosed(): void
  backpressure(): void
  /** A request refused because the instance is at its stream limit. */
  rejected(): void
  /** A WebSocket (the Responses API's WebSocket mode) was opened / closed. */
  socketOpened?(): void
  socketClosed?(): void
  retried(t: PlannedTarget): void
  /** One upstream try failed (counted per attempt, by reason). */
  attemptFailed(t: PlannedTarget, e: ProxyError): void
  /** A stream broke after the commit point and was continued (`completed` / `failed` at its end) or not (`refused`). */
  continued?(outcome: 'completed' | 'failed' | 'refused'): void
  /** A finished request, with the input-token estimate routing made (undefined when it failed before routing). */
  request(trace: RequestTrace, tokens: TokenEstimate | undefined): void
}

/** A CCR custom router's pick for one request (src/plugins/custom-router.ts). */
export interface CustomRoute {
  /** `"provider,model"`, naming a configured provider. */
  readonly target: string
  /** The body the router saw (it may have changed it). */
  readonly body: JsonObject
}

/** What a custom router is asked with, per request (the pipeline's route stage builds it). */
export interface CustomRouterInput {
  readonly body: JsonObject
  readonly tokenCount: number
  readonly sessionId?: string
  readonly headers: Headers
  readonly format: WireFormatName
  readonly preset?: string
}

/** A loaded, fenced CUSTOM_ROUTER_PATH module (src/plugins/custom-router.ts). */
export interface CustomRouter {
  /** The router's pick, or undefined when the built-in rules should decide. Never rejects. */
  route(input: CustomRouterInput): Promise<CustomRoute | undefined>
  /** Stops the router's worker, if it has one (instance close or reload). */
  close?(): void
}

/** CCR's per-project and per-session Routers (src/plugins/project-routers.ts). */
export interface ProjectRouters {
  /** The Router of a Claude Code session's project or session file, or undefined for the config's. Never rejects. */
  routerFor(sessionId: string): Promise<RouterConfig | undefined>
}

/** A routing experiment's pick for one request: the arm's target replaces the scenario's (src/insights/experiments.ts). */
export interface ExperimentPick {
  readonly experiment: string
  readonly arm: string
  /** A target arm: the target that replaces the scenario's. */
  readonly target?: string
  /** A strategy arm: the Router (its `optimization` changed) the scenario's own target is planned with. */
  readonly router?: RouterConfig
}

/** Splits a scenario's traffic between arms, sticky per session (`Router.experiments`). */
export interface ExperimentRouter {
  pick(
    q: { readonly scenario: Scenario; readonly sessionId?: string; readonly random: () => number },
  ): ExperimentPick | undefined
}

export interface Deps {
  readonly config: Config
  readonly fetch: UpstreamFetch
  readonly now: () => number
  readonly random: () => number
  readonly log: Logger
  readonly routing: RoutingEngine
  readonly tokens: TokenService
  readonly telemetry: Telemetry
  readonly sessions: SessionUsage
  readonly watchdog: StreamWatchdog
  /** Anthropic thinking blocks kept by tool-call id, for OpenAI clients that cannot replay them. */
  readonly thinking?: ThinkingCache
  /** Recent Responses API conversations for `previous_response_id`; an in-process store when absent (fleet mode may share one). */
  readonly responses?: ResponseStore
  /** How the pipeline waits between retries; a timer when absent. */
  readonly sleep?: Sleep
  /** Set when CUSTOM_ROUTER_PATH is configured: route.ts asks it first. */
  readonly customRouter?: CustomRouter
  /** Set when a project folder of `~/.claude-code-router` holds a Router file: route.ts asks it for a session's Router. */
  readonly projectRouters?: ProjectRouters
  /** Set when `Router.experiments` has an enabled experiment: route.ts asks it after the scenario is chosen. */
  readonly experiments?: ExperimentRouter
  /** Named API keys' limits and usage, when `Keys` is configured. */
  readonly keys?: KeyLedger
  /** The opt-in response cache (`Cache`, or `x-switchyard-cache: on`; proxy/cache.ts). */
  readonly cache?: PipelineCache
  /** The runtime's WebSocket upgrade (the Responses API's WebSocket mode); absent, handshakes are refused. */
  readonly upgradeWebSocket?: UpgradeWebSocket
  /** `Router.image`'s descriptions of earlier images, for text-only models (proxy/image-descriptions.ts); none asked when absent. */
  readonly imageDescriptions?: ImageDescriptions
}

/** Descriptions of images by their hash, remembered across requests (proxy/image-descriptions.ts). */
export interface ImageDescriptions {
  /** The description of `hash`, asked with `ask` unless known or already being asked; undefined when none could be had. */
  of(hash: string, ask: () => Promise<string | undefined>): Promise<string | undefined>
}
