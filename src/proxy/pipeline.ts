/**
 * The request pipeline, top to bottom: route → plan → try each target (retries inside
 * attemptTarget) → respond at the commit point, or answer the last error in the client's format.
 */
import type { Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import { attemptTarget } from './attempt.ts'
import { errorResponse, respond } from './respond.ts'
import { decideRoute } from './route.ts'
import type { ClientRequest, RequestTrace } from './types.ts'

/** Serves one client request end to end; never throws for upstream trouble. */
export async function handle(req: ClientRequest, deps: Deps): Promise<Response> {
  const trace = newTrace(req)
  const route = decideRoute(req, deps)
  if (!route.ok) return fail(req, route.error, trace, deps)
  const { body, estimatedInputTokens } = route.value
  trace.scenario = route.value.scenario
  trace.estimatedInputTokens = estimatedInputTokens
  const deadlineAt = req.receivedAt + deps.config.apiTimeoutMs
  const tried: string[] = []
  let queue = route.value.plan
  let last: ProxyError = { kind: 'no_upstream', message: 'No target could be tried' }
  for (let target = queue[0]; target; target = queue[0]) {
    const rest = queue.slice(1)
    Object.assign(trace, { fallbacks: tried.length, target: target.key, tier: target.tier })
    const outcome = await attemptTarget(req, target, { body, estimatedInputTokens, deadlineAt, trace, next: rest[0] }, deps)
    if (outcome.ok) return respond(req, target, outcome.value, trace, deps, body)
    last = outcome.error.error
    tried.push(target.key)
    if (!outcome.error.failover || deps.now() >= deadlineAt) break
    queue = deps.routing.reroute?.(last, rest, tried, req.preset) ?? rest
  }
  return fail(req, last, trace, deps, body)
}

function fail(req: ClientRequest, e: ProxyError, trace: RequestTrace, deps: Deps, body = req.body): Response {
  trace.failure = e.kind
  trace.durationMs = deps.now() - req.receivedAt
  const res = errorResponse(req, e, trace)
  deps.telemetry.request(trace, body)
  return res
}

function newTrace(req: ClientRequest): RequestTrace {
  return { id: req.id, format: req.format, scenario: 'none', attempts: 0, fallbacks: 0, status: 0, estimatedInputTokens: 0, stream: req.stream }
}
