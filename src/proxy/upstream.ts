/**
 * One HTTP call to one upstream, with its deadline and abort wiring. No retries in here: a
 * non-2xx answer, a timeout or a network error comes back as a ProxyError value.
 * For streams, success means the commit point was reached: 2xx headers and one parsed event.
 */
import type { UpstreamFetch } from '../deps.ts'
import type { ProxyError, TimeoutPhase } from '../errors.ts'
import {
  createSseDecoder,
  createUsageTap,
  DEFAULT_MAX_EVENT_CHARS,
  parseUpstreamError,
  redact,
  type SseDecoder,
  SseEventTooLarge,
  streamErrorOf,
} from '../formats/index.ts'
import type { JsonObject, SseEvent } from '../formats/types.ts'
import { err, ok, type Result } from '../lib/result.ts'
import type { EventDecoder, PlannedTarget, UpstreamOk } from './types.ts'
import { timerDelay } from '../lib/clock.ts'
import { modelActionUrl, vertexBody, type VertexPlace, vertexUrl } from './vertex.ts'

export interface UpstreamCall {
  readonly url: string
  readonly headers: Headers
  readonly body: string
  readonly stream: boolean
  /** The transformers' `transformResponseOut` chain, run on a 2xx answer before it is read. */
  readonly responseOut?: (res: Response) => Promise<Response>
}

export interface CallLimits {
  /** How the call is sent (`deps.fetch`). */
  readonly fetch: UpstreamFetch
  /** The client's signal: when it aborts, so does the upstream call. */
  readonly signal: AbortSignal
  /** Milliseconds allowed until the first event (streams) or the whole answer (JSON). */
  readonly firstTokenTimeoutMs: number
  /**
   * Streams: how long the body may stay silent before its first content event (the adaptive
   * first-event timeout). Any bytes (a ping, a comment, `message_start`) restart it, so a
   * model that keeps the line alive while it thinks runs on, up to `firstTokenTimeoutMs`.
   */
  readonly firstEventMs?: number
  /** What that bound is called when it fires: `total` when the client's deadline set it. Default `first_token`. */
  readonly firstTokenPhase?: TimeoutPhase
  /**
   * Milliseconds allowed until the response headers. Only for streams: a JSON answer's
   * headers come with the whole generation, so they say nothing about the connection.
   */
  readonly connectTimeoutMs?: number
  /** Wall clock (epoch ms) for rate-limit reset timestamps; without it only relative hints are read. */
  readonly now?: () => number
  /** Longest SSE line or event accepted from the upstream (`SSE_MAX_EVENT_BYTES`); default 16 Mi characters. */
  readonly maxEventChars?: number
  /** Removes configured secrets from the message of an error (upstream bodies may echo our headers). */
  readonly scrub?: (text: string) => string
}

/** Headers for the upstream's own wire format; client headers other than these are never forwarded. */
export function upstreamHeaders(t: PlannedTarget, client: Headers, sameFormat: boolean): Headers {
  const base = baseHeaders(t.provider)
  const h = new Headers(base.headers)
  if (t.provider.format === 'anthropic') {
    // The provider's configured headers are set last, so one of these it configures wins.
    if (!base.setsVersion) h.set('anthropic-version', client.get('anthropic-version') ?? '2023-06-01')
    const beta = client.get('anthropic-beta')
    if (beta && sameFormat && !base.setsBeta) h.set('anthropic-beta', beta)
  }
  return h
}

interface BaseHeaders {
  /** Everything that does not depend on the client: content type, accept, the key, the provider's own headers. */
  readonly headers: Headers
  readonly setsVersion: boolean
  readonly setsBeta: boolean
}

const providerHeaders = new WeakMap<PlannedTarget['provider'], BaseHeaders>()

/**
 * What every call to a provider sends, built once per provider (its config does not change) and
 * copied per call, instead of an init object, a `Bearer` string and a set per header each time.
 */
function baseHeaders(p: PlannedTarget['provider']): BaseHeaders {
  let base = providerHeaders.get(p)
  if (!base) {
    const h = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' })
    // A Vertex provider's bearer is a Google access token, set per call (attempt.ts); its api_key may be a file's path.
    if (!p.vertex) {
      if (p.format === 'anthropic') h.set('x-api-key', p.apiKey)
      else if (p.format === 'gemini') h.set('x-goog-api-key', p.apiKey)
      else h.set('authorization', `Bearer ${p.apiKey}`)
    }
    const names = Object.keys(p.headers).map((k) => k.toLowerCase())
    for (const [k, v] of Object.entries(p.headers)) h.set(k, v)
    base = {
      headers: h,
      setsVersion: names.includes('anthropic-version'),
      setsBeta: names.includes('anthropic-beta'),
    }
    providerHeaders.set(p, base)
  }
  return base
}

/** The upstream request for a body already in the upstream's format; `text` is that body already serialised (passthrough.ts). */
export function buildCall(
  t: PlannedTarget,
  body: JsonObject,
  opts: {
    client: Headers
    query: string
    sameFormat: boolean
    stream: boolean
    text?: string
    /** A Vertex provider's project and location (attempt.ts reads them with its credentials). */
    vertex?: VertexPlace
  },
): UpstreamCall {
  const headers = upstreamHeaders(t, opts.client, opts.sameFormat)
  const { baseUrl, format, vertex } = t.provider
  const url = vertex
    ? vertexUrl(baseUrl, vertex.publisher, {
      model: t.model,
      stream: opts.stream,
      project: opts.vertex?.project ?? '',
      location: opts.vertex?.location ?? '',
    })
    : format === 'gemini'
    ? modelActionUrl(baseUrl, 'google', { model: t.model, stream: opts.stream })
    // Same-format Anthropic calls keep the client's query (`?beta=true`); translated ones have no use for it.
    : opts.sameFormat && opts.query && !baseUrl.includes('?')
    ? baseUrl + opts.query
    : baseUrl
  return { url, headers, body: bodyText(t, body, opts.text), stream: opts.stream }
}

/**
 * A call's body text. Gemini (on Vertex too) names the model and the streaming mode in the URL,
 * Claude on Vertex the model (its body takes Vertex's `anthropic_version`); any other body is
 * `text`, the client's own when only `model` changed, or serialised.
 */
function bodyText(t: PlannedTarget, body: JsonObject, text: string | undefined): string {
  if (t.provider.format === 'gemini') {
    const { model: _model, stream: _stream, ...rest } = body
    return JSON.stringify(rest)
  }
  if (t.provider.vertex?.publisher === 'anthropic') return JSON.stringify(vertexBody(body, 'anthropic'))
  return text ?? JSON.stringify(body)
}

/**
 * The OAuth token exchange for Google credentials (Vertex AI: a service account's JWT or a
 * user's refresh token, proxy/google-auth.ts), bounded to 30 s. The answer's error text is
 * passed on redacted; the form (an assertion, a refresh token) never is.
 */
export async function exchangeGoogleToken(
  fetchFn: UpstreamFetch,
  x: { tokenUri: string; form: Readonly<Record<string, string>>; target: string },
): Promise<Result<{ token: string; expiresInS: number }, ProxyError>> {
  const { tokenUri, form, target } = x
  const body = new URLSearchParams(form).toString()
  try {
    const res = await fetchFn(
      new Request(tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(30_000),
      }),
    )
    const text = await res.text()
    const parsed = (() => {
      try {
        return JSON.parse(text) as { access_token?: unknown; expires_in?: unknown }
      } catch {
        return {}
      }
    })()
    if (res.status < 200 || res.status > 299 || typeof parsed.access_token !== 'string') {
      return err({
        kind: 'upstream_status',
        target,
        status: 401,
        message: `Vertex AI: the token endpoint answered HTTP ${res.status}: ${redact(text).slice(0, 200)}`,
      })
    }
    return ok({
      token: parsed.access_token,
      expiresInS: typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600,
    })
  } catch (e) {
    return err({ kind: 'upstream_network', target, message: `token endpoint: ${networkMessage(e)}` })
  }
}

/**
 * The default service account's token from Google's metadata server (Compute Engine, Cloud
 * Run…), and the project it runs in; each question bounded to 3 s. Errors name the host only.
 * @see https://cloud.google.com/compute/docs/access/authenticate-workloads#applications
 */
export async function metadataToken(
  fetchFn: UpstreamFetch,
  host: string,
  target: string,
): Promise<Result<{ token: string; expiresInS: number; project?: string }, ProxyError>> {
  const ask = (path: string) =>
    fetchFn(
      new Request(`http://${host}/computeMetadata/v1/${path}`, {
        headers: { 'metadata-flavor': 'Google' },
        signal: AbortSignal.timeout(3_000),
      }),
    )
  const failed = (why: string): Result<never, ProxyError> =>
    err({ kind: 'upstream_status', target, status: 401, message: `Vertex AI: the metadata server (${host}) ${why}` })
  try {
    const res = await ask('instance/service-accounts/default/token')
    const body = await res.json().catch(() => ({})) as { access_token?: unknown; expires_in?: unknown }
    if (!res.ok || typeof body.access_token !== 'string') return failed(`answered HTTP ${res.status} with no token`)
    const projectRes = await ask('project/project-id')
    const project = projectRes.ok ? (await projectRes.text()).trim() : (await projectRes.body?.cancel(), '')
    return ok({
      token: body.access_token,
      expiresInS: typeof body.expires_in === 'number' ? body.expires_in : 3600,
      ...(project ? { project } : {}),
    })
  } catch (e) {
    return failed(`did not answer: ${networkMessage(e)}`)
  }
}

/** A failed call's error, its message scrubbed of configured secrets. */
const failed = (e: ProxyError, limits: CallLimits): Result<never, ProxyError> =>
  err(limits.scrub ? scrubError(e, limits.scrub) : e)

/** `e` with every message-like field passed through `scrub`. */
export function scrubError(e: ProxyError, scrub: (text: string) => string): ProxyError {
  return 'message' in e && typeof e.message === 'string' ? { ...e, message: scrub(e.message) } as ProxyError : e
}

/**
 * Sends one call and waits for the commit point; an error's message is scrubbed of configured
 * secrets (`failed`). One async function for the whole call: it runs for every try.
 */
export async function callUpstream(
  call: UpstreamCall,
  t: PlannedTarget,
  limits: CallLimits,
): Promise<Result<UpstreamOk, ProxyError>> {
  if (limits.signal.aborted) return failed({ kind: 'client_closed' }, limits)
  const guard = new CallGuard(limits, call.stream)
  try {
    const raw = await limits.fetch(
      new Request(call.url, {
        method: 'POST',
        headers: call.headers,
        body: limits.fetch.body ? limits.fetch.body(call.body) : call.body,
        signal: guard.signal,
      }),
    )
    guard.connected()
    const res = raw.status >= 200 && raw.status <= 299 && call.responseOut ? await call.responseOut(raw) : raw
    if (res.status < 200 || res.status > 299) {
      const text = await res.text().catch(() => '')
      return failed(
        parseUpstreamError({
          format: t.provider.format,
          status: res.status,
          body: text,
          target: t.key,
          headers: res.headers,
          now: limits.now?.(),
        }),
        limits,
      )
    }
    // A streamed request is read as SSE unless the upstream says JSON: some servers send
    // `text/plain` or no content-type at all for their event streams.
    const type = res.headers.get('content-type') ?? ''
    const isSse = type.includes('text/event-stream') || (call.stream && !type.includes('json'))
    if (!isSse || !res.body) {
      const json = await readJson(res, t)
      return json.ok ? json : failed(json.error, limits)
    }
    const head = await peekFirstEvent(
      guard.reading(res.body.getReader()),
      t,
      () => guard.heard(),
      limits.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS,
    )
    // Stopped by a timer or the client: the try failed so, whatever the cancelled read made of it.
    const stopped = guard.failure(t)
    if (stopped) return failed(stopped, limits)
    if (!head.ok) return failed(head.error, limits)
    return ok({ kind: 'stream', status: res.status, headers: res.headers, ...head.value, abort: (r) => guard.abort(r) })
  } catch (e) {
    return failed(guard.failure(t) ?? { kind: 'upstream_network', target: t.key, message: networkMessage(e) }, limits)
  } finally {
    // After the commit point the stream owns cancellation (stream.ts); timers and listeners end here.
    guard.release()
  }
}

/**
 * A silence timer that fires this much past its due time found the event loop busy: in a burst of
 * stream set-ups (2,000 at once under Bun, fewer under Deno) the proxy's own backlog delays every
 * read, and a healthy upstream whose first event sat unread was timed out, retried and had its
 * breaker tripped (docs/benchmarks.md, "Third pass: bursts of stream set-ups"). Healthy loops
 * fire timers within a few ms; a saturated one was measured 200–900 ms late.
 */
export const LATE_TIMER_MS = 100

/** When a silence timer last fired late (`performance.now()`): the loop was busy then, for every stream. */
let lateSeenAt = Number.NEGATIVE_INFINITY

/**
 * The abort wiring of one call: the client's signal, the connect timer and the first-token timer.
 * One object per call, itself the client-signal listener (`handleEvent`), rather than a closure
 * per callback: this runs for every upstream call.
 */
class CallGuard {
  readonly #ac = new AbortController()
  readonly #client: AbortSignal
  readonly #first: ReturnType<typeof setTimeout>
  readonly #connect: ReturnType<typeof setTimeout> | undefined
  readonly #quietMs: number | undefined
  #quiet: ReturnType<typeof setTimeout> | undefined
  /** When the silence timer is due (`performance.now()`): firing well after it means a busy loop. */
  #quietDueAt = 0
  #why: 'client' | TimeoutPhase | undefined
  /** The body being read before the commit point: cancelled with the call (see `reading`). */
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined

  constructor(limits: CallLimits, stream: boolean) {
    this.#client = limits.signal
    this.#client.addEventListener('abort', this, { once: true })
    const firstPhase = limits.firstTokenPhase ?? 'first_token'
    this.#first = setTimeout(() => this.#stop(firstPhase), timerDelay(limits.firstTokenTimeoutMs))
    const connectMs = limits.connectTimeoutMs
    this.#connect = stream && connectMs !== undefined && connectMs < limits.firstTokenTimeoutMs
      ? setTimeout(() => this.#stop('connect'), timerDelay(connectMs))
      : undefined
    this.#quietMs = stream && limits.firstEventMs !== undefined && limits.firstEventMs < limits.firstTokenTimeoutMs
      ? Math.max(1, limits.firstEventMs)
      : undefined
    if (this.#quietMs !== undefined) this.#armQuiet(this.#quietMs)
  }

  /** (Re-)arms the silence timer before the first content event. */
  #armQuiet(ms: number): void {
    this.#quietDueAt = performance.now() + ms
    this.#quiet = setTimeout(() => this.#onQuiet(ms), timerDelay(ms))
  }

  /**
   * The silence timer fired. Late, or less than its bound after another one fired late, it found
   * the loop busy: the first event may be waiting unread behind our own backlog (LATE_TIMER_MS),
   * so it waits again; `#first` still bounds the try.
   */
  #onQuiet(ms: number): void {
    const now = performance.now()
    if (now - this.#quietDueAt > LATE_TIMER_MS) lateSeenAt = now
    if (now - lateSeenAt < ms) this.#armQuiet(ms)
    else this.#stop('first_token')
  }

  get signal(): AbortSignal {
    return this.#ac.signal
  }

  /** The client's signal aborted. */
  handleEvent(): void {
    this.#stop('client')
  }

  #stop(reason: 'client' | TimeoutPhase): void {
    this.#why ??= reason
    this.#ac.abort(reason === 'client' ? this.#client.reason : new Error(`timeout (${reason})`))
    void this.#reader?.cancel().catch(() => undefined)
  }

  /**
   * The body is read from now on: a timeout or the client leaving also cancels it, so the read in
   * flight ends whether or not the runtime carries the abort into the body (Deno did not always).
   */
  reading(reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStreamDefaultReader<Uint8Array> {
    this.#reader = reader
    return reader
  }

  abort(r?: unknown): void {
    this.#ac.abort(r)
  }

  why(): 'client' | TimeoutPhase | undefined {
    return this.#why
  }

  connected(): void {
    clearTimeout(this.#connect)
  }

  /** Bytes arrived before the first content event: the silence timer starts again. */
  heard(): void {
    if (this.#quietMs !== undefined) {
      clearTimeout(this.#quiet)
      this.#armQuiet(this.#quietMs)
    }
  }

  failure(t: PlannedTarget): ProxyError | undefined {
    const why = this.#why
    return why === undefined
      ? undefined
      : why === 'client'
      ? { kind: 'client_closed' }
      : { kind: 'timeout', target: t.key, phase: why }
  }

  release(): void {
    this.#reader = undefined
    clearTimeout(this.#first)
    clearTimeout(this.#connect)
    clearTimeout(this.#quiet)
    this.#client.removeEventListener('abort', this)
  }
}

async function readJson(res: Response, t: PlannedTarget): Promise<Result<UpstreamOk, ProxyError>> {
  const text = await res.text()
  try {
    const body: unknown = JSON.parse(text)
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      return ok({ kind: 'json', status: res.status, headers: res.headers, body: body as JsonObject })
    }
  } catch { /* fall through: garbage from the upstream */ }
  return err({
    kind: 'upstream_status',
    target: t.key,
    status: 502,
    message: `Upstream ${t.key} answered 2xx with a body that is not a JSON object`,
  })
}

type Head = {
  reader: ReadableStreamDefaultReader<Uint8Array>
  head: Uint8Array[]
  headEvents: SseEvent[]
  decode: EventDecoder
}

/** A byte-level SSE decoder: TextDecoder in stream mode so multi-byte characters survive chunk splits. */
export function eventDecoder(maxEventChars?: number): EventDecoder {
  return new BytesDecoder(createSseDecoder(maxEventChars === undefined ? {} : { maxEventChars }))
}

/** One options object for every read, not one per chunk. */
const STREAMING: TextDecodeOptions = { stream: true }

/** A class rather than two closures: every open stream keeps one. */
class BytesDecoder implements EventDecoder {
  readonly #text = new TextDecoder()
  readonly #sse: SseDecoder
  /** The last byte pushed was a newline (ASCII: no multi-byte character can be pending in the TextDecoder). */
  #endsInNewline = true
  constructor(sse: SseDecoder) {
    this.#sse = sse
  }
  get atBoundary(): boolean {
    return this.#endsInNewline && this.#sse.idle
  }
  push(bytes: Uint8Array): SseEvent[] {
    if (bytes.byteLength > 0) this.#endsInNewline = bytes[bytes.byteLength - 1] === 10
    return this.#sse.push(this.#text.decode(bytes, STREAMING))
  }
  flush(): SseEvent[] {
    const rest = this.#text.decode()
    return rest ? [...this.#sse.push(rest), ...this.#sse.flush()] : this.#sse.flush()
  }
}

/** The failure of a stream whose upstream sent an oversized line or event (nothing of it reached the client yet when before the commit point). */
export function tooLarge(e: unknown, t: PlannedTarget, afterEvents: number): ProxyError | undefined {
  return e instanceof SseEventTooLarge
    ? { kind: 'stream_broken', target: t.key, afterEvents, message: e.message }
    : undefined
}

/**
 * Reads until the first content event (text, thinking or tool arguments) or the answer's end:
 * that is the commit point. Framing events before it (`message_start`, a role-only chunk,
 * pings) are held, so an error event or a silence there still allows failover and nothing
 * has reached the client. A body that ends with only framing events is handed on as before
 * (the stream renders it complete or as an in-stream error). A line or event longer than
 * `maxChars`, or more than `maxChars` bytes held before the commit point, ends the attempt
 * (and the next target is tried).
 */
async function peekFirstEvent(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  t: PlannedTarget,
  heard: () => void,
  maxChars: number,
): Promise<Result<Head, ProxyError>> {
  const decode = eventDecoder(maxChars)
  const tap = createUsageTap(t.provider.format)
  const head: Uint8Array[] = []
  const headEvents: SseEvent[] = []
  let headBytes = 0
  const take = (evs: readonly SseEvent[]): unknown => {
    for (const ev of evs) {
      headEvents.push(ev)
      if (!isRealEvent(ev)) continue
      const failed = errorPayloadOf(ev)
      if (failed) return failed
      tap.observe(ev)
    }
    return undefined
  }
  const fail = (e: ProxyError): Result<Head, ProxyError> => {
    void reader.cancel().catch(() => undefined)
    return err(e)
  }
  for (;;) {
    const { done, value } = await reader.read()
    let failed: unknown
    try {
      if (!done) {
        head.push(value)
        headBytes += value.byteLength
      }
      failed = take(done ? decode.flush() : decode.push(value))
    } catch (e) {
      const failure = tooLarge(e, t, 0)
      if (failure) return fail(failure)
      throw e
    }
    if (failed) return fail(streamErrorOf(failed, t.key))
    if (done) {
      if (headEvents.some(isRealEvent)) break
      return err({
        kind: 'stream_broken',
        target: t.key,
        afterEvents: 0,
        message: 'upstream closed the stream before its first event',
      })
    }
    if (tap.contentEvents > 0 || tap.finished) break
    if (headBytes > maxChars) {
      return fail({
        kind: 'stream_broken',
        target: t.key,
        afterEvents: 0,
        message: `upstream sent more than ${maxChars} bytes before its first content event`,
      })
    }
    heard()
  }
  return ok({ reader, head, headEvents, decode })
}

const isRealEvent = (ev: SseEvent) => ev.event !== 'ping' && ev.data !== ''

/**
 * The error payload of an event that is one (Anthropic `event: error`, OpenAI `{"error": …}`).
 * Only events before the commit point are asked: an error there still allows failover, with its type's status.
 */
export function errorPayloadOf(ev: SseEvent): unknown {
  if (ev.event !== 'error' && !ev.data.includes('"error"')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(ev.data)
  } catch {
    parsed = undefined
  }
  const isError = ev.event === 'error' ||
    (parsed !== null && typeof parsed === 'object' && (parsed as { error?: unknown }).error != null)
  return isError ? parsed ?? { error: { message: ev.data } } : undefined
}

function networkMessage(e: unknown): string {
  // Runtime messages can name the URL; keep only the error's kind so no upstream address leaks.
  const code = (e as { code?: unknown } | null)?.code
  const name = e instanceof Error ? e.name : 'Error'
  return `connection failed (${typeof code === 'string' ? code : name})`
}
