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
  encodeSse,
  redact,
  renderStreamError,
  sameFormatRepair,
  Splicer,
  streamErrorOf,
  StreamRecord,
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
  /** Usage summed over every attempt that streamed into this answer. */
  readonly totalUsage?: Usage
  /** How many times the stream was continued on another try. */
  readonly continued: number
  /** Characters of model output seen (for an estimate when the upstream reports no usage). */
  readonly outputChars: number
}

const encoder = new TextEncoder()
const encodeAll = (evs: readonly SseEvent[]) => encoder.encode(evs.map(encodeSse).join(''))
const COMMENT_PING = encoder.encode(': ping\n\n')
const PING: Record<WireFormatName, Uint8Array> = {
  anthropic: encoder.encode('event: ping\ndata: {"type":"ping"}\n\n'),
  openai: COMMENT_PING,
  responses: COMMENT_PING,
  gemini: COMMENT_PING,
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
  const { req, deps } = rc
  const cont = continuable(rc) ? rc : undefined
  let cur = sourceOf(req, a.target, a)
  const rec = cont ? new StreamRecord(req.format) : undefined
  // Tool calls reach a stream that may be continued only whole: a cut inside one drops it and the continuation makes it again.
  const hold = rec ? new ToolHold(req.format) : undefined
  let splicer: Splicer | undefined
  let continued = 0
  /** The targets that served this stream (the trailer's `via`), and what became of its last break. */
  const via: string[] = [a.target.key]
  let lastBreak: ContinuationNote['outcome'] | undefined
  /** Targets that rejected a prefill in this stream: a later continuation asks them in words at once. */
  const noPrefill = new Set<string>()
  let earlier: Usage | undefined
  let ended = false
  let failure: ProxyError | undefined
  let pending: ProxyError | undefined
  let ctrl: ReadableStreamDefaultController<Uint8Array>

  /** Upstream events → client chunks; stops at an upstream error event when the stream may be continued. */
  const process = (
    evs: readonly SseEvent[],
    bytes: readonly Uint8Array[],
  ): { chunks: readonly Uint8Array[]; broken?: ProxyError } => {
    // A pure pass-through sends the upstream's bytes untouched; a stream that may be spliced
    // sends whole events only, so a cut never leaves half an event at the client.
    const pure = !cur.translator && !rec
    const out: SseEvent[] = []
    let broken: ProxyError | undefined
    for (const ev of evs) {
      const failed = rec ? errorPayloadOf(ev) : undefined
      if (failed) {
        broken = streamErrorOf(failed, cur.t.key)
        break
      }
      cur.tap.observe(ev)
      // The tap already recognises content deltas (text, reasoning, tool arguments) of the upstream's format.
      if (!cur.sawContent && cur.tap.contentEvents > 0) {
        cur.sawContent = true
        cur.a.timer.firstToken()
      }
      if (cur.translator) out.push(...cur.translator.push(ev))
      else if (!pure) out.push(ev)
    }
    if (pure) return { chunks: bytes }
    return { chunks: emit(out), ...(broken ? { broken } : {}) }
  }
  const emit = (evs: readonly SseEvent[]): Uint8Array[] => {
    const spliced = splicer ? splicer.push(evs) : evs
    const client = hold ? hold.push(spliced) : spliced
    if (rec) { for (const ev of client) rec.observe(ev) }
    return client.length ? [encodeAll(client)] : []
  }
  const watched: WatchedStream = {
    lastUpstreamAt: deps.now(),
    lastClientAt: deps.now(),
    idleMs: deps.config.router.streamIdleTimeoutMs,
    deadlineAt: req.receivedAt + deps.config.apiTimeoutMs,
    onTimeout: (phase) => {
      failure ??= { kind: 'timeout', target: cur.t.key, phase }
      cur.a.up.abort(failure)
    },
    ping: () => {
      if (!ended) ctrl.enqueue(PING[req.format])
    },
    abort: (message) => {
      failure ??= { kind: 'overloaded', message }
      cur.a.up.abort(failure)
    },
  }
  const unwatch = deps.watchdog.watch(watched)
  const onClientGone = () => finish(undefined, { kind: 'client_closed' })
  req.signal.addEventListener('abort', onClientGone, { once: true })

  /** The closing events once the current upstream ended its body, or why it was incomplete. */
  function closing(): { events: SseEvent[]; broken?: ProxyError } {
    const { translator, tap } = cur
    if (translator) {
      const evs = translator.end()
      if (translator.errored && rec) return { events: [], broken: incomplete(cur.t, tap.events) }
      return { events: evs }
    }
    if (rec && !tap.finished && !tap.errored) return { events: [], broken: incomplete(cur.t, tap.events) }
    return { events: passThroughEnd(req.format, tap, cur.t) }
  }

  /** The events of a stream that ended well: the last ones, through the splicer and the tool hold. */
  function endTail(last: readonly SseEvent[]): SseEvent[] {
    const spliced = splicer ? [...splicer.push(last), ...splicer.end()] : last
    return hold ? [...hold.push(spliced), ...hold.end()] : [...spliced]
  }
  /** Before the error event: held leading text goes out, a held (incomplete) tool call never does. */
  function failedTail(): SseEvent[] {
    const out = hold ? hold.push(splicer?.end() ?? []) : splicer?.end() ?? []
    hold?.drop()
    return out
  }
  function finish(
    c: ReadableStreamDefaultController<Uint8Array> | undefined,
    error?: ProxyError,
    last: readonly SseEvent[] = [],
  ): void {
    if (ended) return
    const { translator, tap, a: at } = cur
    if (c) {
      if (error) error = scrubError(error, scrubberOf(deps.config))
      const tail = error ? [...failedTail(), ...renderStreamError(req.format, error)] : endTail(last)
      // Passed-through bytes may stop mid-line (a cut, an oversized event): blank lines first end
      // that partial event, so the error is parsed as an event of its own (a blank line at an
      // event boundary dispatches nothing).
      if (tail.length) {
        c.enqueue(
          !translator && !rec && error ? encoder.encode(`\n\n${tail.map(encodeSse).join('')}`) : encodeAll(tail),
        )
      }
      // A stream that broke after the commit point says what became of it in its last bytes.
      const outcome = continued > 0 && !error ? 'completed' : lastBreak
      if (outcome && cont) c.enqueue(encoder.encode(routeTrailer(cont.trace, { continued, outcome, via })))
      c.close()
    }
    ended = true
    unwatch()
    req.signal.removeEventListener('abort', onClientGone)
    if (error?.kind === 'client_closed') {
      at.up.abort(error)
      void at.up.reader.cancel().catch(() => undefined)
    }
    const complete = !error && (translator ? translator.done && !translator.errored : tap.finished && !tap.errored)
    const endError = error ?? (complete ? undefined : incomplete(cur.t, tap.events))
    if (continued > 0 && !error) deps.telemetry.continued?.(complete ? 'completed' : 'failed')
    onEnd({
      ok: complete,
      usage: tap.usage,
      error: endError,
      attempt: at,
      totalUsage: addUsage(earlier, tap.usage),
      continued,
      outputChars: tap.outputChars,
    })
  }

  /**
   * The current upstream broke after the commit point: continue on another try (true: read
   * on), or end the stream with the error (false).
   */
  async function broke(c: ReadableStreamDefaultController<Uint8Array>, error: ProxyError): Promise<boolean> {
    const why = rec && cont && !ended ? refusal(rec, error, continued) : 'disabled'
    if (why !== undefined || !rec || !cont) {
      if (why !== 'disabled' && rec) {
        deps.telemetry.continued?.('refused')
        lastBreak = 'refused'
      }
      finish(c, error)
      return false
    }
    const old = cur
    // A tool call cut before it was whole never reached the client: the continuation makes it again.
    hold?.drop()
    old.a.up.abort(error)
    void old.a.up.reader.cancel().catch(() => undefined)
    const next = await openContinuation(cont, rec, {
      candidates: continuationCandidates(old.t, error, cont.remaining),
      noPrefill,
    })
    if (ended) {
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
      lastBreak = 'failed'
      finish(c, error)
      return false
    }
    // The broken try ends here; the last one is ended by onEnd.
    old.a.timer.finish({ ok: false, error, outputTokens: old.tap.usage?.outputTokens })
    old.a.release(old.tap.usage)
    earlier = addUsage(earlier, old.tap.usage)
    deps.telemetry.attemptFailed(old.t, error)
    deps.routing.continued?.(old.t)
    continued++
    lastBreak = 'failed'
    via.push(`${next.t.key} (${next.style})`)
    failure = undefined
    cur = sourceOf(req, next.t, next.a)
    splicer = new Splicer(req.format, rec)
    watched.lastUpstreamAt = deps.now()
    const opening = splicer.opening()
    for (const ev of opening) rec.observe(ev)
    if (opening.length) c.enqueue(encodeAll(opening))
    const head = process(cur.a.up.headEvents, cur.a.up.head)
    for (const chunk of head.chunks) c.enqueue(chunk)
    return head.broken ? broke(c, head.broken) : true
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c
      const head = process(cur.a.up.headEvents, cur.a.up.head)
      for (const chunk of head.chunks) c.enqueue(chunk)
      // An error right after the commit point is met on the first pull.
      pending = head.broken
    },
    async pull(c) {
      if (pending) {
        const f = pending
        pending = undefined
        if (!(await broke(c, f))) return
      }
      for (;;) {
        const up = cur.a.up
        let r: Awaited<ReturnType<typeof up.reader.read>>
        try {
          r = await up.reader.read()
        } catch (e) {
          if (ended) return
          // Runtime messages can name hosts; only the redacted text reaches the client.
          if (
            await broke(
              c,
              failure ??
                {
                  kind: 'stream_broken',
                  target: cur.t.key,
                  afterEvents: cur.tap.events,
                  message: redact(String((e as Error)?.message ?? e)),
                },
            )
          ) continue
          return
        }
        if (ended) return
        if (r.done) {
          const rest = process(up.decode.flush(), [])
          for (const chunk of rest.chunks) c.enqueue(chunk)
          const end = rest.broken ? { events: [], broken: rest.broken } : closing()
          if (!end.broken) return finish(c, undefined, end.events)
          if (await broke(c, end.broken)) continue
          return
        }
        watched.lastUpstreamAt = deps.now()
        let evs: SseEvent[]
        try {
          evs = up.decode.push(r.value)
        } catch (e) {
          // An oversized line or event (SSE_MAX_EVENT_BYTES): stop reading it, then end or continue.
          const tooBig = tooLarge(e, cur.t, cur.tap.events)
          if (!tooBig) throw e
          void up.reader.cancel().catch(() => undefined)
          if (await broke(c, tooBig)) continue
          return
        }
        const step = process(evs, [r.value])
        for (const chunk of step.chunks) c.enqueue(chunk)
        if (step.broken) {
          if (await broke(c, step.broken)) continue
          return
        }
        if (step.chunks.length === 0) continue
        watched.lastClientAt = watched.lastUpstreamAt
        if ((c.desiredSize ?? 1) <= 0) deps.telemetry.backpressure()
        return
      }
    },
    cancel() {
      finish(undefined, { kind: 'client_closed' })
    },
  }, new CountQueuingStrategy({ highWaterMark: Math.max(1, deps.config.sseBufferSize) }))
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
