/**
 * The normalised configuration the rest of the code sees. `config/load.ts` turns a CCR-style
 * `config.json` (docs/protocols.md §8.1) into this, once, at start-up or reload.
 * Everything here is plain data: no functions, no secrets in logs (apiKey fields are never printed).
 */
/**
 * The wire formats a provider can speak (and a client can send): Anthropic Messages, OpenAI Chat
 * Completions, the OpenAI Responses API and the Gemini API. Translation goes through one hub
 * model (formats/hub/), except Anthropic ⇄ OpenAI Chat, which keeps its direct translators.
 * Declared here, with the rest of what a config can say, so config stays below formats/;
 * `formats/types.ts` re-exports it.
 */
export type WireFormatName = 'anthropic' | 'openai' | 'responses' | 'gemini'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** A transformer named in config: `"name"` or `["name", {options}]`. */
export interface TransformerUse {
  readonly name: string
  readonly options: Readonly<Record<string, unknown>>
}

/** USD per million tokens. */
export interface Pricing {
  readonly inputPerMillion: number
  readonly outputPerMillion: number
  readonly cacheReadPerMillion?: number
  readonly cacheWritePerMillion?: number
}

export interface ProviderLimits {
  readonly rpm?: number
  readonly tpm?: number
  readonly maxConcurrent?: number
}

export interface ProviderConfig {
  readonly name: string
  /** The full endpoint URL, as CCR has it (e.g. `https://api.deepseek.com/chat/completions`). */
  readonly baseUrl: string
  readonly apiKey: string
  readonly models: readonly string[]
  /** Anthropic when a transformer `use` names `Anthropic` or the URL ends in `/v1/messages`. */
  readonly format: WireFormatName
  /** Provider-level transformer chain, in order. */
  readonly transformers: readonly TransformerUse[]
  /** Model-level chains, appended after the provider chain (CCR semantics). */
  readonly modelTransformers: Readonly<Record<string, readonly TransformerUse[]>>
  readonly limits: ProviderLimits
  /** Price overrides by model id; key `*` applies to every model of the provider. */
  readonly pricing: Readonly<Record<string, Pricing>>
  /** Extra headers sent upstream (values may be secrets: never logged). */
  readonly headers: Readonly<Record<string, string>>
  /** Capabilities written in config (`models: [{ name, contextWindow, … }]`), by model id; they override the catalogue. */
  readonly modelCapabilities?: Readonly<Record<string, ModelCapabilities>>
  /** Google Cloud's Vertex AI: set when a `vertex-gemini`, `vertex-claude` or `vertex-openai` transformer names it. */
  readonly vertex?: VertexSettings
  /**
   * An Anthropic upstream that takes `system` messages inside `messages` (Anthropic's own API);
   * other Anthropic-compatible upstreams get them folded into `system` (proxy/attempt.ts).
   */
  readonly takesSystemMessages?: true
}

/**
 * A provider on Vertex AI authenticates with Google credentials instead of a key, and (when its
 * `api_base_url` is only a host, as CCR configures it) has the project and location in its URL.
 */
export interface VertexSettings {
  /** The publisher whose API the provider speaks: Gemini (`google`), Claude (`anthropic`) or Vertex's OpenAI-compatible endpoint. */
  readonly publisher: 'google' | 'anthropic' | 'openai'
  /** The transformer's `keyFile` option: this credentials file and no other. */
  readonly keyFile?: string
  /** `vertex-openai`'s `client_email` and `private_key` options: a service account given inline. */
  readonly serviceAccount?: { readonly client_email: string; readonly private_key: string }
  /** The transformer's `project` and `location` options (before the environment's). */
  readonly project?: string
  readonly location?: string
}

/**
 * What Google's client libraries read from the environment ("Application Default Credentials"),
 * read when the config is: a Vertex provider without its own settings uses these.
 */
export interface GoogleCloudEnv {
  /** Credentials files in the order they are tried: `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's `application_default_credentials.json`. */
  readonly credentialFiles: readonly string[]
  /** `GOOGLE_CLOUD_PROJECT` (or `GCLOUD_PROJECT`). */
  readonly project?: string
  /** `GOOGLE_CLOUD_LOCATION`. */
  readonly location?: string
  /**
   * The metadata server to ask for a token when no credentials file can be read: set when
   * `GCE_METADATA_HOST` names one or the environment is Cloud Run, Cloud Functions or App
   * Engine (`K_SERVICE`, `FUNCTION_TARGET`, `GAE_SERVICE`…); else a Compute Engine VM is
   * recognised by its product name (proxy/google-auth.ts).
   */
  readonly metadataHost?: string
}

/**
 * What a model can do. Every field is optional: a field that is absent is unknown, never
 * assumed (an unknown model is never filtered out for lack of a capability).
 */
export interface ModelCapabilities {
  readonly contextWindow?: number
  readonly maxOutputTokens?: number
  readonly vision?: boolean
  readonly tools?: boolean
  readonly reasoning?: boolean
  readonly promptCaching?: boolean
  /** USD per million tokens. */
  readonly inputPerMillion?: number
  readonly outputPerMillion?: number
}

/** A text condition of a routing rule: exact, glob (`*`, `?`) or `/regex/flags`. */
export interface TextMatcher {
  readonly kind: 'exact' | 'glob' | 'regex'
  /** As written in config. */
  readonly source: string
  readonly re: RegExp
}

/** A UTC time-of-day range in minutes after midnight; `from > to` wraps past midnight. */
export interface TimeRange {
  readonly fromMin: number
  readonly toMin: number
  readonly source: string
}

/** The conditions of one routing rule; all present conditions must hold. */
export interface RuleWhen {
  readonly model?: TextMatcher
  readonly scenario?: readonly Scenario[]
  readonly inputTokens?: { readonly min?: number; readonly max?: number }
  readonly hasTools?: boolean
  readonly hasImages?: boolean
  readonly thinking?: boolean
  readonly stream?: boolean
  /** Lower-case header name → value matcher. */
  readonly header?: readonly { readonly name: string; readonly value: TextMatcher }[]
  /** The name of the API key the request authenticated with (`Keys[].name`). */
  readonly apiKey?: TextMatcher
  readonly timeUtc?: readonly TimeRange[]
}

/** `Router.rules[i]`: when `when` holds, `route` (first target, then the rest as its fallback list). */
export interface RoutingRule {
  readonly name: string
  readonly when: RuleWhen
  readonly route: readonly string[]
  readonly optimization?: RouterConfig['optimization']
  readonly weights?: ScoreWeights
}

/** Routing scenarios in CCR's order, plus how a request can otherwise be pinned. */
export type Scenario =
  | 'explicit'
  | 'custom'
  | 'rule'
  | 'longContext'
  | 'subagent'
  | 'background'
  | 'webSearch'
  | 'think'
  | 'image'
  | 'default'

export interface RetryPolicy {
  readonly maxRetries: number
  readonly baseBackoffMs: number
  readonly backoffMultiplier: number
  readonly maxBackoffMs: number
}

export interface ScoreWeights {
  readonly latency: number
  readonly throughput: number
  readonly reliability: number
  readonly cost: number
}

export interface RoutingThresholds {
  readonly maxLatencyMs?: number
  readonly minTokensPerSec?: number
  readonly minSuccessRate?: number
}

export interface BreakerPolicy {
  readonly consecutiveFailures: number
  readonly errorRateThreshold: number
  readonly minRequestsForRate: number
  readonly cooldownMs: number
  readonly maxCooldownMs: number
  readonly halfOpenProbes: number
}

export interface RouterConfig {
  /** `"provider,model"` strings, as in CCR. */
  readonly default: string
  readonly background?: string
  readonly think?: string
  readonly longContext?: string
  readonly longContextThreshold: number
  readonly webSearch?: string
  readonly image?: string
  /**
   * CCR's top-level `forceUseImageAgent` with `Router.image` set: images never route a request to
   * `Router.image`; every image reaches the model as that model's description (for an image model
   * without tool calling, as CCR's README advises it).
   */
  readonly forceUseImageAgent?: true
  /** CCR 2.0 `fallback`: scenario → ordered `"provider,model"` list. */
  readonly fallback: Readonly<Partial<Record<Scenario, readonly string[]>>>
  readonly fallbackToOtherTiers: boolean
  readonly optimization: 'latency' | 'cost' | 'reliability' | 'balanced'
  readonly weights: ScoreWeights
  readonly thresholds: RoutingThresholds
  /** Keyed `tier-0`, `tier-1`, …; tiers not named use `defaultRetry`. */
  readonly tierRetries: Readonly<Record<string, RetryPolicy>>
  readonly defaultRetry: RetryPolicy
  readonly minSamples: number
  readonly ewmaAlpha: number
  readonly failurePenalty: number
  readonly retryBudgetRatio: number
  readonly breaker: BreakerPolicy
  readonly connectTimeoutMs: number
  readonly firstTokenTimeoutMs: number
  /** Lower bound of the adaptive first-event timeout. */
  readonly firstTokenFloorMs: number
  /** False: every stream waits `firstTokenTimeoutMs` for its first event, whatever its history. */
  readonly adaptiveFirstToken: boolean
  readonly streamIdleTimeoutMs: number
  /** Longest hold an upstream's Retry-After can put on a target (`Router.maxRetryAfterMs`). */
  readonly maxRetryAfterMs: number
  readonly dedup: boolean
  /** Traffic splits between targets per scenario, sticky per session (docs/alerts.md). */
  readonly experiments?: readonly ExperimentConfig[]
  /** Continue a stream cut after the commit point on another try (default true). */
  readonly continueStreams: boolean
  /** Hedge slow first events of streams with the next candidate (default false). */
  readonly hedge: boolean
  /** Declarative routing rules (`Router.rules`), in order: the first that matches wins. */
  readonly rules?: readonly RoutingRule[]
}

export interface DriftThresholds {
  readonly warnPct: number
  readonly criticalPct: number
}

export interface PerformanceConfig {
  readonly enabled: boolean
  readonly testIntervalMinutes: number
  readonly testTimeoutSeconds: number
  readonly maxConcurrentTests: number
  readonly minTestCount: number
  readonly thresholds: {
    readonly maxLatencyMs?: number
    readonly minThroughputTokensPerSec?: number
    readonly minSuccessRate?: number
  }
  readonly weights: { readonly latency: number; readonly throughput: number; readonly reliability: number }
  /** `"provider,model"` entries to test; empty means every configured pair. */
  readonly models: readonly string[]
  readonly dailyTokenBudget: number
  readonly maxTokensPerTest: number
  readonly historyTtlDays: number
}

/** `Keys[]`: a named inbound API key with its own limits (the key itself is never logged). */
export interface NamedKey {
  readonly name: string
  readonly key: string
  /** USD per UTC day; over it, requests get a 429 until midnight UTC. */
  readonly budgetUsdPerDay?: number
  readonly rpm?: number
  /** Targets (`provider,model`) or model ids this key may use: exact, glob or /regex/. Absent: all. */
  readonly allowedModels?: readonly TextMatcher[]
}

/** `Cache`: the opt-in exact-match response cache. */
export interface CacheConfig {
  /** Cache every request (otherwise only those sent with `x-switchyard-cache: on`). */
  readonly enabled: boolean
  readonly ttlSeconds: number
  readonly maxEntries: number
  readonly maxBytes: number
}

export interface PresetConfig {
  readonly router: RouterConfig
  readonly maxTokens?: number
  readonly temperature?: number
}

export interface Config {
  readonly providers: readonly ProviderConfig[]
  readonly router: RouterConfig
  /** Inbound API key (CCR `APIKEY`). Unset means loopback only, no auth. */
  readonly apiKey?: string
  readonly host: string
  readonly port: number
  readonly log: boolean
  readonly logLevel: LogLevel
  /** Total deadline for one request, all attempts included (CCR `API_TIMEOUT_MS`). */
  readonly apiTimeoutMs: number
  readonly proxyUrl?: string
  readonly customRouterPath?: string
  readonly customTransformers: readonly { readonly path: string; readonly options: Readonly<Record<string, unknown>> }[]
  /** Events buffered per stream before we stop reading the upstream (ccr-rust `SSE_BUFFER_SIZE`). */
  readonly sseBufferSize: number
  /** Longest SSE line or event accepted from an upstream, in characters (`SSE_MAX_EVENT_BYTES`). */
  readonly sseMaxEventBytes: number
  readonly maxBodyBytes: number
  readonly maxStreams: number
  readonly drift: DriftThresholds
  readonly tokenAuditSize: number
  readonly performance: PerformanceConfig
  /** Alert rules, their thresholds and webhooks (docs/alerts.md). */
  readonly alerts?: AlertsConfig
  readonly presets: Readonly<Record<string, PresetConfig>>
  /** Named API keys (`Keys`), accepted next to `apiKey`. */
  readonly keys?: readonly NamedKey[]
  /** The response cache (`Cache`); absent: only per-request opt-in with the defaults. */
  readonly cache?: CacheConfig
  /** Fleet mode (config `Fleet` or `SWITCHYARD_REDIS_URL`); absent: a single instance on local state. */
  readonly fleet?: FleetConfig
  /** Google's Application Default Credentials and project, from the environment (only when some provider is on Vertex AI). */
  readonly googleCloud?: GoogleCloudEnv
  /** Top-level keys accepted for compatibility but not used (listed once at start-up). */
  readonly ignoredKeys: readonly string[]
}

/** Fleet mode settings (config `Fleet`, docs/fleet.md). */
export interface FleetConfig {
  /** `redis://` or `rediss://` URL (password and db included): a secret, never logged. */
  readonly redis: string
  readonly keyPrefix: string
  readonly instanceId?: string
  readonly commandTimeoutMs: number
  readonly heartbeatMs: number
  readonly leaseTtlMs: number
  readonly cluster: boolean
  /** Redis Sentinel: the primary named `name`, found through `nodes` (`host:port`). */
  readonly sentinel?: { readonly name: string; readonly nodes: readonly string[] }
}

interface RatioRuleConfig {
  readonly enabled: boolean
  readonly ratio: number
  readonly resolveRatio: number
  readonly minDurationMs: number
  readonly warmupSamples: number
}

/** The alert rules with their thresholds (docs/alerts.md); config/alerts.ts holds defaults and bounds. */
export interface AlertRules {
  readonly latency: RatioRuleConfig
  readonly ttft: RatioRuleConfig
  readonly throughput: { readonly enabled: boolean; readonly minTokensPerSec: number; readonly minDurationMs: number }
  readonly successRate: {
    readonly enabled: boolean
    readonly min: number
    readonly resolveAt: number
    readonly window: number
    readonly minDurationMs: number
  }
  readonly breaker: { readonly enabled: boolean }
  readonly drift: { readonly enabled: boolean; readonly minSamples: number }
  readonly budget: { readonly enabled: boolean; readonly fireAt: number; readonly resolveAt: number }
  readonly activeTests: { readonly enabled: boolean; readonly minRuns: number; readonly maxFailureRate: number }
  readonly routingShift: {
    readonly enabled: boolean
    readonly points: number
    readonly minutes: number
    readonly minRequests: number
  }
}

export interface AlertsConfig {
  readonly enabled: boolean
  readonly evaluateIntervalMs: number
  /** Header values are secrets: never logged or shown. */
  readonly webhooks: readonly { readonly url: string; readonly headers: Readonly<Record<string, string>> }[]
  readonly historySize: number
  readonly rules: AlertRules
}

/** A routing experiment: one scenario's sessions split between targets by percent. */
export interface ExperimentConfig {
  readonly id: string
  readonly scenario: Scenario
  /** Each arm routes to a `target`, or plans the scenario's own target with another `optimization`. */
  readonly arms: readonly {
    readonly name: string
    readonly target?: string
    readonly optimization?: RouterConfig['optimization']
    readonly percent: number
  }[]
  readonly enabled: boolean
  readonly autoStop: boolean
  readonly minSamples: number
}
