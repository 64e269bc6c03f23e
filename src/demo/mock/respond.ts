/**
 * Turns one parsed mock request into its Response (or its network failure): HTTP error
 * statuses, resets, hangs, paced SSE streams with in-stream faults, and JSON answers.
 */
import type { MockKnobs } from './knobs.ts'
import type { ContentSpec, PlannedEvent, WireBuilder } from './content.ts'
import { outputTokensOf } from './content.ts'
import type { MockAttempt, MockOutcome } from './attempts.ts'
import type { Sleep, StreamEnd } from './stream.ts'
import { sseStream, untilAborted } from './stream.ts'

/**
 * Thrown by the in-process `fetch` for `reset`: a TypeError like the one a real fetch
 * rejects with on a network error, so the proxy's network-error path runs unchanged.
 */
export class MockConnectionReset extends TypeError {
  constructor() {
    super('fetch failed: connection reset by the mock upstream (reset knob)')
  }
}

export interface RespondContext {
  readonly req: Request
  readonly wire: WireBuilder
  readonly spec: ContentSpec
  readonly knobs: MockKnobs
  readonly stream: boolean
  readonly attempt: MockAttempt
  readonly sleep: Sleep
  readonly factor: number
  readonly random: () => number
  readonly done: () => void
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' }
const JSON_HEADERS = { 'content-type': 'application/json' }

function finish(c: RespondContext, outcome: MockOutcome): void {
  if (c.attempt.outcome === 'pending' || c.attempt.outcome === 'stalled') c.attempt.outcome = outcome
  c.done()
}

/** Record the abort and reject the way fetch does when its signal fires. */
function aborted(c: RespondContext): never {
  finish(c, 'aborted')
  throw new DOMException('The client aborted the request', 'AbortError')
}

function linkAbort(req: Request): AbortController {
  const ac = new AbortController()
  if (req.signal.aborted) ac.abort()
  else req.signal.addEventListener('abort', () => ac.abort(), { once: true })
  return ac
}

function errorResponse(c: RespondContext, status: number): Response {
  const headers: Record<string, string> = { ...JSON_HEADERS }
  if (c.knobs.retryAfter !== undefined) headers['retry-after'] = c.knobs.retryAfter
  c.attempt.status = status
  c.attempt.events = 1
  finish(c, 'status')
  const message = c.knobs.invalid ? 'messages.0.content: Input should be a valid list' : `Mock upstream error ${status}`
  return new Response(c.wire.errorBody(status, message, c.spec.inputTokens, c.knobs.invalid), { status, headers })
}

function endOutcome(k: MockKnobs, how: StreamEnd): MockOutcome {
  if (how === 'aborted' || how === 'cut') return how
  if (k.malformedAfter !== undefined) return 'malformed'
  return k.noTerminator ? 'noterm' : 'ok'
}

function paced(
  c: RespondContext,
  ac: AbortController,
  events: readonly PlannedEvent[],
  ttftMs: number,
): ReadableStream<Uint8Array> {
  const k = c.knobs
  return sseStream({
    events,
    ttftMs,
    abort: ac,
    sleep: c.sleep,
    nextDelayMs: () => (k.delayMs + c.random() * k.jitterMs) * c.factor,
    stallAfter: k.stallAfter,
    cutAfter: k.cutAfter,
    onEvent: () => {
      c.attempt.events++
    },
    onStall: () => {
      c.attempt.outcome = 'stalled'
    },
    onEnd: (how) => finish(c, endOutcome(k, how)),
  })
}

function streamResponse(c: RespondContext, ac: AbortController, ttftMs: number): Response {
  const events = c.wire.streamEvents(c.spec)
  if (c.knobs.noTerminator) events.pop()
  const rate = c.knobs.cutRate
  if (rate !== undefined && c.knobs.cutAfter === undefined && c.random() < rate) {
    // Cut somewhere between the first event and the terminator, as a dropped connection would.
    const cutAfter = 1 + Math.floor(c.random() * Math.max(1, events.length - 2))
    return respondCut(c, ac, events, ttftMs, cutAfter)
  }
  if (c.knobs.malformedAfter !== undefined) {
    events.splice(Math.min(c.knobs.malformedAfter, events.length), 0, { sse: c.wire.malformedEvent, token: false })
  }
  c.attempt.status = 200
  return new Response(paced(c, ac, events, ttftMs), { status: 200, headers: SSE_HEADERS })
}

function respondCut(
  c: RespondContext,
  ac: AbortController,
  events: readonly PlannedEvent[],
  ttftMs: number,
  cutAfter: number,
): Response {
  c.attempt.status = 200
  return new Response(paced({ ...c, knobs: { ...c.knobs, cutAfter } }, ac, events, ttftMs), {
    status: 200,
    headers: SSE_HEADERS,
  })
}

async function jsonAnswer(c: RespondContext, ac: AbortController, ttftMs: number): Promise<Response> {
  const k = c.knobs
  let total = ttftMs
  const deltas = outputTokensOf(c.spec) / k.tokensPerChunk
  for (let i = 1; i < deltas; i++) total += (k.delayMs + c.random() * k.jitterMs) * c.factor
  if (total > 0) await c.sleep(total, ac.signal)
  if (ac.signal.aborted) return aborted(c)
  const body = c.wire.json(c.spec)
  c.attempt.status = 200
  if (k.stallAfter === undefined && k.cutAfter === undefined && k.malformedAfter === undefined) {
    c.attempt.events = 1
    finish(c, 'ok')
    return new Response(body, { status: 200, headers: JSON_HEADERS })
  }
  // JSON faults: send the first half of the body, then stall or end it there.
  const half = Math.floor(body.length / 2)
  const events = [{ sse: body.slice(0, half), token: false }, { sse: body.slice(half), token: false }]
  const split = {
    ...k,
    stallAfter: k.stallAfter === undefined ? undefined : 1,
    cutAfter: k.stallAfter === undefined ? 1 : undefined,
  }
  return new Response(paced({ ...c, knobs: split }, ac, events, 0), { status: 200, headers: JSON_HEADERS })
}

/** Serve one attempt according to its knobs; rejects for `reset` and for client aborts. */
export async function respondWith(c: RespondContext): Promise<Response> {
  const k = c.knobs
  const ac = linkAbort(c.req)
  const ttftMs = (k.ttftMs + c.random() * k.jitterMs) * c.factor
  if (k.reset) {
    finish(c, 'reset')
    throw new MockConnectionReset()
  }
  if (k.hang) {
    await untilAborted(ac.signal)
    return aborted(c)
  }
  if (k.status !== undefined) {
    if (ttftMs > 0) await c.sleep(ttftMs, ac.signal)
    if (ac.signal.aborted) return aborted(c)
    return errorResponse(c, k.status)
  }
  return c.stream ? streamResponse(c, ac, ttftMs) : jsonAnswer(c, ac, ttftMs)
}
