/**
 * The gate every test request passes: the daily token budget (reserve before, settle after),
 * the max_tokens cap already applied by the runner, a per-request timeout through an
 * injected scheduler, and a stop switch that aborts everything in flight.
 */
import type { JsonObject } from '../formats/types.ts'
import { emptyBudget, remaining, reserve, rollover, settle } from './budget.ts'
import type { BudgetState } from './budget.ts'
import type { GatedOutcome } from './run-test.ts'
import type { ProbeOutcome, ProbeSender } from './types.ts'
import { timerDelay } from '../lib/clock.ts'

/** Timers, injected so tests drive them with a fake clock. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The runtime's own timers. */
export const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, timerDelay(ms)),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export interface GateOptions {
  readonly sender: ProbeSender
  readonly now: () => number
  readonly scheduler: Scheduler
  readonly dailyTokenBudget: number
  readonly timeoutMs: number
  /** Tokens already spent today (from the store), so a restart cannot reset the budget. */
  readonly spentToday?: number
  /** Fleet mode: the daily budget shared by every instance, checked after this instance's own. */
  readonly shared?: SharedBudget
}

/** A daily token budget several instances spend together (src/fleet/budget.ts). */
export interface SharedBudget {
  /** Holds `tokens` of today's `limit`: false when spent, undefined when it cannot tell (the local budget decides alone). */
  reserve(tokens: number, limit: number): Promise<boolean | undefined>
  /** Replaces a hold of `reserved` tokens by what was `spent`. */
  settle(reserved: number, spent: number): void
}

export const BUDGET_EXHAUSTED = 'daily token budget exhausted'
export const ENGINE_STOPPED = 'performance engine stopped'

/** Budget, timeout and stop switch around a ProbeSender. */
export class ProbeGate {
  readonly #o: GateOptions
  #budget: BudgetState
  #inFlight = new Set<AbortController>()
  #stopped = false

  constructor(o: GateOptions) {
    this.#o = o
    this.#budget = { ...emptyBudget(o.now()), used: Math.max(0, o.spentToday ?? 0) }
  }

  /** Today's budget figures, for GET /health/performance. */
  budget(): { day: string; limit: number; used: number; reserved: number; remaining: number } {
    const now = this.#o.now()
    const left = remaining(this.#budget, this.#o.dailyTokenBudget, now)
    const s = rollover(this.#budget, now)
    return { day: s.day, limit: this.#o.dailyTokenBudget, used: s.used, reserved: s.reserved, remaining: left }
  }

  inFlight(): number {
    return this.#inFlight.size
  }

  /** Refuse new sends and abort those in flight (their outcome becomes a failure). */
  stop(): void {
    this.#stopped = true
    for (const c of this.#inFlight) c.abort(new Error(ENGINE_STOPPED))
  }

  resume(): void {
    this.#stopped = false
  }

  /** Send one probe if the budget allows it; never throws. */
  send = async (target: string, body: JsonObject, reserveTokens: number): Promise<GatedOutcome> => {
    if (this.#stopped) return { kind: 'refused', reason: ENGINE_STOPPED }
    const held = reserve(this.#budget, reserveTokens, this.#o.dailyTokenBudget, this.#o.now())
    this.#budget = held.state
    if (!held.ok) return { kind: 'refused', reason: BUDGET_EXHAUSTED }
    const fleet = await this.#o.shared?.reserve(reserveTokens, this.#o.dailyTokenBudget)
    if (fleet === false) {
      this.#budget = settle(this.#budget, reserveTokens, 0, this.#o.now())
      return { kind: 'refused', reason: BUDGET_EXHAUSTED }
    }
    const outcome = await this.#sendBounded(target, body)
    // A failure without reported usage is charged its input estimate: the upstream may bill it.
    const inputEstimate = Math.max(0, reserveTokens - Number(body.max_tokens ?? 0))
    const spent = (outcome.inputTokens ?? inputEstimate) + outcome.outputTokens
    this.#budget = settle(this.#budget, reserveTokens, spent, this.#o.now())
    if (fleet === true) this.#o.shared?.settle(reserveTokens, spent)
    return { kind: 'done', outcome }
  }

  /** The sender's answer, or a timeout failure even when the sender ignores its signal. */
  async #sendBounded(target: string, body: JsonObject): Promise<ProbeOutcome> {
    const ctl = new AbortController()
    this.#inFlight.add(ctl)
    const started = this.#o.now()
    const failed = (error: string): ProbeOutcome => ({
      ok: false,
      error,
      totalMs: this.#o.now() - started,
      outputTokens: 0,
    })
    let timer: unknown
    const aborted = new Promise<ProbeOutcome>((resolve) => {
      const onAbort = (): void =>
        resolve(failed(ctl.signal.reason instanceof Error ? ctl.signal.reason.message : 'aborted'))
      ctl.signal.addEventListener('abort', onAbort, { once: true })
      timer = this.#o.scheduler.setTimeout(
        () => ctl.abort(new Error(`timed out after ${this.#o.timeoutMs} ms`)),
        timerDelay(this.#o.timeoutMs),
      )
    })
    try {
      const sent = this.#o.sender({ target, body, signal: ctl.signal })
        .catch((e: unknown) => failed(e instanceof Error ? e.message : String(e)))
      return await Promise.race([sent, aborted])
    } finally {
      this.#o.scheduler.clearTimeout(timer)
      this.#inFlight.delete(ctl)
    }
  }
}
