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

export async function handle(req: ClientRequest, deps: Deps): Promise<Response> {
  const trace = newTrace(req)
  const route = decideRoute(req, deps)
  if (!route.ok) return fail(req, route.error, trace, deps)
  const { plan, body, estimatedInputTokens } = route.value
  trace.scenario = route.value.scenario
  trace.estimatedInputTokens = estimatedInputTokens
  const deadlineAt = req.receivedAt + deps.config.apiTimeoutMs
  let last: ProxyError = { kind: 'no_upstream', message: 'No target could be tried' }
  for (const [i, target] of plan.entries()) {
    trace.fallbacks = i
    trace.target = target.key
    trace.tier = target.tier
    const outcome = await attemptTarget(req, target, { body, estimatedInputTokens, deadlineAt, trace }, deps)
    if (outcome.ok) return respond(req, target, outcome.value, trace, deps, body)
    last = outcome.error.error
    if (!outcome.error.failover || deps.now() >= deadlineAt) break
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
