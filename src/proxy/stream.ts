/**
 * The committed stream: upstream bytes → events → (translation | pass-through) → client bytes.
 * Pull-based, so a slow client slows our reads of the upstream: at most `sseBufferSize` chunks
 * wait in the queue. A failure after the commit point becomes a well-formed in-stream error,
 * never a truncated answer that looks complete.
 */
import type { ProxyError } from '../errors.ts'
import { createUsageTap, encodeSse, redact, renderStreamError, sameFormatRepair, translationFor } from '../formats/index.ts'
import type { SseEvent, StreamTranslator, TranslateContext, Translation, Usage, WireFormatName } from '../formats/types.ts'
import type { AttemptOk } from './attempt.ts'
import type { RequestContext } from './context.ts'
import type { PlannedTarget, UpstreamOk } from './types.ts'
import type { WatchedStream } from './watchdog.ts'

type StreamUp = Extract<UpstreamOk, { kind: 'stream' }>

/**
 * How an upstream answer becomes the client's: a translation between formats, a same-format
 * repair (`enhancetool` on OpenAI), or nothing (bytes pass through untouched).
 */
export function responseAdapter(client: WireFormatName, upstream: WireFormatName, ctx: TranslateContext): Pick<Translation, 'response' | 'stream'> | undefined {
  return translationFor(client, upstream) ?? (client === upstream ? sameFormatRepair(client, ctx) : undefined)
}

export interface StreamEnd {
  readonly ok: boolean
  readonly usage?: Usage
  readonly error?: ProxyError
}

const encoder = new TextEncoder()
const encodeAll = (evs: readonly SseEvent[]) => encoder.encode(evs.map(encodeSse).join(''))
const PING: Record<'anthropic' | 'openai', Uint8Array> = {
  anthropic: encoder.encode('event: ping\ndata: {"type":"ping"}\n\n'),
  openai: encoder.encode(': ping\n\n'),
}

/** The client-facing body of a committed stream. `onEnd` runs exactly once. */
export function streamBody(rc: Pick<RequestContext, 'req' | 'deps'>, a: AttemptOk & { up: StreamUp }, onEnd: (end: StreamEnd) => void): ReadableStream<Uint8Array> {
  const { req, deps } = rc
  const { up, target: t } = a
  const translator: StreamTranslator | undefined = responseAdapter(req.format, t.provider.format, a.ctx)?.stream(a.ctx)
  const tap = createUsageTap(t.provider.format)
  let sawContent = false
  let ended = false
  let failure: ProxyError | undefined
  let ctrl: ReadableStreamDefaultController<Uint8Array>

  const observe = (evs: readonly SseEvent[]) => {
    for (const ev of evs) {
      tap.observe(ev)
      // The tap already recognises content deltas (text, reasoning, tool arguments) of the upstream's format.
      if (!sawContent && tap.contentEvents > 0) { sawContent = true; a.timer.firstToken() }
    }
  }
  const render = (evs: readonly SseEvent[], bytes: readonly Uint8Array[]): Uint8Array[] => {
    if (!translator) return [...bytes]
    const out: SseEvent[] = []
    for (const ev of evs) out.push(...translator.push(ev))
    return out.length ? [encodeAll(out)] : []
  }
  const watched: WatchedStream = {
    lastUpstreamAt: deps.now(),
    lastClientAt: deps.now(),
    idleMs: deps.config.router.streamIdleTimeoutMs,
    deadlineAt: req.receivedAt + deps.config.apiTimeoutMs,
    onTimeout: (phase) => { failure ??= { kind: 'timeout', target: t.key, phase }; up.abort(failure) },
    ping: () => { if (!ended) ctrl.enqueue(PING[req.format]) },
    abort: (message) => { failure ??= { kind: 'overloaded', message }; up.abort(failure) },
  }
  const unwatch = deps.watchdog.watch(watched)
  const onClientGone = () => finish(undefined, { kind: 'client_closed' })
  req.signal.addEventListener('abort', onClientGone, { once: true })

  function finish(c: ReadableStreamDefaultController<Uint8Array> | undefined, error?: ProxyError): void {
    if (ended) return
    if (c) {
      const closing = error ? renderStreamError(req.format, error) : translator ? translator.end() : tap.terminal || tap.errored ? [] : renderStreamError(req.format, incomplete(t, tap.events))
      if (closing.length) c.enqueue(encodeAll(closing))
      c.close()
    }
    ended = true
    unwatch()
    req.signal.removeEventListener('abort', onClientGone)
    if (error?.kind === 'client_closed') { up.abort(error); void up.reader.cancel().catch(() => undefined) }
    const complete = !error && (translator ? translator.done && !translator.errored : tap.terminal && !tap.errored)
    const endError = error ?? (complete ? undefined : incomplete(t, tap.events))
    onEnd({ ok: complete, usage: tap.usage, error: endError })
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c
      observe(up.headEvents)
      for (const chunk of render(up.headEvents, up.head)) c.enqueue(chunk)
    },
    async pull(c) {
      for (;;) {
        let r: Awaited<ReturnType<typeof up.reader.read>>
        try {
          r = await up.reader.read()
        } catch (e) {
          // Runtime messages can name hosts; only the redacted text reaches the client.
          return finish(c, failure ?? { kind: 'stream_broken', target: t.key, afterEvents: tap.events, message: redact(String((e as Error)?.message ?? e)) })
        }
        if (ended) return
        if (r.done) {
          const rest = up.decode.flush()
          observe(rest)
          for (const chunk of render(rest, [])) c.enqueue(chunk)
          return finish(c)
        }
        watched.lastUpstreamAt = deps.now()
        const evs = up.decode.push(r.value)
        observe(evs)
        const out = render(evs, [r.value])
        if (out.length === 0) continue
        for (const chunk of out) c.enqueue(chunk)
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

function incomplete(t: PlannedTarget, events: number): ProxyError {
  return { kind: 'stream_broken', target: t.key, afterEvents: events, message: 'upstream ended the stream without its terminal event' }
}
