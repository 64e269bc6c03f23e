/**
 * The committed stream: upstream bytes → events → (translation | pass-through) → client bytes.
 * Pull-based, so a slow client slows our reads of the upstream: at most `sseBufferSize` chunks
 * wait in the queue. A failure after the commit point becomes a well-formed in-stream error,
 * never a truncated answer that looks complete.
 */
import type { ProxyError } from '../errors.ts'
import {
  cannotContinue,
  createUsageTap,
  encodeSseAll,
  redact,
  renderStreamError,
  sameFormatRepair,
  Splicer,
  streamErrorOf,
  StreamRecord,
  takesSseComments,
  ToolHold,
  translationFor,
  type UsageTap,
} from '../formats/index.ts'
import type {
  SseEvent,
  StreamTranslator,
  TranslateContext,
  Translation,
  Usage,
  WireFormatName,
} from '../formats/types.ts'
import type { AttemptOk } from './attempt.ts'
import type { RequestContext } from './context.ts'
import { continuable, continuationCandidates, MAX_CONTINUATIONS, openContinuation } from './continue.ts'
import { errorPayloadOf, scrubError, tooLarge } from './upstream.ts'
import type { ClientRequest, PlannedTarget, UpstreamOk } from './types.ts'
import type { WatchedStream } from './watchdog.ts'
import { type ContinuationNote, routeTrailer } from './route-header.ts'
import { scrubberOf } from '../config/secrets.ts'

type StreamUp = Extract<UpstreamOk, { kind: 'stream' }>
type ReadResult = Awaited<ReturnType<StreamUp['reader']['read']>>

/**
 * How an upstream answer becomes the client's: a translation between formats, a same-format
 * repair (`enhancetool` on OpenAI), or nothing (bytes pass through untouched).
 */
export function responseAdapter(
  client: WireFormatName,
  upstream: WireFormatName,
  ctx: TranslateContext,
): Pick<Translation, 'response' | 'stream'> | undefined {
  return translationFor(client, upstream) ?? (client === upstream ? sameFormatRepair(client, ctx) : undefined)
}

export interface StreamEnd {
  readonly ok: boolean
  /** Usage of the last attempt (the one `attempt` names). */
  readonly usage?: Usage
  readonly error?: ProxyError
  /** The attempt that served the end of the stream: the committed one, or the last continuation. */
  readonly attempt: AttemptOk
  /**
   * What every attempt that streamed into this answer is billed, summed; a try cut short counts
   * its input as estimated and its output as at least what it streamed (`billedUsage`).
   */
  readonly totalUsage?: Usage
  /**
   * The usage the committed attempt reported for the client's own prompt, when the stream was
   * continued: a continuation's prompt carries the prefill, so drift is judged on this one.
   */
  readonly promptUsage?: Usage
  /** How many times the stream was continued on another try. */
  readonly continued: number
  /** Characters of model output seen (for an estimate when the upstream reports no usage). */
  readonly outputChars: number
}

const encoder = new TextEncoder()
const encodeAll = (evs: readonly SseEvent[]) => encoder.encode(encodeSseAll(evs))
const NONE: readonly SseEvent[] = []
const NO_BYTES: readonly Uint8Array[] = []
/**
 * The keep-alive a quiet stream sends its client: Anthropic's ping event, else a comment, and
 * nothing where the client takes no comment (Gemini's).
 */
const commentPing = (f: WireFormatName) => takesSseComments(f) ? encoder.encode(': ping\n\n') : undefined
const PING: Record<WireFormatName, Uint8Array | undefined> = {
  anthropic: encoder.encode('event: ping\ndata: {"type":"ping"}\n\n'),
  openai: commentPing('openai'),
  responses: commentPing('responses'),
  gemini: commentPing('gemini'),
}

/** One upstream attempt feeding the client stream. */
interface Source {
  readonly t: PlannedTarget
  readonly a: AttemptOk & { up: StreamUp }
  readonly translator: StreamTranslator | undefined
  readonly tap: UsageTap
  sawContent: boolean
}

function sourceOf(req: ClientRequest, t: PlannedTarget, a: AttemptOk & { up: StreamUp }): Source {
  return {
    t,
    a,
    translator: responseAdapter(req.format, t.provider.format, a.ctx)?.stream(a.ctx),
    tap: createUsageTap(t.provider.format),
    sawContent: false,
  }
}

/**
 * The client-facing body of a committed stream. `onEnd` runs exactly once. When the context
 * has `remaining` targets (pipeline.ts, with `Router.continueStreams`), a stream that breaks
 * after the commit point is continued on another try (continue.ts) instead of ending with an
 * in-stream error, when what the client has allows it.
 */
export function streamBody(
  rc: Pick<RequestContext, 'req' | 'deps'> & Partial<RequestContext>,
  a: AttemptOk & { up: StreamUp },
  onEnd: (end: StreamEnd) => void,
): ReadableStream<Uint8Array> {
  const s = new ClientStream(rc, a, onEnd)
  return new ReadableStream<Uint8Array>(
    s,
    new CountQueuingStrategy({ highWaterMark: Math.max(1, rc.deps.config.sseBufferSize) }),
  )
}

/**
 * One committed stream's state and steps. One object with methods rather than a closure per
 * step: thousands of streams stay open at once, and each closure (and the scope it keeps) is
 * memory per stream (the only two are the read handlers, made once). It is the stream's
 * underlying source, what the watchdog watches, and the listener of the client's abort signal.
 */
class ClientStream implements UnderlyingDefaultSource<Uint8Array>, WatchedStream {
  readonly req: ClientRequest
  readonly deps: RequestContext['deps']
  readonly cont: (RequestContext & { readonly remaining: readonly PlannedTarget[] }) | undefined
  readonly onEnd: (end: StreamEnd) => void
  cur: Source
  readonly rec: StreamRecord | undefined
  // Tool calls reach a stream that may be continued only whole: a cut inside one drops it and the continuation makes it again.
  readonly hold: ToolHold | undefined
  splicer: Splicer | undefined
  continued = 0
  /** The targets that served this stream (the trailer's `via`), and what became of its last break. */
  readonly via: string[]
  lastBreak: ContinuationNote['outcome'] | undefined
  /** Targets that rejected a prefill in this stream: a later continuation asks them in words at once. */
  noPrefill: Set<string> | undefined
  earlier: Usage | undefined
  promptUsage: Usage | undefined
  /** Chunks enqueued so far (a pull returns once it has sent one). */
  sent = 0
  ended = false
  failure: ProxyError | undefined
  pending: ProxyError | undefined
  ctrl!: ReadableStreamDefaultController<Uint8Array>
  // WatchedStream
  lastUpstreamAt: number
  lastClientAt: number
  readonly idleMs: number
  readonly deadlineAt: number

  constructor(
    rc: Pick<RequestContext, 'req' | 'deps'> & Partial<RequestContext>,
    a: AttemptOk & { up: StreamUp },
    onEnd: (end: StreamEnd) => void,
  ) {
    const { req, deps } = rc
    this.req = req
    this.deps = deps
    this.onEnd = onEnd
    this.cont = continuable(rc) ? rc : undefined
    this.cur = sourceOf(req, a.target, a)
    this.rec = this.cont ? new StreamRecord(req.format) : undefined
    this.hold = this.rec ? new ToolHold(req.format) : undefined
    this.via = [a.target.key]
    this.lastUpstreamAt = this.lastClientAt = deps.now()
    this.idleMs = deps.config.router.streamIdleTimeoutMs
    this.deadlineAt = req.receivedAt + deps.config.apiTimeoutMs
    deps.watchdog.watch(this)
    req.signal.addEventListener('abort', this, { once: true })
  }

  /** The client's signal aborted (the listener object's method). */
  handleEvent(): void {
    this.finish(undefined, { kind: 'client_closed' })
  }
  onTimeout(phase: 'idle' | 'total'): void {
    this.stopUpstream({ kind: 'timeout', target: this.cur.t.key, phase })
  }
  ping(): void {
    const ping = PING[this.req.format]
    if (ping && !this.ended) this.ctrl.enqueue(ping)
  }
  abort(message: string): void {
    this.stopUpstream({ kind: 'overloaded', message })
  }
  /**
   * Ends the current try with `failure` (a timeout, or shutdown past its drain deadline): its
   * request aborted and its body's reader cancelled, so the read in flight ends now (done, and
   * `onRead` hands the failure on) whether or not the runtime carries the abort into the body.
   * Deno did not always: streams the shutdown had aborted read on to their natural end, and
   * the shutdown waited for them.
   */
  stopUpstream(failure: ProxyError): void {
    this.failure ??= failure
    const up = this.cur.a.up
    up.abort(this.failure)
    void up.reader.cancel(this.failure).catch(() => undefined)
  }

  /**
   * Upstream events → client chunks, enqueued on `c`; stops at an upstream error event when the
   * stream may be continued and returns it. `whole`: `bytes` are exactly these events, starting
   * and ending at event boundaries. Called once per upstream chunk: it enqueues directly and
   * builds no array per chunk when one translator call, or the chunk itself, has all the events.
   */
  process(
    c: ReadableStreamDefaultController<Uint8Array>,
    evs: readonly SseEvent[],
    bytes: Uint8Array | readonly Uint8Array[],
    whole = false,
  ): ProxyError | undefined {
    const { cur, rec } = this
    const { translator, tap } = cur
    // A pure pass-through sends the upstream's bytes untouched; a stream that may be spliced
    // sends whole events only, so a cut never leaves half an event at the client.
    const pure = !translator && !rec
    // The events for the client: a translator's first non-empty answer is used as it is (copied
    // only when a second one comes); without a translator, the upstream's own events.
    let out = translator ? NONE : evs
    let own = false
    let broken: ProxyError | undefined
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!
      const failed = rec ? errorPayloadOf(ev) : undefined
      if (failed) {
        broken = streamErrorOf(failed, cur.t.key)
        if (!translator) out = evs.slice(0, i)
        break
      }
      tap.observe(ev)
      // The tap already recognises content deltas (text, reasoning, tool arguments) of the upstream's format.
      if (!cur.sawContent && tap.contentEvents > 0) {
        cur.sawContent = true
        cur.a.timer.firstToken()
      }
      if (!translator) continue
      const got = translator.push(ev)
      if (got.length === 0) continue
      if (out.length === 0) out = got
      else if (own) { for (const e of got) (out as SseEvent[]).push(e) }
      else {
        out = [...out, ...got]
        own = true
      }
    }
    if (pure) {
      this.sendBytes(c, bytes)
      return undefined
    }
    this.emit(c, out, !broken && whole && !translator ? bytes : undefined)
    return broken
  }
  /**
   * Enqueue the client's chunks for these events. `raw`: the upstream bytes that are exactly
   * `evs` (whole events, nothing translated); sent as they are when the splicer and the tool
   * hold let every event through unchanged, instead of encoding the same events again.
   */
  emit(
    c: ReadableStreamDefaultController<Uint8Array>,
    evs: readonly SseEvent[],
    raw?: Uint8Array | readonly Uint8Array[],
  ): void {
    const { splicer, hold, rec } = this
    const spliced = splicer ? splicer.push(evs) : evs
    const client = hold ? hold.push(spliced) : spliced
    if (rec) { for (const ev of client) rec.observe(ev) }
    if (client.length === 0) return
    if (raw && sameEvents(client, evs)) this.sendBytes(c, raw)
    else this.send(c, encodeAll(client))
  }
  /**
   * The upstream's chunks as they were read. Each has a buffer of its own size (the runtime's
   * `smallReads` sees to it where reads share a larger one), so a chunk queued for a slow client
   * holds its own bytes only.
   */
  sendBytes(c: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array | readonly Uint8Array[]): void {
    if (bytes instanceof Uint8Array) return this.send(c, bytes)
    for (const b of bytes) this.send(c, b)
  }
  send(c: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): void {
    c.enqueue(chunk)
    this.sent++
  }

  /** The closing events once the current upstream ended its body, or why it was incomplete. */
  closing(): { events: SseEvent[]; broken?: ProxyError } {
    const { cur, rec } = this
    const { translator, tap } = cur
    if (translator) {
      const evs = translator.end()
      if (translator.errored && rec) return { events: [], broken: incomplete(cur.t, tap.events) }
      return { events: evs }
    }
    if (rec && !tap.finished && !tap.errored) return { events: [], broken: incomplete(cur.t, tap.events) }
    return { events: passThroughEnd(this.req.format, tap, cur.t) }
  }

  /** The events of a stream that ended well: the last ones, through the splicer and the tool hold. */
  endTail(last: readonly SseEvent[]): readonly SseEvent[] {
    const { splicer, hold } = this
    const spliced = splicer ? [...splicer.push(last), ...splicer.end()] : last
    return hold ? [...hold.push(spliced), ...hold.end()] : spliced
  }
  /** Before the error event: held leading text goes out, a held (incomplete) tool call never does. */
  failedTail(): readonly SseEvent[] {
    const { splicer, hold } = this
    const out = hold ? hold.push(splicer?.end() ?? []) : splicer?.end() ?? []
    hold?.drop()
    return out
  }
  finish(
    c: ReadableStreamDefaultController<Uint8Array> | undefined,
    error?: ProxyError,
    last: readonly SseEvent[] = [],
  ): void {
    if (this.ended) return
    const { req, deps, cur, rec, cont, continued } = this
    const { translator, tap, a: at } = cur
    if (c) {
      if (error) error = scrubError(error, scrubberOf(deps.config))
      const tail = error ? [...this.failedTail(), ...renderStreamError(req.format, error)] : this.endTail(last)
      // Passed-through bytes may stop mid-line (a cut, an oversized event): blank lines first end
      // that partial event, so the error is parsed as an event of its own (a blank line at an
      // event boundary dispatches nothing).
      if (tail.length) {
        c.enqueue(
          !translator && !rec && error ? encoder.encode(`\n\n${encodeSseAll(tail)}`) : encodeAll(tail),
        )
      }
      // A stream that broke after the commit point says what became of it in its last bytes, as a
      // comment: to clients that take one (the log and /v1/requests say it for all).
      const outcome = continued > 0 && !error ? 'completed' : this.lastBreak
      if (outcome && cont && takesSseComments(req.format)) {
        c.enqueue(encoder.encode(routeTrailer(cont.trace, { continued, outcome, via: this.via })))
      }
      c.close()
    }
    this.ended = true
    deps.watchdog.unwatch(this)
    req.signal.removeEventListener('abort', this)
    if (error?.kind === 'client_closed') {
      at.up.abort(error)
      void at.up.reader.cancel().catch(() => undefined)
    }
    const complete = !error && (translator ? translator.done && !translator.errored : tap.finished && !tap.errored)
    const endError = error ?? (complete ? undefined : incomplete(cur.t, tap.events))
    if (continued > 0 && !error) deps.telemetry.continued?.(complete ? 'completed' : 'failed')
    this.onEnd({
      ok: complete,
      usage: tap.usage,
      error: endError,
      attempt: at,
      totalUsage: tap.usage || continued > 0
        ? addUsage(this.earlier, billedUsage(tap, at.ctx.estimatedInputTokens))
        : undefined,
      promptUsage: this.promptUsage,
      continued,
      outputChars: tap.outputChars,
    })
  }

  /**
   * The current upstream broke after the commit point: continue on another try (true: read
   * on), or end the stream with the error (false).
   */
  async broke(c: ReadableStreamDefaultController<Uint8Array>, error: ProxyError): Promise<boolean> {
    const { req, deps, rec, cont, hold } = this
    const why = rec && cont && !this.ended ? refusal(rec, error, this.continued) : 'disabled'
    if (why !== undefined || !rec || !cont) {
      if (why !== 'disabled' && rec) {
        deps.telemetry.continued?.('refused')
        this.lastBreak = 'refused'
      }
      this.finish(c, error)
      return false
    }
    const old = this.cur
    // A tool call cut before it was whole never reached the client: the continuation makes it again.
    hold?.drop()
    old.a.up.abort(error)
    void old.a.up.reader.cancel().catch(() => undefined)
    const next = await openContinuation(cont, rec, {
      candidates: continuationCandidates(old.t, error, cont.remaining),
      noPrefill: this.noPrefill ??= new Set<string>(),
    })
    if (this.ended) {
      if (next) {
        next.a.up.abort({ kind: 'client_closed' })
        next.a.timer.finish({ ok: false, error: { kind: 'client_closed' } })
        next.a.release()
      }
      return false
    }
    // Nothing could continue: the answer ends with the error, as without continuation.
    if (!next) {
      deps.telemetry.continued?.('failed')
      this.lastBreak = 'failed'
      this.finish(c, error)
      return false
    }
    // The broken try ends here; the last one is ended by onEnd.
    old.a.timer.finish({ ok: false, error, outputTokens: old.tap.usage?.outputTokens })
    const billed = billedUsage(old.tap, old.a.ctx.estimatedInputTokens)
    old.a.release(billed)
    this.earlier = addUsage(this.earlier, billed)
    if (this.continued === 0) this.promptUsage = old.tap.usage
    deps.telemetry.attemptFailed(old.t, error)
    deps.routing.continued?.(old.t)
    this.continued++
    this.lastBreak = 'failed'
    this.via.push(`${next.t.key} (${next.style})`)
    this.failure = undefined
    this.cur = sourceOf(req, next.t, next.a)
    const splicer = this.splicer = new Splicer(req.format, rec)
    this.lastUpstreamAt = deps.now()
    const opening = splicer.opening()
    for (const ev of opening) rec.observe(ev)
    if (opening.length) c.enqueue(encodeAll(opening))
    const [evs, bytes] = takeHead(this.cur.a.up)
    const broken = this.process(c, evs, bytes)
    return broken ? this.broke(c, broken) : true
  }

  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.ctrl = c
    const up = this.cur.a.up
    // The body's first bytes start at an event boundary: together they are whole events if they end at one.
    // An error right after the commit point is met on the first pull.
    const [evs, bytes] = takeHead(up)
    this.pending = this.process(c, evs, bytes, up.decode.atBoundary)
  }
  /**
   * One chunk for the client (or the end): read, decode, process. A promise chain with the two
   * handlers below, made once per stream, rather than an async function: each pull of an
   * `async` body costs a generator, its scope and an await reaction, per chunk.
   */
  pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const f = this.pending
    if (!f) return this.next()
    // An error right after the commit point.
    this.pending = undefined
    return this.goOn(c, f)
  }
  /** Read the current upstream on. */
  next(): Promise<void> {
    return this.cur.a.up.reader.read().then(this.onRead, this.onReadFailed)
  }
  /** After a break: continue on another try and read on, or end (`broke`). */
  async goOn(c: ReadableStreamDefaultController<Uint8Array>, error: ProxyError): Promise<void> {
    if (await this.broke(c, error)) return this.next()
  }
  readonly onReadFailed = (e: unknown): Promise<void> | undefined => {
    if (this.ended) return
    // Runtime messages can name hosts; only the redacted text reaches the client.
    return this.goOn(
      this.ctrl,
      this.failure ??
        {
          kind: 'stream_broken',
          target: this.cur.t.key,
          afterEvents: this.cur.tap.events,
          message: redact(String((e as Error)?.message ?? e)),
        },
    )
  }
  readonly onRead = (r: ReadResult): Promise<void> | undefined => {
    if (this.ended) return
    const c = this.ctrl
    const up = this.cur.a.up
    if (r.done) {
      // The reader was cancelled by `stopUpstream`: the try ended with its failure, not well.
      if (this.failure) return this.goOn(c, this.failure)
      const broken = this.process(c, up.decode.flush(), NO_BYTES)
      const end = broken ? { events: [], broken } : this.closing()
      if (!end.broken) return void this.finish(c, undefined, end.events)
      return this.goOn(c, end.broken)
    }
    this.lastUpstreamAt = this.deps.now()
    let evs: SseEvent[]
    const wasAtBoundary = up.decode.atBoundary
    try {
      evs = up.decode.push(r.value)
    } catch (e) {
      // An oversized line or event (SSE_MAX_EVENT_BYTES): stop reading it, then end or continue.
      const tooBig = tooLarge(e, this.cur.t, this.cur.tap.events)
      if (!tooBig) throw e
      void up.reader.cancel().catch(() => undefined)
      return this.goOn(c, tooBig)
    }
    const sent = this.sent
    const broken = this.process(c, evs, r.value, wasAtBoundary && up.decode.atBoundary)
    if (broken) return this.goOn(c, broken)
    // Nothing for the client in this chunk (held back, or no events yet): read on.
    if (this.sent === sent) return this.next()
    this.lastClientAt = this.lastUpstreamAt
    if ((c.desiredSize ?? 1) <= 0) this.deps.telemetry.backpressure()
  }
  cancel(): void {
    this.finish(undefined, { kind: 'client_closed' })
  }
}

/**
 * The head read up to the commit point, once: the upstream answer stops holding it (an open
 * stream would keep it, with its events, to the end).
 */
function takeHead(up: StreamUp): [readonly SseEvent[], readonly Uint8Array[]] {
  const taken: [readonly SseEvent[], readonly Uint8Array[]] = [up.headEvents, up.head]
  up.headEvents = NONE
  up.head = NO_BYTES
  return taken
}

/** The same event objects in the same order (the splicer and the tool hold pass events through by identity). */
function sameEvents(a: readonly SseEvent[], b: readonly SseEvent[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Why this break is not continued (undefined: it is). */
function refusal(rec: StreamRecord, error: ProxyError, continued: number): string | undefined {
  if (continued >= MAX_CONTINUATIONS) return 'too many continuations'
  if (
    error.kind === 'client_closed' || (error.kind === 'timeout' && error.phase === 'total') ||
    error.kind === 'overloaded'
  ) return 'the request is over'
  return cannotContinue(rec)
}

/**
 * What one try that streamed is billed: the usage it reported once it finished; a try cut short
 * (an OpenAI stream's usage comes last, an Anthropic one's output count with `message_delta`)
 * was still billed for its prompt and for what it generated, so its input is the request's
 * estimate when nothing was reported, and its output at least ~4 characters a token of what it
 * streamed.
 */
export function billedUsage(
  tap: Pick<UsageTap, 'usage' | 'finished' | 'outputChars'>,
  estimatedInputTokens: number,
): Usage {
  const u = tap.usage
  if (u && tap.finished) return u
  const streamed = Math.ceil(tap.outputChars / 4)
  if (!u) {
    return { inputTokens: estimatedInputTokens, outputTokens: streamed, cacheReadTokens: 0, cacheCreationTokens: 0 }
  }
  return u.outputTokens >= streamed ? u : { ...u, outputTokens: streamed }
}

function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a || !b) return a ?? b
  const reasoning = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0)
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheCreationTokens: a.cacheCreationTokens + b.cacheCreationTokens,
    ...(reasoning > 0 ? { reasoningTokens: reasoning } : {}),
  }
}

/**
 * The closing events of a pass-through stream whose body ended: none after its terminator or
 * an error; `[DONE]` after an OpenAI `finish_reason` (the sentinel is optional upstream, but
 * clients expect it); otherwise the answer was cut short and gets an in-stream error.
 */
function passThroughEnd(format: WireFormatName, tap: UsageTap, t: PlannedTarget): SseEvent[] {
  if (tap.terminal || tap.errored) return []
  if (tap.finished && format === 'openai') return [{ data: '[DONE]' }]
  return renderStreamError(format, incomplete(t, tap.events))
}

function incomplete(t: PlannedTarget, events: number): ProxyError {
  return {
    kind: 'stream_broken',
    target: t.key,
    afterEvents: events,
    message: 'upstream ended the stream without its terminal event',
  }
}
