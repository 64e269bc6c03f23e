/**
 * The request pipeline, top to bottom: route → plan → try each target (retries inside
 * attemptTarget) → respond at the commit point, or answer the last error in the client's format.
 */
import type { Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import type { CacheEntry } from '../cache/store.ts'
import type { JsonObject } from '../formats/types.ts'
import { attemptTarget, type AttemptFailure, type AttemptOk } from './attempt.ts'
import { errorResponse, respond } from './respond.ts'
import { decideRoute } from './route.ts'
import type { ClientRequest, PlannedTarget, RequestTrace } from './types.ts'

/** Serves one client request end to end; never throws for upstream trouble. */
export async function handle(req: ClientRequest, deps: Deps): Promise<Response> {
  const trace = newTrace(req)
  const route = decideRoute(req, deps)
  if (!route.ok) return fail(req, route.error, trace, deps)
  const { body, estimatedInputTokens } = route.value
  trace.scenario = route.value.scenario
  trace.estimatedInputTokens = estimatedInputTokens
  if (route.value.rule !== undefined) trace.rule = route.value.rule
  if (route.value.skipped) trace.skipped = route.value.skipped.map((s) => `${s.target} (${s.why})`)
  const cache = deps.cache?.applies(req) ? deps.cache : undefined
  const cached = cache && await cache.find(req, body, route.value.plan)
  if (cached?.entry) return cacheHit(req, cached.entry, trace, deps, body)
  if (cache) cache.missed(trace)
  const deadlineAt = req.receivedAt + deps.config.apiTimeoutMs
  const tried: string[] = []
  let queue = route.value.plan
  let last: AttemptFailure | undefined
  for (let target = queue[0]; target; target = queue[0]) {
    const rest = queue.slice(1)
    Object.assign(trace, { fallbacks: tried.length, target: target.key, tier: target.tier })
    const outcome = await attemptTarget(req, target, { body, estimatedInputTokens, deadlineAt, trace, next: rest[0] }, deps)
    if (outcome.ok) {
      const res = commit(req, target, outcome.value, trace, deps, body)
      return cached ? cache!.capture(req, target, res, trace, cached) : res
    }
    last = moreTelling(last, outcome.error)
    tried.push(target.key)
    if (!outcome.error.failover || deps.now() >= deadlineAt) break
    queue = deps.routing.reroute?.(outcome.error.error, rest, tried, req.preset) ?? rest
  }
  return fail(req, last?.error ?? { kind: 'no_upstream', message: 'No target could be tried' }, trace, deps, body)
}

/** Hands the answer to respond; if that throws (a bug), the attempt is still ended and its slot freed. */
function commit(req: ClientRequest, t: PlannedTarget, a: AttemptOk, trace: RequestTrace, deps: Deps, body: JsonObject): Response {
  try {
    return respond(req, t, a, trace, deps, body)
  } catch (e) {
    a.timer.finish({ ok: false })
    a.release()
    throw e
  }
}

/** A cached answer: no upstream call, nothing billed (the request is counted under tier `cache`). */
function cacheHit(req: ClientRequest, entry: CacheEntry, trace: RequestTrace, deps: Deps, body: JsonObject): Response {
  const res = deps.cache!.answer(req, entry, trace)
  trace.durationMs = trace.ttfbMs = deps.now() - req.receivedAt
  deps.telemetry.request(trace, body)
  return res
}

/**
 * The failure the client should see: what an upstream said beats a local skip of a later
 * target; among skips, the one that clears soonest gives the most useful `retry-after`.
 */
export function moreTelling(prev: AttemptFailure | undefined, next: AttemptFailure): AttemptFailure {
  if (!prev || !next.skipped) return next
  if (!prev.skipped) return prev
  return waitOf(next.error) < waitOf(prev.error) ? next : prev
}

const waitOf = (e: ProxyError) => (e.kind === 'circuit_open' ? e.retryInMs : e.kind === 'rate_limited' ? e.retryAfterMs ?? Infinity : Infinity)

function fail(req: ClientRequest, e: ProxyError, trace: RequestTrace, deps: Deps, body = req.body): Response {
  trace.failure = e.kind
  trace.durationMs = deps.now() - req.receivedAt
  const res = errorResponse(req, e, trace)
  deps.telemetry.request(trace, body)
  return res
}

function newTrace(req: ClientRequest): RequestTrace {
  return { id: req.id, format: req.format, scenario: 'none', attempts: 0, fallbacks: 0, status: 0, estimatedInputTokens: 0, stream: req.stream, ...(req.apiKeyName === undefined ? {} : { apiKey: req.apiKeyName }) }
}
