/**
 * Upstream `Retry-After` kept across requests: when a target answers 429/503 with a wait,
 * no request goes to it again until the wait is over, whichever request asks. Without this
 * only the request that saw the header would honour it, and the next one would hit the
 * target at once (and likely earn a longer ban).
 */
import type { ProxyError } from '../errors.ts'

/**
 * Slack for timers that fire a little early: a retry scheduled for exactly the requested wait
 * must not be refused by the hold it waited out.
 */
const EARLY_TIMER_SLACK_MS = 2

/** The cap when none is configured (`Router.maxRetryAfterMs`'s default). */
export const DEFAULT_MAX_HOLD_MS = 600_000

/** The wait an error asks for, when it asks for one. */
export function retryAfterOf(e: ProxyError): number | undefined {
  return e.kind === 'rate_limited' || e.kind === 'upstream_status' ? e.retryAfterMs : undefined
}

/** Per target (`provider,model`): the time before which it should not be called. */
export type HoldTimes = Map<string, number>

/** Per target: the time before which it should not be called. */
export class RetryAfterHolds {
  readonly #until: HoldTimes
  readonly #maxMs: number

  /**
   * `maxMs` caps every hold: `Retry-After: 99999999999` must not park a target for millennia.
   * `until`: the holds to start from and write to (a reload's successor keeps its predecessor's).
   */
  constructor(opts: { readonly maxMs?: number; readonly until?: HoldTimes } = {}) {
    this.#maxMs = opts.maxMs ?? DEFAULT_MAX_HOLD_MS
    this.#until = opts.until ?? new Map()
  }

  /** Records the wait `err` asks of `key` at `now`, capped (a longer existing hold stays). */
  note(key: string, err: ProxyError, now: number): void {
    const asked = retryAfterOf(err)
    if (asked === undefined || !(asked > 0)) return
    const ms = Math.min(asked, this.#maxMs)
    this.#until.set(key, Math.max(this.#until.get(key) ?? 0, now + ms))
  }

  /** Milliseconds `key` is still held at `now` (0 when free). */
  remaining(key: string, now: number): number {
    const until = this.#until.get(key)
    if (until === undefined) return 0
    if (until - now <= EARLY_TIMER_SLACK_MS) {
      this.#until.delete(key)
      return 0
    }
    return until - now
  }

  /**
   * `plan` with held targets moved to the end (kept, so an all-held plan can answer 429 with a
   * wait). With nothing held (the common case) it is `plan` itself, not a copy.
   */
  last<T extends { readonly key: string }>(plan: readonly T[], now: number): readonly T[] {
    if (this.#until.size === 0) return plan
    const free = plan.filter((t) => this.remaining(t.key, now) === 0)
    return free.length === plan.length ? [...plan] : [...free, ...plan.filter((t) => !free.includes(t))]
  }
}
