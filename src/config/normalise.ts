/**
 * Maps a validated CCR file (schema.ts output) to the normalised `Config` the rest of the code
 * sees, with every default filled in, and collects the warnings that are not errors.
 */
import { checkFile, FORMAT_TRANSFORMERS } from './checks.ts'
import { formatPath } from './issues.ts'
import { compileMatcher, readRules, SCENARIO_KEYS } from './rules.ts'
import { configSchemas, KNOWN_TOP_LEVEL } from './schema.ts'
import type { ConfigFile, PresetFile, ProviderFile, RouterFile } from './schema.ts'
import type { WireFormatName } from './types.ts'
import type {
  Config,
  ModelCapabilities,
  NamedKey,
  PresetConfig,
  Pricing,
  ProviderConfig,
  RetryPolicy,
  RouterConfig,
  Scenario,
  TextMatcher,
  TransformerUse,
} from './types.ts'
import { mapValues, setOwn } from '../lib/own.ts'
import { endpointUrl } from './endpoint.ts'
import { redactUrl } from './redact.ts'
import { vertexSettings } from './vertex.ts'

export interface NormaliseOptions {
  /** Whether a transformer name is implemented; unknown names get a warning. Default: all known. */
  readonly knownTransformer?: (name: string) => boolean
}

type Entry = { name: string; options: Record<string, unknown> }
type Retry = RouterFile['tierRetries'][string]

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

type FormatSource = {
  readonly api_base_url: string
  readonly protocol?: WireFormatName | undefined
  readonly transformer?: { readonly use?: readonly { readonly name: string }[] | undefined } | undefined
}

/** The formats a provider's transformer chain names (more than one is a config error). */
export function namedFormats(p: FormatSource): WireFormatName[] {
  const named = (p.transformer?.use ?? []).map((t) => FORMAT_TRANSFORMERS[t.name.toLowerCase()]).filter((
    f,
  ): f is WireFormatName => f !== undefined)
  return [...new Set(named)]
}

/** The wire format a URL path says: `/v1/messages`, `…/responses`, `/v1beta/models…`, else Chat Completions. */
export function formatOfUrl(url: string): WireFormatName {
  const path = (() => {
    try {
      return new URL(url).pathname.replace(/\/+$/, '')
    } catch {
      return url
    }
  })()
  if (path.endsWith('/v1/messages')) return 'anthropic'
  if (path.endsWith('/responses')) return 'responses'
  if (
    /\/v1(beta|alpha)?\/models($|\/)/.test(path) && !path.endsWith('/chat/completions') ||
    /:(stream)?generateContent$/i.test(path)
  ) return 'gemini'
  return 'openai'
}

/**
 * `protocol` when set; else the format a provider-level transformer names (`Anthropic`,
 * `gemini`, `openai-responses`); else the URL: a Messages endpoint, a Responses endpoint, a
 * Gemini models path, or OpenAI Chat Completions.
 */
export function detectFormat(p: FormatSource): WireFormatName {
  if (p.protocol) return p.protocol
  return namedFormats(p)[0] ?? formatOfUrl(p.api_base_url)
}

const toUse = (e: Entry): TransformerUse => ({ name: e.name, options: e.options })

function toPricing(src: ProviderFile['pricing']): Record<string, Pricing> {
  return mapValues(src ?? {}, (p): Pricing => ({
    inputPerMillion: p.input_per_million,
    outputPerMillion: p.output_per_million,
    ...(p.cache_read_per_million !== undefined ? { cacheReadPerMillion: p.cache_read_per_million } : {}),
    ...(p.cache_write_per_million !== undefined ? { cacheWritePerMillion: p.cache_write_per_million } : {}),
  }))
}

/** Capabilities written as `models` objects, by model id (only the fields that were set). */
function toCapabilities(models: ProviderFile['models']): Record<string, ModelCapabilities> | undefined {
  const out: Record<string, ModelCapabilities> = {}
  for (const { name, input_per_million, output_per_million, ...caps } of models) {
    const row: ModelCapabilities = {
      ...Object.fromEntries(Object.entries(caps).filter(([, v]) => v !== undefined)),
      ...(input_per_million === undefined ? {} : { inputPerMillion: input_per_million }),
      ...(output_per_million === undefined ? {} : { outputPerMillion: output_per_million }),
    }
    if (Object.keys(row).length > 0) out[name] = row
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** One validated `Providers` entry as the rest of the code sees it (also a CCR 2.0 preset's own providers). */
export function toProvider(p: ProviderFile): ProviderConfig {
  const { use, ...perModel } = p.transformer ?? {}
  const capabilities = toCapabilities(p.models)
  const modelTransformers = mapValues(perModel, (t): readonly TransformerUse[] => (t.use ?? []).map(toUse))
  const transformers = (use ?? []).map(toUse)
  const vertex = vertexSettings(transformers)
  return {
    name: p.name,
    // A Vertex URL is built per request from what is written (proxy/vertex.ts): no format path is appended.
    baseUrl: vertex ? p.api_base_url : endpointUrl(p.api_base_url, detectFormat(p)).url,
    apiKey: p.api_key,
    models: p.models.map((m) => m.name),
    format: detectFormat(p),
    transformers,
    modelTransformers,
    limits: { rpm: p.rpm, tpm: p.tpm, maxConcurrent: p.maxConcurrent },
    pricing: { ...toPricing(p.pricing), ...toPricing(p.model_pricing) },
    headers: { ...p.extra_headers, ...p.headers },
    ...(capabilities ? { modelCapabilities: capabilities } : {}),
    ...(vertex ? { vertex } : {}),
    ...(takesSystemMessages(p.api_base_url) ? { takesSystemMessages: true } : {}),
  }
}

/**
 * Anthropic's own API takes `system` messages mid-conversation (Claude Code 2.1 sends its
 * environment so); Anthropic-compatible APIs of other vendors have answered 400 for them
 * ("messages[1].role: unknown variant `system`, expected `user` or `assistant`").
 * @see https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages
 */
function takesSystemMessages(url: string): boolean {
  try {
    return new URL(url).hostname === 'api.anthropic.com'
  } catch {
    return false
  }
}

const toRetry = (r: Retry): RetryPolicy => ({
  maxRetries: r.max_retries,
  baseBackoffMs: r.base_backoff_ms,
  backoffMultiplier: r.backoff_multiplier,
  maxBackoffMs: r.max_backoff_ms,
})

const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, baseBackoffMs: 100, backoffMultiplier: 2, maxBackoffMs: 5000 }

function toRouter(r: RouterFile, fallback: ConfigFile['fallback'], firstTarget: string): RouterConfig {
  const { default: def, tierRetries, webSearch, ...rest } = r
  const tiers: Record<string, RetryPolicy> = {}
  for (const [k, v] of Object.entries(tierRetries)) if (k !== 'default') setOwn(tiers, k, toRetry(v))
  const named = tierRetries.default
  return {
    default: def ?? firstTarget,
    background: rest.background,
    think: rest.think,
    longContext: rest.longContext,
    longContextThreshold: rest.longContextThreshold,
    webSearch: typeof webSearch === 'string' ? webSearch : undefined,
    image: rest.image,
    fallback: fallback as Partial<Record<Scenario, string[]>>,
    fallbackToOtherTiers: rest.fallbackToOtherTiers,
    optimization: rest.optimization,
    weights: rest.weights,
    thresholds: rest.thresholds,
    tierRetries: tiers,
    defaultRetry: named ? toRetry(named) : DEFAULT_RETRY,
    minSamples: rest.minSamples,
    ewmaAlpha: rest.ewmaAlpha,
    failurePenalty: rest.failurePenalty,
    retryBudgetRatio: rest.retryBudgetRatio,
    breaker: rest.breaker,
    connectTimeoutMs: rest.connectTimeoutMs,
    firstTokenTimeoutMs: rest.firstTokenTimeoutMs,
    firstTokenFloorMs: rest.firstTokenFloorMs,
    adaptiveFirstToken: rest.adaptiveFirstToken,
    streamIdleTimeoutMs: rest.streamIdleTimeoutMs,
    maxRetryAfterMs: rest.maxRetryAfterMs,
    dedup: rest.dedup,
    experiments: rest.experiments,
    continueStreams: rest.continueStreams,
    hedge: rest.hedge,
    // Already validated by checks.ts: only the compiled rules are needed here.
    rules: readRules(rest.rules, () => undefined).rules,
  }
}

/** A preset keeps the main Router's policies and replaces its scenario targets. */
function toPreset(p: PresetFile, main: RouterConfig): PresetConfig {
  return presetOf(p, main, presetTargets(p))
}

/** A `"provider,model"` (or nothing) for each Router scenario. */
export type ScenarioTargets = Record<(typeof SCENARIO_KEYS)[number], string | undefined>

/**
 * The scenario targets a preset names, in any of its shapes: `route` (the default alone), a
 * `Router` object, or Router keys at the top. A scenario it does not name is undefined (off:
 * it falls through to `default`).
 */
export function presetTargets(p: PresetFile): ScenarioTargets {
  const src: Record<string, unknown> = p.route ? { default: p.route } : (p.Router ?? p)
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
  return Object.fromEntries(SCENARIO_KEYS.map((k) => [k, str(src[k])])) as ScenarioTargets
}

/** A preset keeps the main Router's policies and replaces its scenario targets (`default` kept when it names none). */
export function presetOf(
  p: Pick<PresetFile, 'max_tokens' | 'temperature'>,
  main: RouterConfig,
  targets: Readonly<ScenarioTargets>,
): PresetConfig {
  const router: RouterConfig = {
    ...main,
    ...targets,
    default: targets.default ?? main.default,
    // Rules belong to the main Router: a preset is its own namespace of scenario targets.
    rules: [],
  }
  return { router, maxTokens: p.max_tokens, temperature: p.temperature }
}

function ignoredKeys(file: ConfigFile, providersKey: string): string[] {
  const top = Object.keys(file).filter((k) => !(KNOWN_TOP_LEVEL as readonly string[]).includes(k))
  const routerKnown = Object.keys(configSchemas().router.shape)
  const router = Object.keys(file.Router).filter((k) => !routerKnown.includes(k)).map((k) => `Router.${k}`)
  const providerKnown = Object.keys(configSchemas().provider.shape)
  const providers = (file.Providers ?? file.providers ?? []).flatMap((p, i) =>
    Object.keys(p).filter((k) => !providerKnown.includes(k)).map((k) => `${providersKey}[${i}].${k}`)
  )
  return [...top, ...router, ...providers]
}

function transformerWarnings(providers: readonly ProviderFile[], key: string, known: (n: string) => boolean): string[] {
  return providers.flatMap((p, i) => {
    const { use, ...perModel } = p.transformer ?? {}
    const lists: [string, readonly Entry[]][] = [
      ['use', use ?? []],
      ...Object.entries(perModel).map(([m, t]): [string, readonly Entry[]] => [`${m}.use`, t.use ?? []]),
    ]
    return lists.flatMap(([where, list]) =>
      list.flatMap((
        e,
        j,
      ) => (known(e.name) ? [] : [`${key}[${i}].transformer.${where}[${j}]: unknown transformer "${e.name}": ignored`]))
    )
  })
}

/** `Keys` with their model patterns compiled (checks.ts has rejected any that do not compile). */
function toKeys(keys: ConfigFile['Keys']): NamedKey[] {
  return keys.map(({ allowedModels, ...k }) => ({
    ...Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined)) as Omit<NamedKey, 'allowedModels'>,
    ...(allowedModels
      ? { allowedModels: allowedModels.map(compileMatcher).filter((m): m is TextMatcher => typeof m !== 'string') }
      : {}),
  }))
}

function hostOf(file: ConfigFile, warnings: string[]): string {
  const host = file.HOST ?? '127.0.0.1'
  if (LOOPBACK.has(host) || file.APIKEY || file.Keys.length > 0) return host
  // CCR forces loopback when HOST is set without APIKEY: an open proxy would spend the user's keys.
  warnings.push(`HOST: "${host}" needs APIKEY to be set: listening on 127.0.0.1 instead`)
  return '127.0.0.1'
}

/**
 * CCR keys with no effect here, each said once at start and by `validate`: a config that sets
 * one expects something to happen (docs/migrating-from-ccr.md, "Different or missing").
 */
function unsupportedCcrKeys(
  file: Record<string, unknown>,
  providers: readonly Record<string, unknown>[],
  providersKey: string,
): string[] {
  const out: string[] = []
  if (file.REWRITE_SYSTEM_PROMPT !== undefined) {
    out.push(
      "REWRITE_SYSTEM_PROMPT: not supported (CCR replaced the text before system[1]'s <env> block, which Claude Code 2.x no longer sends): ignored",
    )
  }
  const router = file.Router as Record<string, unknown> | undefined
  if (file.forceUseImageAgent === true && !(typeof router?.image === 'string' && router.image !== '')) {
    out.push('forceUseImageAgent: has no effect without Router.image (the model that describes the images): ignored')
  }
  for (const key of ['plugins', 'Plugins']) {
    if (file[key] !== undefined) {
      out.push(
        `${key}: CCR 2.0's plugins (token-speed) are not supported: ignored (token speeds are in /metrics and /v1/latencies)`,
      )
    }
  }
  providers.forEach((p, i) => {
    if (p.tokenizer !== undefined) {
      out.push(
        `${providersKey}[${i}].tokenizer: not supported: every estimate uses cl100k_base (docs/tokens.md), ignored`,
      )
    }
  })
  return out
}

/** The normalised `Config` and the non-fatal findings for a file that passed `configFileSchema()`. */
export function normalise(file: ConfigFile, opts: NormaliseOptions = {}): { config: Config; warnings: string[] } {
  const providersKey = file.Providers ? 'Providers' : 'providers'
  const providerFiles = file.Providers ?? file.providers ?? []
  const warnings = checkFile(file).filter((f) => f.severity === 'warning').map((f) =>
    `${formatPath(f.path)}: ${f.message}`
  )
  warnings.push(...transformerWarnings(providerFiles, providersKey, opts.knownTransformer ?? (() => true)))
  const providers = providerFiles.map(toProvider)
  providers.forEach((p, i) => {
    // toProvider appended the format's path to a ccr-rust base (never to a Vertex host: its path is built per call).
    if (p.baseUrl !== providerFiles[i]!.api_base_url) {
      warnings.push(
        `${providersKey}[${i}].api_base_url: a base URL (ccr-rust style): requests go to ${redactUrl(p.baseUrl)}`,
      )
    }
  })
  // A natural place to write it, and silently no fallback at all: say where it goes.
  if ((file.Router as Record<string, unknown>).fallback !== undefined) {
    warnings.push(
      'Router.fallback: not read here: fallbacks are a top-level "fallback": { "default": ["provider,model", …] } (as in CCR 2.0), so this config has none',
    )
  }
  warnings.push(...unsupportedCcrKeys(file as Record<string, unknown>, providerFiles, providersKey))
  if (file.Router.webSearch !== undefined && typeof file.Router.webSearch !== 'string') {
    warnings.push('Router.webSearch: the ccr-rust object form is not supported: expected "provider,model", ignored')
  }
  const first = providerFiles[0]
  const routed = toRouter(file.Router, file.fallback, first?.models[0] ? `${first.name},${first.models[0].name}` : '')
  const forced = (file as Record<string, unknown>).forceUseImageAgent === true && routed.image !== undefined
  const router: RouterConfig = forced ? { ...routed, forceUseImageAgent: true } : routed
  const presets = mapValues(file.Presets, (p) => toPreset(p, router))
  const config: Config = {
    providers,
    router,
    apiKey: file.APIKEY,
    host: hostOf(file, warnings),
    port: file.PORT,
    log: file.LOG,
    logLevel: file.LOG_LEVEL,
    apiTimeoutMs: file.API_TIMEOUT_MS,
    // The CCR engine reads these config keys in this order (docs/protocols.md §8.3).
    proxyUrl: file.HTTPS_PROXY ?? file.https_proxy ?? file.httpsProxy ?? file.PROXY_URL,
    customRouterPath: file.CUSTOM_ROUTER_PATH,
    customTransformers: file.transformers,
    sseBufferSize: file.SSE_BUFFER_SIZE,
    sseMaxEventBytes: file.SSE_MAX_EVENT_BYTES,
    maxBodyBytes: file.MAX_BODY_BYTES,
    maxStreams: file.MAX_STREAMS,
    drift: file.drift,
    tokenAuditSize: file.TOKEN_AUDIT_SIZE,
    performance: file.performance,
    ...(file.Fleet ? { fleet: file.Fleet } : {}),
    alerts: file.Alerts,
    presets,
    ...(file.Keys.length > 0 ? { keys: toKeys(file.Keys) } : {}),
    cache: file.Cache,
    ignoredKeys: ignoredKeys(file, providersKey),
  }
  return { config, warnings }
}
