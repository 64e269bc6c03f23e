/**
 * What the request pipeline asks of routing: the planned targets, admission of a try, its
 * timing, and the retry / failover decision. `deps.ts` and `proxy/types.ts` re-export these;
 * they live here so routing depends on nothing above it.
 */
import type { ProviderConfig, RouterConfig, Scenario } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import type { Usage } from '../formats/types.ts'
import type { FirstEventHistory } from '../resilience/attempt-budget.ts'

/** One place a request may be sent: a provider and one of its models, with its place in the plan. */
export interface PlannedTarget {
  readonly key: string
  readonly provider: ProviderConfig
  readonly model: string
  /** `tier-0`…, or `fallback-N` for CCR `fallback` entries. */
  readonly tier: string
  readonly source: 'primary' | 'fallback' | 'tier'
}

/** What one upstream try reports when it ends. */
export interface AttemptReport {
  readonly ok: boolean
  readonly error?: ProxyError
  readonly outputTokens?: number
}

/** A running attempt; exactly one of `finish` or `abandon` ends it. */
export interface AttemptTimer {
  /** The first content token arrived (streams). */
  firstToken(): void
  finish(report: AttemptReport): void
}

export type Admission =
  | { readonly ok: true; release(usage?: Usage): void }
  | { readonly ok: false; readonly error: ProxyError }

export type NextStep =
  | { readonly action: 'retry'; readonly delayMs: number }
  | { readonly action: 'failover' }
  | { readonly action: 'stop' }

/** Adaptive routing and resilience, as the pipeline sees them. */
export interface RoutingEngine {
  /**
   * Candidates for a scenario target, ordered by measurements (config order until there are
   * enough); targets over a rate budget or under an upstream Retry-After go last. `router`
   * replaces the named Router (a routing rule's own, see rules.ts routerForRule).
   */
  plan(
    scenario: Scenario,
    target: string,
    routerName?: string,
    estimatedTokens?: number,
    router?: RouterConfig,
  ): readonly PlannedTarget[]
  /**
   * A client request starts trying its plan: it raises the global retry budget's allowance
   * (planning itself changes nothing). Once per request, whatever its number of targets.
   */
  started(): void
  /** Breaker and rate-limit admission for one try. */
  admit(t: PlannedTarget, estimatedTokens: number): Admission | Promise<Admission>
  begin(t: PlannedTarget): AttemptTimer
  /** What the target's first events took so far: the adaptive first-event timeout reads it. */
  firstEventHistory?(t: PlannedTarget): FirstEventHistory | undefined
  /** A stream of `t` broke after the commit point and was continued. */
  continued?(t: PlannedTarget): void
  /** A hedged try is about to start: charged to the global retry budget; false when it is spent. */
  hedge?(): boolean
  /**
   * Retry the same target, fail over, or stop, given the error of try number `attempt`
   * (0-based). `next` is the target a failover would go to: a wait longer than it is expected
   * to take fails over instead.
   */
  decide(err: ProxyError, attempt: number, t: PlannedTarget, deadlineLeftMs: number, next?: PlannedTarget): NextStep
  /**
   * The rest of the plan after `err` (a `context_length_exceeded` moves the Router's
   * longContext target first). `tried` are the keys already attempted.
   */
  reroute?(
    err: ProxyError,
    remaining: readonly PlannedTarget[],
    tried: readonly string[],
    routerName?: string,
  ): readonly PlannedTarget[]
}

/** The prompt tokens of each agent session's latest answer (CCR's long-context rule). */
export interface SessionUsage {
  get(sessionId: string): number | undefined
  set(sessionId: string, promptTokens: number): void
}
