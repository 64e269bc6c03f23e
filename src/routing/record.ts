/**
 * What the routing engine records: how each try ended (the stats table, through an attempt
 * timer), how long the last try of each target took, the waits upstreams asked for
 * (Retry-After holds) and the global retry budget. Nothing here decides; routing/decide.ts
 * reads these records to plan, admit and choose the next step.
 */
import type { ProxyError } from '../errors.ts'
import {
  budgetRequest,
  budgetTryRetry,
  emptyRetryBudget,
  type RetryBudget,
  type RetryBudgetParams,
  retryBudgetParams,
} from '../resilience/retry-budget.ts'
import type { AttemptReport, AttemptTimer, PlannedTarget } from './contract.ts'
import { RetryAfterHolds } from './retry-after-holds.ts'
import { type Attempt, MAX_TARGETS, type RoutingStats } from './target-stats.ts'
import type { FailureReason } from './types.ts'

/** How a failure counts against the target's health (the request's own faults do not). */
export function failureReasonOf(e: ProxyError | undefined): FailureReason {
  switch (e?.kind) {
    case 'timeout':
      return 'timeout'
    case 'rate_limited':
      return 'rate_limited'
    case 'upstream_network':
      return 'network'
    case 'stream_broken':
      return 'stream_broken'
    case 'upstream_status':
      if (e.status === 429) return 'rate_limited'
      return e.status >= 500 ? 'server_error' : 'client_error'
    case undefined:
      return 'abandoned'
    default:
      return 'client_error'
  }
}

export interface RecordParts {
  readonly stats: RoutingStats
  readonly now: () => number
  /** The global retry budget's ratio of retries to requests (Router `retryBudgetRatio`). */
  readonly retryBudgetRatio: number
  readonly holds?: RetryAfterHolds
}

/** One instance's routing records; the routing engine holds one. */
export class RoutingRecord {
  readonly #p: RecordParts
  readonly holds: RetryAfterHolds
  /**
   * How long the last try of each target took, success or not: the expected duration of a
   * target whose EWMA is still empty (failures only penalise an existing EWMA).
   */
  readonly #lastTryMs = new Map<string, number>()
  readonly #budgetParams: RetryBudgetParams
  #budget: RetryBudget = emptyRetryBudget()

  constructor(p: RecordParts) {
    this.#p = p
    this.holds = p.holds ?? new RetryAfterHolds()
    this.#budgetParams = retryBudgetParams(p.retryBudgetRatio)
  }

  /** A client request started: it raises the retry budget's allowance. */
  request(now: number): void {
    this.#budget = budgetRequest(this.#budget, now, this.#budgetParams)
  }

  /** Spends one retry of the global budget; false (nothing spent) when it is used up. */
  spendRetry(now: number): boolean {
    const tried = budgetTryRetry(this.#budget, now, this.#budgetParams)
    this.#budget = tried.budget
    return tried.allowed
  }

  /** A try of `t` failed with `err`: keep the wait it asked for, if any. */
  failed(t: PlannedTarget, err: ProxyError, now: number): void {
    this.holds.note(t.key, err, now)
  }

  /** Starts timing one try; its outcome goes to the stats table and the last-try times. */
  begin(t: PlannedTarget): AttemptTimer {
    const p = this.#p
    return new Timer(this, t.key, p.stats.begin(t.key, p.now()), p.now)
  }

  /** What a try of `key` is expected to take: its EWMA latency, else its last try. */
  expectedMs(key: string, now: number): number | undefined {
    return this.#p.stats.snapshot(key, now).latencyMs ?? this.#lastTryMs.get(key)
  }

  /** Expected time to first token: measured on streams, else the whole latency. */
  firstTokenMs(key: string, now: number): number | undefined {
    return this.#p.stats.snapshot(key, now).ttftMs ?? this.expectedMs(key, now)
  }

  /** A try of `key` took `ms` (its timer's `finish`). */
  tookMs(key: string, ms: number): void {
    // Keyed by client-chosen targets too: bounded like the stats table.
    if (this.#lastTryMs.size >= MAX_TARGETS && !this.#lastTryMs.has(key)) this.#lastTryMs.clear()
    this.#lastTryMs.set(key, ms)
  }
}

/** One try's timer: an object with methods rather than two closures per try. */
class Timer implements AttemptTimer {
  readonly #record: RoutingRecord
  readonly #key: string
  readonly #attempt: Attempt
  readonly #now: () => number

  constructor(record: RoutingRecord, key: string, attempt: Attempt, now: () => number) {
    this.#record = record
    this.#key = key
    this.#attempt = attempt
    this.#now = now
  }

  firstToken(): void {
    this.#attempt.firstToken(this.#now())
  }

  finish(r: AttemptReport): void {
    const a = this.#attempt
    this.#record.tookMs(this.#key, this.#now() - a.startedAt)
    if (r.ok) a.succeed(this.#now(), r.outputTokens === undefined ? undefined : { outputTokens: r.outputTokens })
    else a.fail(this.#now(), failureReasonOf(r.error))
  }
}
