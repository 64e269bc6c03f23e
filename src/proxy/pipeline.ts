/**
 * The request pipeline, top to bottom: route (the custom router included) → plan → try each
 * target (retries inside attemptTarget) → respond at the commit point, or answer the last
 * error in the client's format. The request's state travels in one RequestContext (context.ts).
 * With the response cache on (proxy/cache.ts), a hit is answered before any target is tried.
 */
import type { Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import type { CacheEntry } from '../cache/store.ts'
import type { AttemptFailure, AttemptOk } from './attempt.ts'
import { attemptHedged, hedgeAfterMs } from './hedge.ts'
import { attemptTarget } from './attempt.ts'
import type { Result } from '../lib/result.ts'
import { newContext, type RequestContext, routed } from './context.ts'
import { errorResponse, respond } from './respond.ts'
import { decideRoute } from './route.ts'
import { allImageText, describeAhead, earlierImageText } from './image-descriptions.ts'
import type { ClientRequest, PlannedTarget } from './types.ts'

/**
 * Serves one client request end to end; never throws for upstream trouble. `rawBody` is the
 * client's JSON text, which a same-format target may be sent as is (passthrough.ts).
 */
export async function handle(req: ClientRequest, deps: Deps, rawBody?: string): Promise<Response> {
  const ctx = newContext(req, deps, rawBody)
  const { trace } = ctx
  const route = await decideRoute(ctx)
  if (!route.ok) return fail(ctx, route.error)
  routed(ctx, route.value)
  const cache = deps.cache?.applies(req) ? deps.cache : undefined
  const cached = cache && await cache.find(ctx, route.value.plan)
  if (cached?.entry) return cacheHit(ctx, cached.entry)
  cache?.missed(trace)
  // A text-only first target gets the earlier images as Router.image describes them (every target
  // every image, with forceUseImageAgent); a turn that brings one has it described ahead for the
  // next turn (image-descriptions.ts).
  if (ctx.allImagesAsText) ctx.imageText = await allImageText(ctx, (r) => handle(r, deps))
  else if (ctx.imagesOnlyEarlier) {
    ctx.imageText = await earlierImageText(ctx, route.value.plan[0], (r) => handle(r, deps))
  } else if (trace.scenario === 'image') describeAhead(ctx, (r) => handle(r, deps))
  deps.routing.started()
  const tried: string[] = []
  let queue = route.value.plan
  let last: AttemptFailure | undefined
  for (let target = queue[0]; target; target = queue[0]) {
    const rest = queue.slice(1)
    trace.fallbacks = tried.length
    trace.target = target.key
    trace.tier = target.tier
    // An unhedged try (the usual case) is awaited directly: no wrapper frame, promise or result object.
    let outcome: Result<AttemptOk, AttemptFailure>
    let hedge: PlannedTarget | undefined
    const afterMs = hedgeAfterMs(ctx, target, rest)
    if (afterMs === undefined) outcome = await attemptTarget(ctx, target, rest[0])
    else ({ outcome, hedge } = await attemptHedged(ctx, target, { rest, afterMs }))
    const left = hedge ? without(rest, hedge) : rest
    if (outcome.ok) {
      ctx.rawBody = undefined
      // A hedge may have answered first: the trace names the target that did.
      trace.target = outcome.value.target.key
      trace.tier = outcome.value.target.tier
      // A stream that breaks after this point may be continued on these (stream.ts, continue.ts).
      if (deps.config.router.continueStreams) ctx.remaining = without(rest, outcome.value.target)
      const res = commit(ctx, outcome.value)
      return cached ? cache!.capture(ctx, { target: outcome.value.target, res, lookup: cached }) : res
    }
    last = moreTelling(last, outcome.error)
    tried.push(target.key)
    if (hedge) tried.push(hedge.key)
    if (!outcome.error.failover || deps.now() >= ctx.deadlineAt) break
    queue = deps.routing.reroute?.(outcome.error.error, left, tried, req.preset) ?? left
  }
  return fail(ctx, last?.error ?? { kind: 'no_upstream', message: 'No target could be tried' })
}

/** `list` without `t`: a loop rather than a filter callback, which would capture the loop's variables (per request). */
function without(list: readonly PlannedTarget[], t: PlannedTarget): PlannedTarget[] {
  const out: PlannedTarget[] = []
  for (const r of list) if (r !== t) out.push(r)
  return out
}

/** Hands the answer to respond; if that throws (a bug), the attempt is still ended and its slot freed. */
function commit(ctx: RequestContext, a: AttemptOk): Response {
  try {
    return respond(ctx, a)
  } catch (e) {
    a.timer.finish({ ok: false })
    a.release()
    throw e
  }
}

/** A cached answer: no upstream call, nothing billed (the request is counted under tier `cache`). */
function cacheHit(ctx: RequestContext, entry: CacheEntry): Response {
  const res = ctx.deps.cache!.answer(ctx, entry)
  ctx.trace.durationMs = ctx.trace.ttfbMs = ctx.deps.now() - ctx.req.receivedAt
  ctx.deps.telemetry.request(ctx.trace, ctx.tokens)
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

const waitOf = (
  e: ProxyError,
) => (e.kind === 'circuit_open' ? e.retryInMs : e.kind === 'rate_limited' ? e.retryAfterMs ?? Infinity : Infinity)

/** A request that ends before the commit point: its error in the client's format, and its trace. */
function fail(ctx: RequestContext, e: ProxyError): Response {
  const { req, deps, trace } = ctx
  trace.failure = e.kind
  trace.durationMs = deps.now() - req.receivedAt
  const res = errorResponse(req, e, trace)
  trace.status = res.status
  deps.telemetry.request(trace, ctx.tokens)
  return res
}
