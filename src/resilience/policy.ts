/**
 * What to do after a failed attempt: retry the same target after a delay, fail over to the
 * next target in the plan, or stop and answer the client. Pure: the pipeline passes the
 * error, the retry count, the time left and a `random` for the jitter.
 */
import type { RetryPolicy } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import { isFailoverable } from '../errors.ts'
import { backoffMs } from './backoff.ts'

export type Next =
  | { readonly action: 'retry'; readonly delayMs: number }
  | { readonly action: 'failover' }
  | { readonly action: 'stop' }

export interface DecideContext {
  /** Retries of this target already made (0 after the first failure). */
  readonly attempt: number
  readonly policy: RetryPolicy
  /** The target's EWMA latency: scales the backoff and estimates how long a retry takes. */
  readonly ewmaMs?: number
  /** Milliseconds left before the client's deadline. */
  readonly deadlineMs: number
  /** The expected time to first token of the next target in the plan, when there is one. */
  readonly nextTargetExpectedMs?: number
  /** This target's expected time to first token once it is tried again (0 when unknown). */
  readonly expectedFirstTokenMs?: number
  /** The next target serves the same model (another provider of it): nothing is lost by failing over. */
  readonly nextSameModel?: boolean
}

type Verdict = 'retry' | 'failover' | 'stop'

/** Statuses worth the same target again: timeouts, conflicts, rate limits, server errors. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500
}

/** How an error is handled, before counting retries and time. */
function verdictOf(err: ProxyError): Verdict {
  switch (err.kind) {
    case 'rate_limited':
    case 'overloaded':
    case 'upstream_network':
    case 'stream_broken':
      return 'retry'
    case 'timeout':
      // A target that stayed silent (no connection, no first token, a stall) will likely stay
      // silent: try elsewhere. 'total' means the client's whole budget is gone.
      return err.phase === 'total' ? 'stop' : 'failover'
    case 'upstream_status':
      if (retryableStatus(err.status)) return 'retry'
      return isFailoverable(err) ? 'failover' : 'stop'
    default:
      return isFailoverable(err) ? 'failover' : 'stop'
  }
}

function retryAfterOf(err: ProxyError): number | undefined {
  if (err.kind === 'rate_limited' || err.kind === 'upstream_status') return err.retryAfterMs
  return undefined
}

/**
 * A `Retry-After` is waited out only when the wait plus this target's expected time to first
 * token beats the next target's expected time to first token, and the next target is a
 * different (maybe weaker) model; the same model elsewhere is taken at once.
 */
function waitBeatsFailover(afterMs: number, ctx: DecideContext): boolean {
  if (ctx.nextSameModel === true || ctx.nextTargetExpectedMs === undefined) {
    return ctx.nextTargetExpectedMs === undefined
  }
  return afterMs + (ctx.expectedFirstTokenMs ?? 0) < ctx.nextTargetExpectedMs
}

/**
 * Decides the next step after `attempt` retries of this target have already been made
 * (0 after the first failure). Never retries a 400/401/403/404/413 or content-policy error,
 * never schedules a retry that cannot finish before the deadline, and fails over instead of
 * waiting out a `Retry-After` unless the wait wins (see `waitBeatsFailover`).
 * @example decideNext({ kind: 'upstream_status', target: 't', status: 400, message: 'bad' }, { ...ctx, attempt: 0 }, Math.random) // { action: 'stop' }
 */
export function decideNext(err: ProxyError, ctx: DecideContext, random: () => number): Next {
  const { attempt } = ctx
  const verdict = verdictOf(err)
  if (verdict !== 'retry') return { action: verdict }
  const fallback: Next = { action: 'failover' }
  if (ctx.deadlineMs <= 0) return { action: 'stop' }
  if (attempt >= ctx.policy.maxRetries) return fallback
  const after = retryAfterOf(err)
  if (after !== undefined && ctx.nextTargetExpectedMs !== undefined && !waitBeatsFailover(after, ctx)) return fallback
  const delayMs = after !== undefined
    ? Math.max(0, after)
    : backoffMs(attempt, { ...ctx.policy, ewmaMs: ctx.ewmaMs }, random)
  // The retry must have time to answer too; its expected duration is the target's EWMA.
  if (delayMs + (ctx.ewmaMs ?? 0) >= ctx.deadlineMs) return fallback
  return { action: 'retry', delayMs }
}
