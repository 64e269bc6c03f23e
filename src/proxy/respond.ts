/**
 * Turns a committed upstream answer into the client's response, and errors into the client's
 * error format. The commit point has already passed when `respond` is called.
 */
import { httpStatusOf, type ProxyError } from '../errors.ts'
import { jsonAsStream, renderError, usageFromJson } from '../formats/index.ts'
import type { Usage, WireFormatName } from '../formats/types.ts'
import type { AttemptOk } from './attempt.ts'
import { responseAdapter, streamBody } from './stream.ts'
import type { RequestContext } from './context.ts'
import type { RequestTrace } from './types.ts'
import { routeHeader } from './route-header.ts'

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
}

/**
 * The client's response for a committed attempt. Writes the trace fields the answer settles:
 * status, time to first byte, and (when the JSON answer is read, or the stream ends) usage,
 * failure and duration; telemetry gets the trace once, after the last byte.
 */
export function respond(rc: RequestContext, a: AttemptOk): Response {
  const { req, deps, trace } = rc
  const t = a.target
  trace.status = 200
  const headers: Record<string, string> = { 'x-request-id': req.id, 'x-switchyard-route': routeHeader(trace) }
  if (a.up.kind === 'json') {
    const usage = usageFromJson(t.provider.format, a.up.body)
    a.timer.finish({ ok: true, outputTokens: usage?.outputTokens })
    a.release(usage)
    trace.usage = usage
    rememberPrompt(rc, usage)
    trace.durationMs = deps.now() - req.receivedAt
    trace.ttfbMs = trace.durationMs
    const adapter = responseAdapter(req.format, t.provider.format, a.ctx)
    const out = adapter ? adapter.response(a.up.body, a.ctx) : a.up.body
    deps.telemetry.request(trace, rc.tokens)
    // The upstream ignored `stream: true`: a streaming client can only parse events.
    if (req.stream) {
      return new Response(jsonAsStream(req.format, out, { includeUsage: a.ctx.includeUsage }), {
        status: 200,
        headers: Object.assign(headers, SSE_HEADERS),
      })
    }
    headers['content-type'] = 'application/json'
    return new Response(JSON.stringify(out), { status: 200, headers })
  }
  // `a.up` is a stream here (the JSON answer returned above); the type cannot follow that to `a`.
  return respondStream(rc, a as StreamAttempt, headers)
}

type StreamAttempt = AttemptOk & { up: Extract<AttemptOk['up'], { kind: 'stream' }> }

/**
 * A committed stream. A function of its own: its end callback captures the request's state,
 * which would otherwise cost `respond` a scope on every call, JSON answers included.
 */
function respondStream(rc: RequestContext, a: StreamAttempt, headers: Record<string, string>): Response {
  const { req, deps, trace } = rc
  trace.ttfbMs = deps.now() - req.receivedAt
  deps.telemetry.streamOpened()
  const stream = streamBody(rc, a, (end) => {
    end.attempt.timer.finish({ ok: end.ok, error: end.error, outputTokens: end.usage?.outputTokens })
    end.attempt.release(end.usage)
    // Every attempt that streamed into the answer is billed: the usage is their sum.
    trace.usage = end.totalUsage
    // The prompt is the last attempt's (a continuation's carries the answer so far).
    rememberPrompt(rc, end.usage)
    // ~4 characters a token: only used when the upstream reported no usage at all.
    if (!end.totalUsage) trace.estimatedOutputTokens = Math.ceil(end.outputChars / 4)
    if (end.continued > 0) {
      trace.continued = end.continued
      trace.promptUsage = end.promptUsage
    }
    if (end.error) trace.failure = end.error.kind
    trace.durationMs = deps.now() - req.receivedAt
    deps.telemetry.streamClosed()
    deps.telemetry.request(trace, rc.tokens)
  })
  return new Response(stream, { status: 200, headers: Object.assign(headers, SSE_HEADERS) })
}

/**
 * The prompt size the upstream reported for a session's answer, which CCR's last-usage rule
 * compares with `Router.longContextThreshold` on the session's next request. Cached tokens
 * count: they are context too (CCR compared `input_tokens` alone, which prompt caching keeps
 * to a few tokens, so the rule seldom fired for Claude Code).
 */
function rememberPrompt(rc: RequestContext, usage: Usage | undefined): void {
  const session = rc.trace.session
  if (session === undefined || usage === undefined) return
  rc.deps.sessions.set(session, usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens)
}

/**
 * An error in the client's format, with the headers a client needs to back off correctly.
 * `trace` (read only) gives the `x-switchyard-route` header.
 */
export function errorResponse(
  req: { id: string; format: WireFormatName },
  e: ProxyError,
  trace?: Readonly<RequestTrace>,
): Response {
  const { status, body } = renderError(req.format, e, req.id)
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': req.id }
  if (trace) headers['x-switchyard-route'] = routeHeader(trace)
  const retryAfterMs = e.kind === 'rate_limited' || e.kind === 'upstream_status'
    ? e.retryAfterMs
    : e.kind === 'circuit_open'
    ? e.retryInMs
    : undefined
  if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
  // A quota error will not clear by retrying: tell SDKs (which retry 429s) not to.
  if (e.kind === 'upstream_status' && e.code === 'insufficient_quota') headers['x-should-retry'] = 'false'
  return new Response(JSON.stringify(body), { status: status || httpStatusOf(e), headers })
}
