/**
 * One request's state, from the route handler to the last byte: the client request, what the
 * pipeline is handed (`deps`), the client's deadline, the body and estimate routing settled on,
 * and the trace the log line, metrics and usage are made from. Every stage takes this one
 * object instead of a row of positional values, and nothing about a request is kept in a side
 * table keyed by one of its objects.
 *
 * Who writes which trace field (each field has one owner, so the log line does not depend on
 * the order anything runs in):
 * - `route.ts` (through `routed`): `scenario`, `estimatedInputTokens`, `rule`, `skipped`, `experiment`,
 *   `session` (under which `respond.ts` tells `deps.sessions` the answer's prompt size);
 * - `newContext`: `apiKey` (the named key's name);
 * - `cache.ts`: `cache` (hit or miss), and on a hit `target`, `tier`, `status`;
 * - `pipeline.ts`: `target`, `tier`, `fallbacks` as it walks the plan, and the outcome of a request
 *   that fails before the commit point (`failure`, `status`, `durationMs`);
 * - `attempt.ts`: `attempts`;
 * - `respond.ts` (JSON, or the end of a stream): `status`, `ttfbMs`, `usage`, `continued`, `promptUsage`, `failure`, `durationMs`;
 * - `telemetry.ts`: `costUsd`, on the copy it hands to the log and the observers.
 */
import type { Deps } from '../deps.ts'
import type { JsonObject } from '../formats/types.ts'
import type { ImageText } from '../formats/images.ts'
import type { ClientRequest, PlannedTarget, RequestTrace, RouteDecision, TokenEstimate } from './types.ts'

export interface RequestContext {
  readonly req: ClientRequest
  readonly deps: Deps
  /** The client's deadline (receivedAt + API_TIMEOUT_MS): no try starts or waits past it. */
  readonly deadlineAt: number
  readonly trace: RequestTrace
  /** The body after routing (the subagent tag stripped, a unique provider named); `req.body` until routed. */
  body: JsonObject
  /** The input-token estimate of `body`; 0 until routed. */
  estimatedInputTokens: number
  /** The same estimate by component, computed once by routing; the token audit reads it. Undefined until routed. */
  tokens: TokenEstimate | undefined
  /** The client's JSON text, for a same-format body sent as is (passthrough.ts); dropped at the commit point. */
  rawBody: string | undefined
  /**
   * The plan's targets after the one that committed, where a stream that breaks may be
   * continued (continue.ts); set by `pipeline.ts` when `Router.continueStreams` is on.
   */
  remaining?: readonly PlannedTarget[]
  /** A last change to the upstream body in the target's format (a continuation's DeepSeek `prefix` flag). */
  readonly finishBody?: (body: JsonObject) => JsonObject
  /** Routing found images only before the last user turn (`RouteDecision.imagesOnlyEarlier`). */
  imagesOnlyEarlier?: true
  /** Every image goes to every target as text (`RouteDecision.allImagesAsText`). */
  allImagesAsText?: true
  /** The text a model without vision gets for each earlier image: `Router.image`'s description (pipeline.ts). */
  imageText?: ImageText
}

export function newContext(req: ClientRequest, deps: Deps, rawBody?: string): RequestContext {
  const trace: RequestTrace = {
    id: req.id,
    format: req.format,
    scenario: 'none',
    attempts: 0,
    fallbacks: 0,
    status: 0,
    estimatedInputTokens: 0,
    stream: req.stream,
  }
  // Present only for a named key (no spread of an empty object per request).
  if (req.apiKeyName !== undefined) trace.apiKey = req.apiKeyName
  return {
    req,
    deps,
    deadlineAt: req.receivedAt + deps.config.apiTimeoutMs,
    trace,
    body: req.body,
    estimatedInputTokens: 0,
    tokens: undefined,
    rawBody,
  }
}

/** Records the route decision on the context: the body and estimate every later stage uses. */
export function routed(ctx: RequestContext, d: RouteDecision): void {
  ctx.body = d.body
  ctx.estimatedInputTokens = d.tokens.total
  ctx.tokens = d.tokens
  ctx.trace.scenario = d.scenario
  ctx.trace.estimatedInputTokens = d.tokens.total
  if (d.experiment !== undefined) ctx.trace.experiment = d.experiment
  if (d.rule !== undefined) ctx.trace.rule = d.rule
  if (d.skipped) ctx.trace.skipped = d.skipped.map((s) => `${s.target} (${s.why})`)
  if (d.sessionId !== undefined) ctx.trace.session = d.sessionId
  if (d.imagesOnlyEarlier) ctx.imagesOnlyEarlier = true
  if (d.allImagesAsText) ctx.allImagesAsText = true
}
