/**
 * Named API keys (`Keys`): per-key request rate, daily spend against the budget, usage totals
 * and the models a key may use. `now` comes in as an argument; nothing here reads the clock.
 * Spend starts again at 00:00 UTC. Each booking is also handed to `onRecord` (the store's
 * batched writer), and `seed` loads what was stored, so budgets survive restarts and reloads.
 */
import type { NamedKey } from '../config/types.ts'
import { bucketFull, bucketTake, perMinute, type Bucket } from '../resilience/bucket.ts'

const DAY_MS = 86_400_000

/** The start of the next UTC day after `now`, when daily budgets reset. */
export const nextUtcMidnight = (now: number): number => (Math.floor(now / DAY_MS) + 1) * DAY_MS

export type KeyRefusal = { readonly reason: 'budget' | 'rpm'; readonly retryAfterMs: number; readonly message: string }

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
}

const usd = (n: number) => `$${n.toFixed(2)}`

export class KeyLedger {
  readonly #keys: ReadonlyMap<string, NamedKey>
  readonly #rows = new Map<string, Row>()
  readonly #onRecord: ((u: KeyDayUsage) => void) | undefined

  constructor(keys: readonly NamedKey[], onRecord?: (u: KeyDayUsage) => void) {
    this.#keys = new Map(keys.map((k) => [k.name, k]))
    this.#onRecord = onRecord
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

  #row(name: string, now: number): Row {
    const day = Math.floor(now / DAY_MS)
    let r = this.#rows.get(name)
    if (!r) this.#rows.set(name, (r = { day, todayUsd: 0, requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }))
    if (r.day !== day) { r.day = day; r.todayUsd = 0 }
    return r
  }

  /** Whether key `name` may start a request now: under its daily budget, then under its rpm (which it then uses). */
  admit(name: string, now: number): KeyRefusal | undefined {
    const k = this.#keys.get(name)
    if (!k) return undefined
    const r = this.#row(name, now)
    if (k.budgetUsdPerDay !== undefined && r.todayUsd >= k.budgetUsdPerDay) {
      const reset = nextUtcMidnight(now)
      return {
        reason: 'budget', retryAfterMs: reset - now,
        message: `API key "${name}" has spent ${usd(r.todayUsd)} of its ${usd(k.budgetUsdPerDay)} daily budget: it resets at ${new Date(reset).toISOString()}`,
      }
    }
    if (k.rpm !== undefined) {
      const p = perMinute(k.rpm)
      const took = bucketTake(r.bucket ?? bucketFull(now, p), 1, now, p)
      r.bucket = took.bucket
      if (!took.ok) return { reason: 'rpm', retryAfterMs: took.waitMs, message: `API key "${name}" is over its limit of ${k.rpm} requests per minute: retry in ${Math.ceil(took.waitMs / 1000)} s` }
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
    this.#onRecord?.({ name, day: r.day, requests: 1, inputTokens: u.inputTokens, outputTokens: u.outputTokens, costUsd: u.costUsd ?? 0 })
  }

  snapshot(now: number): Record<string, KeyTotals> {
    const out: Record<string, KeyTotals> = {}
    for (const [name, k] of this.#keys) {
      const r = this.#row(name, now)
      out[name] = {
        requests: r.requests, inputTokens: r.inputTokens, outputTokens: r.outputTokens, costUsd: r.costUsd, todayUsd: r.todayUsd,
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
