/**
 * Named API keys (`Keys`): per-key request rate, daily spend against the budget, usage totals
 * and the models a key may use. `now` comes in as an argument; nothing here reads the clock.
 * Spend starts again at 00:00 UTC. Each booking is also handed to `onRecord` (the store's
 * batched writer), and `seed` loads what was stored, so budgets survive restarts and reloads.
 */
import type { NamedKey } from '../config/types.ts'
import { type Bucket, bucketFull, bucketTake, perMinute } from '../resilience/bucket.ts'

const DAY_MS = 86_400_000

/** The start of the next UTC day after `now`, when daily budgets reset. */
export const nextUtcMidnight = (now: number): number => (Math.floor(now / DAY_MS) + 1) * DAY_MS

export type KeyRefusal = { readonly reason: 'budget' | 'rpm'; readonly retryAfterMs: number; readonly message: string }

/** A shared store's answer for one key: admitted with the fleet's spend today, or refused. */
export type KeyLimitDecision =
  | { readonly ok: true; readonly spentUsd: number }
  | { readonly ok: false; readonly reason: 'budget' | 'rpm'; readonly retryAfterMs: number; readonly spentUsd: number }

/**
 * Fleet mode's shared counters for keys' budgets and rpm (src/fleet/key-limits.ts). `admit`
 * answers undefined when the shared store cannot be asked (the ledger then decides locally).
 */
export interface SharedKeyLimits {
  admit(
    name: string,
    limits: { readonly budgetUsdPerDay?: number; readonly rpm?: number },
  ): Promise<KeyLimitDecision | undefined>
  record(name: string, costUsd: number): void
  /** Instances in the fleet as last seen: the local fallback takes rpm ÷ this. */
  fleetSize(): number
}

/** One key's usage on one UTC day (`day` is days since the epoch): what is stored and seeded. */
export interface KeyDayUsage {
  readonly name: string
  readonly day: number
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
}

export interface KeyTotals {
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
  /** Spend in the current UTC day, against `budgetUsdPerDay`. */
  readonly todayUsd: number
  readonly budgetUsdPerDay?: number
  readonly resetsAt: string
}

interface Row {
  day: number
  todayUsd: number
  requests: number
  inputTokens: number
  outputTokens: number
  costUsd: number
  bucket?: Bucket
  /** Fleet mode: the fleet's spend today as last seen, and this instance's `todayUsd` then. */
  fleetUsd?: number
  localAtFleet?: number
}

const usd = (n: number) => `$${n.toFixed(2)}`

export class KeyLedger {
  readonly #keys: ReadonlyMap<string, NamedKey>
  readonly #rows = new Map<string, Row>()
  readonly #onRecord: ((u: KeyDayUsage) => void) | undefined
  readonly #shared: SharedKeyLimits | undefined

  /** `shared`: fleet mode's counters, which then decide budgets and rpm for the whole fleet. */
  constructor(keys: readonly NamedKey[], onRecord?: (u: KeyDayUsage) => void, shared?: SharedKeyLimits) {
    this.#keys = new Map(keys.map((k) => [k.name, k]))
    this.#onRecord = onRecord
    this.#shared = shared
  }

  /**
   * `admit` for the whole fleet when shared counters are set (one Redis round trip, only for a
   * key with a budget or an rpm); locally when they are not, or do not answer: then against this
   * instance's share of the rpm and the fleet's spend last seen plus this instance's since.
   */
  async check(name: string, now: number): Promise<KeyRefusal | undefined> {
    const k = this.#keys.get(name)
    const shared = this.#shared
    if (!k || !shared || (k.budgetUsdPerDay === undefined && k.rpm === undefined)) return this.admit(name, now)
    const d = await shared.admit(name, {
      ...(k.budgetUsdPerDay === undefined ? {} : { budgetUsdPerDay: k.budgetUsdPerDay }),
      ...(k.rpm === undefined ? {} : { rpm: k.rpm }),
    })
    if (!d) return this.admit(name, now, shared.fleetSize())
    const r = this.#row(name, now)
    r.fleetUsd = d.spentUsd
    r.localAtFleet = r.todayUsd
    if (d.ok) return undefined
    if (d.reason === 'budget') {
      return this.#overBudget(name, d.spentUsd, k.budgetUsdPerDay ?? 0, {
        reset: Math.round((now + d.retryAfterMs) / 60_000) * 60_000,
        retryAfterMs: d.retryAfterMs,
      })
    }
    // (Redis's day ends at its midnight: to the minute, the time shown is midnight UTC.)
    return this.#overRpm(name, k.rpm ?? 0, d.retryAfterMs)
  }

  #overBudget(name: string, spent: number, budget: number, at: { reset: number; retryAfterMs: number }): KeyRefusal {
    const reset = at.reset
    return {
      reason: 'budget',
      retryAfterMs: at.retryAfterMs,
      message: `API key "${name}" has spent ${usd(spent)} of its ${usd(budget)} daily budget: it resets at ${
        new Date(reset).toISOString()
      }`,
    }
  }

  #overRpm(name: string, rpm: number, waitMs: number): KeyRefusal {
    return {
      reason: 'rpm',
      retryAfterMs: waitMs,
      message: `API key "${name}" is over its limit of ${rpm} requests per minute: retry in ${
        Math.ceil(waitMs / 1000)
      } s`,
    }
  }

  /** Adds stored usage (at start-up): all of it to the totals, today's to today's spend. */
  seed(rows: readonly KeyDayUsage[], now: number): void {
    for (const u of rows) {
      if (!this.#keys.has(u.name)) continue
      const r = this.#row(u.name, now)
      r.requests += u.requests
      r.inputTokens += u.inputTokens
      r.outputTokens += u.outputTokens
      r.costUsd += u.costUsd
      if (u.day === r.day) r.todayUsd += u.costUsd
    }
  }

  /**
   * Replaces each key's persisted figures with `rows` (see `UsageLedger.reseed`); rpm buckets
   * stay, and a fleet reading keeps counting only what this process spent since it.
   */
  reseed(rows: readonly KeyDayUsage[], now: number): void {
    const before = new Map<string, number>()
    for (const [name, r] of this.#rows) {
      before.set(name, r.todayUsd)
      Object.assign(r, { todayUsd: 0, requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 })
    }
    this.seed(rows, now)
    for (const [name, r] of this.#rows) {
      if (r.localAtFleet !== undefined) r.localAtFleet += r.todayUsd - (before.get(name) ?? 0)
    }
  }

  #row(name: string, now: number): Row {
    const day = Math.floor(now / DAY_MS)
    let r = this.#rows.get(name)
    if (!r) this.#rows.set(name, r = { day, todayUsd: 0, requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 })
    if (r.day !== day) {
      r.day = day
      r.todayUsd = 0
      delete r.fleetUsd
      delete r.localAtFleet
    }
    return r
  }

  /**
   * Whether key `name` may start a request now: under its daily budget, then under its rpm
   * (which it then uses). `share` (fleet mode without Redis): the rpm is divided by it.
   */
  admit(name: string, now: number, share = 1): KeyRefusal | undefined {
    const k = this.#keys.get(name)
    if (!k) return undefined
    const r = this.#row(name, now)
    // Fleet mode: what the fleet had spent when last asked, plus what this instance spent since.
    const spent = r.fleetUsd === undefined
      ? r.todayUsd
      : Math.max(r.todayUsd, r.fleetUsd + r.todayUsd - (r.localAtFleet ?? 0))
    if (k.budgetUsdPerDay !== undefined && spent >= k.budgetUsdPerDay) {
      const reset = nextUtcMidnight(now)
      return this.#overBudget(name, spent, k.budgetUsdPerDay, { reset, retryAfterMs: reset - now })
    }
    if (k.rpm !== undefined) {
      const p = perMinute(Math.max(1, Math.floor(k.rpm / Math.max(1, share))))
      const took = bucketTake(r.bucket ?? bucketFull(now, p), 1, now, p)
      r.bucket = took.bucket
      if (!took.ok) return this.#overRpm(name, k.rpm, took.waitMs)
    }
    return undefined
  }

  /** Books a finished request's usage and cost (unknown cost counts as 0 against the budget). */
  record(name: string, now: number, u: { inputTokens: number; outputTokens: number; costUsd?: number }): void {
    if (!this.#keys.has(name)) return
    const r = this.#row(name, now)
    r.requests++
    r.inputTokens += u.inputTokens
    r.outputTokens += u.outputTokens
    r.costUsd += u.costUsd ?? 0
    r.todayUsd += u.costUsd ?? 0
    if (u.costUsd) this.#shared?.record(name, u.costUsd)
    this.#onRecord?.({
      name,
      day: r.day,
      requests: 1,
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      costUsd: u.costUsd ?? 0,
    })
  }

  snapshot(now: number): Record<string, KeyTotals> {
    const out: Record<string, KeyTotals> = {}
    for (const [name, k] of this.#keys) {
      const r = this.#row(name, now)
      out[name] = {
        requests: r.requests,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        costUsd: r.costUsd,
        todayUsd: r.todayUsd,
        ...(k.budgetUsdPerDay === undefined ? {} : { budgetUsdPerDay: k.budgetUsdPerDay }),
        resetsAt: new Date(nextUtcMidnight(now)).toISOString(),
      }
    }
    return out
  }

  /** Whether key `name` may use `target` (`provider,model`): a pattern matches the target or its model. */
  allows(name: string | undefined, target: string): boolean {
    const allowed = name === undefined ? undefined : this.#keys.get(name)?.allowedModels
    if (!allowed) return true
    const model = target.slice(target.indexOf(',') + 1)
    return allowed.some((m) => m.re.test(target) || m.re.test(model))
  }

  /** The patterns key `name` is limited to, for error messages. */
  allowedList(name: string): string {
    return (this.#keys.get(name)?.allowedModels ?? []).map((m) => m.source).join(', ')
  }
}
