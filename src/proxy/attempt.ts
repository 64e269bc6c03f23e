/**
 * Tries one target, retrying it while the routing engine says so. Every try is admitted
 * (breaker, rate limits) and timed on its own: one sample per try, not per request.
 */
import type { AttemptTimer, Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import {
  applyRequestTransformersAsync,
  foldSystemMessages,
  pluginRewritesRequests,
  responseOptions,
  responseOutOf,
  rewritesRequests,
  stripSyntheticThinking,
  transformerGeneration,
  translationFor,
  unsupportedFeature,
} from '../formats/index.ts'
import type { JsonObject, TranslateContext, TranslateOptions, Usage } from '../formats/types.ts'
import { err, ok, type Result } from '../lib/result.ts'
import { readFile } from 'node:fs/promises'
import { attemptShareMs, firstEventTimeoutMs } from '../resilience/attempt-budget.ts'
import { capabilitiesOf, capOutputTokens } from '../routing/capabilities.ts'
import { imagesAsText } from '../formats/images.ts'
import { buildCall, type CallLimits, callUpstream, exchangeGoogleToken, metadataToken } from './upstream.ts'
import { type CredentialSource, type GoogleTokens, googleTokens } from './google-auth.ts'
import { vertexLocation, vertexNeedsProject, type VertexPlace, vertexProject } from './vertex.ts'
import { passthroughText } from './passthrough.ts'
import type { RequestContext } from './context.ts'
import type { ClientRequest, PlannedTarget, UpstreamOk } from './types.ts'
import type { GoogleCloudEnv, TransformerUse, VertexSettings } from '../config/types.ts'
import { timerDelay } from '../lib/clock.ts'
import { scrubberOf } from '../config/secrets.ts'
import { METADATA_HOST } from '../config/vertex.ts'
import { getOwn } from '../lib/own.ts'

const NO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }

export interface AttemptOk {
  /** The target that answered. */
  readonly target: PlannedTarget
  readonly up: UpstreamOk
  readonly timer: AttemptTimer
  readonly release: (usage?: Usage) => void
  readonly ctx: TranslateContext
}

export interface AttemptFailure {
  readonly error: ProxyError
  /** False when no other target would do better (the request itself is at fault, or the client left). */
  readonly failover: boolean
  /** No upstream was called: the breaker, a rate budget or a Retry-After hold refused the try. */
  readonly skipped?: boolean
}

/**
 * The translation context a target's request is translated and its response rendered with. Its
 * `toolNames` record belongs to this request: translating the request fills it, rendering the
 * response reads it.
 */
export function contextFor(rc: RequestContext, t: PlannedTarget): TranslateContext {
  const { req, deps, estimatedInputTokens } = rc
  const so = req.body.stream_options as { include_usage?: unknown } | undefined
  const opts = stepsOf(t).options
  // One literal, no spreads: this runs for every try.
  return {
    model: t.model,
    upstreamModel: t.model,
    requestId: req.id,
    estimatedInputTokens,
    includeUsage: so?.include_usage === true,
    created: Math.floor(deps.now() / 1000),
    toolNames: {},
    repairToolArgs: opts.repairToolArgs,
    roundTripReasoning: opts.roundTripReasoning,
    thinkingStartsOpen: opts.thinkingStartsOpen,
    // OpenAI clients cannot replay Anthropic thinking in tool loops: we keep it for them.
    onThinking: deps.thinking?.remember,
    thinkingLookup: deps.thinking?.lookup,
  }
}

/** What a target's transformer chain does, read from the registry once per target and plugin change, not per try. */
interface ChainSteps {
  /** `transformerGeneration()` when this was read: a plugin registered or removed since makes it stale. */
  readonly generation: number
  readonly options: TranslateOptions
  readonly responseOut: ((res: Response) => Promise<Response>) | undefined
  /** Some transformer rewrites the request body (markers like `Anthropic` do not): only then is there a step to await. */
  readonly rewrites: boolean
  readonly pluginRewrites: boolean
}

const steps = new WeakMap<PlannedTarget, ChainSteps>()

function stepsOf(t: PlannedTarget): ChainSteps {
  const generation = transformerGeneration()
  let s = steps.get(t)
  if (s?.generation !== generation) {
    const chain = chainOf(t)
    s = {
      generation,
      options: responseOptions(chain),
      responseOut: responseOutOf(t.provider.transformers, getOwn(t.provider.modelTransformers, t.model) ?? [], {
        model: t.model,
        format: t.provider.format,
      }),
      rewrites: rewritesRequests(chain),
      pluginRewrites: pluginRewritesRequests(chain),
    }
    steps.set(t, s)
  }
  return s
}

/** The client's output cap (`max_tokens`, or OpenAI's `max_completion_tokens`), when it set one. */
function maxTokensOf(req: ClientRequest): number | undefined {
  const v = req.body.max_tokens ?? req.body.max_completion_tokens
  return typeof v === 'number' && v >= 0 ? v : undefined
}

const chains = new WeakMap<PlannedTarget, readonly TransformerUse[]>()

/**
 * Provider chain, then the model's own chain appended (CCR semantics). Plan entries are
 * reused across requests, so each chain is built once.
 */
export function chainOf(t: PlannedTarget): readonly TransformerUse[] {
  let chain = chains.get(t)
  if (!chain) {
    chain = [...t.provider.transformers, ...(getOwn(t.provider.modelTransformers, t.model) ?? [])]
    chains.set(t, chain)
  }
  return chain
}

/**
 * The routed body in the target's wire format, transformers applied: a promise only when the
 * target has transformers (they may be async plugins), so the usual try awaits nothing here.
 */
export function upstreamBody(
  rc: RequestContext,
  t: PlannedTarget,
  ctx: TranslateContext,
): JsonObject | Promise<JsonObject> {
  const { req, body } = rc
  const translation = translationFor(req.format, t.provider.format)
  // Thinking blocks we synthesised for an OpenAI upstream carry signatures Anthropic rejects; an
  // Anthropic-compatible API of another vendor refuses system messages inside `messages`.
  const own = t.provider.format !== 'anthropic'
    ? body
    : t.provider.takesSystemMessages
    ? stripSyntheticThinking(body)
    : foldSystemMessages(stripSyntheticThinking(body))
  const translated = translation ? translation.request(own, ctx) : { ...own, model: t.model }
  if (!stepsOf(t).rewrites) return translated
  return applyRequestTransformersAsync(translated, chainOf(t), { model: t.model, format: t.provider.format })
}

/**
 * Tries `t` until it answers, the engine says fail over or stop, or the deadline passes.
 * `next` is where a failover would go, so a long Retry-After can be compared with it.
 */
export async function attemptTarget(
  rc: RequestContext,
  t: PlannedTarget,
  next?: PlannedTarget,
): Promise<Result<AttemptOk, AttemptFailure>> {
  const { req, deps, deadlineAt, estimatedInputTokens } = rc
  const unsupported = unsupportedFeature(req.format, t.provider.format, rc.body)
  if (unsupported) return err({ error: { kind: 'invalid_request', ...unsupported }, failover: true, skipped: true })
  const ctx = contextFor(rc, t)
  const sameFormat = req.format === t.provider.format
  // The model's own output limit, so the upstream does not reject a too-large max_tokens.
  const translated = upstreamBody(rc, t, ctx)
  const caps = capabilitiesOf(t.provider, t.model)
  const capped = capOutputTokens(translated instanceof Promise ? await translated : translated, caps.maxOutputTokens)
  // A model known to have no vision gets earlier turns' images as text, Router.image's description
  // where the pipeline got one (the plan kept it only when the last turn has none); with
  // forceUseImageAgent every target gets every image so. Routing said whether there are any: no
  // walk otherwise.
  const upBody = rc.allImagesAsText
    ? imagesAsText(capped, t.provider.format, { describe: rc.imageText, lastTurnToo: true })
    : caps.vision === false && rc.imagesOnlyEarlier
    ? imagesAsText(capped, t.provider.format, { describe: rc.imageText })
    : capped
  const { responseOut, pluginRewrites } = stepsOf(t)
  const finalBody = rc.finishBody ? rc.finishBody(upBody) : upBody
  // The client's own text when only `model` changed; a custom router or plugin transformer may have changed the body in place.
  const raw = sameFormat && rc.rawBody !== undefined && !deps.customRouter && !pluginRewrites ? rc.rawBody : undefined
  const text = raw === undefined ? undefined : passthroughText(raw, req.body, finalBody)
  // A Vertex provider's token (and the project its credentials name) before the URL that holds it.
  const google = t.provider.vertex ? await vertexAccess(t, t.provider.vertex, deps) : undefined
  if (google && !google.ok) {
    deps.telemetry.attemptFailed(t, google.error)
    return err({ error: google.error, failover: true })
  }
  const built = buildCall(t, finalBody, {
    client: req.headers,
    query: req.query,
    sameFormat,
    stream: req.stream,
    text,
    ...(google ? { vertex: google.value.place } : {}),
  })
  if (google) built.headers.set('authorization', `Bearer ${google.value.token}`)
  const call = responseOut ? { ...built, responseOut } : built
  for (let n = 0;; n++) {
    const left = deadlineAt - deps.now()
    if (left <= 0) return err({ error: { kind: 'timeout', target: t.key, phase: 'total' }, failover: false })
    const admission = await deps.routing.admit(t, estimatedInputTokens)
    if (!admission.ok) {
      deps.telemetry.attemptFailed(t, admission.error)
      return err({ error: admission.error, failover: true, skipped: true })
    }
    const timer = deps.routing.begin(t)
    rc.trace.attempts++
    const bounds = {
      stream: req.stream,
      leftMs: left,
      maxTokens: maxTokensOf(req),
      hasNext: next !== undefined,
      firstEventMs: req.stream
        ? firstEventTimeoutMs(deps.routing.firstEventHistory?.(t), estimatedInputTokens, deps.config.router)
        : undefined,
    }
    const bound = timeoutsFor(bounds, deps)
    const r = await callUpstream(call, t, {
      fetch: deps.fetch,
      signal: req.signal,
      now: deps.now,
      maxEventChars: deps.config.sseMaxEventBytes,
      scrub: scrubberOf(deps.config),
      firstTokenTimeoutMs: bound.firstTokenTimeoutMs,
      firstTokenPhase: bound.firstTokenPhase,
      connectTimeoutMs: bound.connectTimeoutMs,
      firstEventMs: bound.firstEventMs,
    })
    if (r.ok) return ok({ target: t, up: r.value, timer, release: admission.release, ctx })
    // An upstream that refused or failed before answering billed no tokens: give the TPM reservation back.
    admission.release(NO_USAGE)
    timer.finish({ ok: false, error: r.error })
    if (r.error.kind === 'client_closed') return err({ error: r.error, failover: false })
    deps.telemetry.attemptFailed(t, r.error)
    const step = deps.routing.decide(r.error, n, t, deadlineAt - deps.now(), next)
    if (step.action !== 'retry') return err({ error: r.error, failover: step.action === 'failover' })
    deps.telemetry.retried(t)
    if (!(await (deps.sleep ?? timerSleep)(step.delayMs, req.signal))) {
      return err({ error: { kind: 'client_closed' }, failover: false })
    }
  }
}

const tokensByDeps = new WeakMap<RequestContext['deps'], GoogleTokens>()
const sources = new WeakMap<PlannedTarget['provider'], CredentialSource>()

/** An api_key that names a file (what Switchyard's `vertex-gemini` took) rather than a key CCR configs leave in place. */
const looksLikePath = (s: string): boolean => /[\\/]/.test(s) || s.endsWith('.json')

/**
 * Where a Vertex provider's credentials are: `vertex-openai`'s inline service account, the
 * transformer's `keyFile` alone, or else the api_key when it is a path, then Google's
 * Application Default Credentials (config/vertex.ts) and the metadata server. Built once per provider.
 */
function credentialSource(
  p: PlannedTarget['provider'],
  v: VertexSettings,
  env: GoogleCloudEnv | undefined,
): CredentialSource {
  let s = sources.get(p)
  if (!s) {
    const files = v.keyFile
      ? [v.keyFile]
      : [...(looksLikePath(p.apiKey) ? [p.apiKey] : []), ...(env?.credentialFiles ?? [])]
    // Application Default Credentials end at the metadata server, where the environment has one.
    const metadata = v.keyFile
      ? undefined
      : { host: env?.metadataHost ?? METADATA_HOST, known: env?.metadataHost !== undefined }
    s = v.serviceAccount
      ? { id: `inline:${v.serviceAccount.client_email}`, inline: v.serviceAccount, files: [] }
      : { id: files.join('\n'), files, ...(metadata ? { metadata } : {}) }
    sources.set(p, s)
  }
  return s
}

/**
 * A Vertex provider's access token, and where its calls go: the project is the transformer's
 * option, `GOOGLE_CLOUD_PROJECT`, or the one the credentials name; a URL that needs one and
 * finds none is refused here, naming what to set, instead of being sent.
 */
async function vertexAccess(
  t: PlannedTarget,
  v: VertexSettings,
  deps: RequestContext['deps'],
): Promise<Result<{ token: string; place: VertexPlace }, ProxyError>> {
  let tokens = tokensByDeps.get(deps)
  if (!tokens) {
    tokens = googleTokens({
      exchange: (tokenUri, form, target) => exchangeGoogleToken(deps.fetch, { tokenUri, form, target }),
      metadata: (host, target) => metadataToken(deps.fetch, host, target),
      now: deps.now,
      readKey: (path) => readFile(path, 'utf8'),
    })
    tokensByDeps.set(deps, tokens)
  }
  const env = deps.config.googleCloud
  const access = await tokens.access(credentialSource(t.provider, v, env), t.key)
  if (!access.ok) return access
  const project = vertexProject(v, env, access.value.project)
  if (project === undefined && vertexNeedsProject(t.provider.baseUrl)) {
    return err({
      kind: 'upstream_status',
      target: t.key,
      status: 401,
      message:
        "Vertex AI: no project to call: set GOOGLE_CLOUD_PROJECT, or the transformer's project option, or use credentials that name one",
    })
  }
  return ok({ token: access.value.token, place: { project: project ?? '', location: vertexLocation(v, env) } })
}

/**
 * A JSON answer arrives whole, so its "first token" bound also covers the generation: this
 * many output tokens per second is the floor (slower than any hosted model), so a silent
 * upstream is still left for the next target long before the client's deadline.
 */
export const JSON_FLOOR_TOKENS_PER_SEC = 10

/** What the bounds of one try depend on. */
export interface TryBounds {
  readonly stream: boolean
  /** What is left of the client's budget. */
  readonly leftMs: number
  /** The client's output cap, when it set one. */
  readonly maxTokens?: number
  /** Another candidate follows this one: the try gets only its share of the time left. */
  readonly hasNext?: boolean
  /** Streams: the adaptive first-event timeout (resilience/attempt-budget.ts). */
  readonly firstEventMs?: number
}

/**
 * The bounds of one try with `leftMs` of the client's budget left: a stream must reach its
 * first event within `firstTokenTimeoutMs` (and break no silence longer than its adaptive
 * `firstEventMs`); a JSON answer gets that plus `maxTokens` at the floor rate, since its
 * headers come after the whole generation. A try with a candidate after it uses at most its
 * share of the time left (resilience/attempt-budget.ts), so a silent target is left while the
 * next one can still answer. When the deadline itself is the bound the timeout is reported as
 * `total`, so nobody retries it.
 */
export function timeoutsFor(
  { stream, leftMs, maxTokens, hasNext, firstEventMs }: TryBounds,
  deps: Pick<Deps, 'config'>,
): Omit<CallLimits, 'signal' | 'fetch'> {
  const { firstTokenTimeoutMs, connectTimeoutMs } = deps.config.router
  const generation = stream ? 0 : maxTokens === undefined ? Infinity : (maxTokens / JSON_FLOOR_TOKENS_PER_SEC) * 1_000
  const limit = Math.min(firstTokenTimeoutMs + generation, attemptShareMs(leftMs, hasNext === true), leftMs)
  const out: { -readonly [K in keyof ReturnType<typeof timeoutsFor>]: ReturnType<typeof timeoutsFor>[K] } = {
    firstTokenTimeoutMs: limit,
    firstTokenPhase: limit < leftMs ? 'first_token' : 'total',
  }
  // Set only when they bound the try (no spreads: this runs for every try).
  if (stream && connectTimeoutMs < limit) out.connectTimeoutMs = connectTimeoutMs
  if (stream && firstEventMs !== undefined && firstEventMs < limit) out.firstEventMs = firstEventMs
  return out
}

/** Waits `ms`, or less if the client leaves. Resolves false when it left. */
export function timerSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  // An abort that already happened fires no event: answer at once instead of waiting it out.
  if (ms <= 0 || signal.aborted) return Promise.resolve(!signal.aborted)
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(id)
      signal.removeEventListener('abort', done)
      resolve(!signal.aborted)
    }
    const id = setTimeout(done, timerDelay(ms))
    signal.addEventListener('abort', done, { once: true })
  })
}
