/**
 * Usage per UTC day, tier and target, persisted so the dashboard's day table and its CSV
 * survive restarts. Writes are batched off the hot path like the usage totals: `enqueue` merges
 * into a pending map keyed by (day, tier, target); a timer writes one transaction of upserts.
 */
import type { StatementSync } from 'node:sqlite'
import type { Store } from './db.ts'
import { FlushTimer, inTransaction } from './batch.ts'

/** One day's counts for a (tier, target): also the delta unit `enqueue` takes. */
export interface DailyRow {
  readonly day: string
  readonly tier: string
  readonly target: string
  readonly requests: number
  readonly errors: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
}

const MIGRATION = `
CREATE TABLE usage_daily (
  day TEXT NOT NULL, tier TEXT NOT NULL, target TEXT NOT NULL, requests INTEGER NOT NULL, errors INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, PRIMARY KEY (day, tier, target));`

const UPSERT = `INSERT INTO usage_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (day, tier, target) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors,
  input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
  cost_usd = cost_usd + excluded.cost_usd`

const keyOf = (r: DailyRow) => `${r.day}\u0000${r.tier}\u0000${r.target}`

export class DailyUsageStore {
  readonly #store: Store
  readonly #pending = new Map<string, DailyRow>()
  readonly #upsert: StatementSync
  readonly #log: (msg: string) => void
  readonly #timer = new FlushTimer(() => this.#flushLogged())

  constructor(store: Store, log: (msg: string) => void = () => {}) {
    store.migrate('usage-daily-v1', MIGRATION)
    this.#store = store
    this.#log = log
    this.#upsert = store.db.prepare(UPSERT)
  }

  /** Queue a delta (O(1), no I/O). */
  enqueue(d: DailyRow): void {
    const k = keyOf(d)
    const p = this.#pending.get(k)
    this.#pending.set(
      k,
      p
        ? {
          ...p,
          requests: p.requests + d.requests,
          errors: p.errors + d.errors,
          inputTokens: p.inputTokens + d.inputTokens,
          outputTokens: p.outputTokens + d.outputTokens,
          costUsd: p.costUsd + d.costUsd,
        }
        : { ...d },
    )
  }

  /** Write every pending delta in one transaction; returns the rows written. */
  flush(): number {
    if (this.#pending.size === 0) return 0
    inTransaction(this.#store.db, () => {
      for (const r of this.#pending.values()) {
        this.#upsert.run(r.day, r.tier, r.target, r.requests, r.errors, r.inputTokens, r.outputTokens, r.costUsd)
      }
    })
    const n = this.#pending.size
    this.#pending.clear()
    return n
  }

  /** Flush every `intervalMs` until `stop()`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer.start(intervalMs)
  }

  /** Stop the timer and write whatever is pending (for shutdown). */
  stop(): void {
    this.#timer.stop()
  }

  /** Rows of `sinceDay` (YYYY-MM-DD) and later; older ones are deleted. */
  load(sinceDay: string): DailyRow[] {
    const db = this.#store.db
    db.prepare('DELETE FROM usage_daily WHERE day < ?').run(sinceDay)
    return (db.prepare('SELECT * FROM usage_daily ORDER BY day').all() as Record<string, unknown>[]).map((r) => ({
      day: String(r['day']),
      tier: String(r['tier']),
      target: String(r['target']),
      requests: Number(r['requests']),
      errors: Number(r['errors']),
      inputTokens: Number(r['input_tokens']),
      outputTokens: Number(r['output_tokens']),
      costUsd: Number(r['cost_usd']),
    }))
  }

  #flushLogged(): void {
    try {
      this.flush()
    } catch (e) {
      this.#log(`Cannot write daily usage to the store: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
}
