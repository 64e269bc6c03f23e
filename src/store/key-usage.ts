/**
 * Persists named keys' usage per UTC day (keys/ledger.ts), so a daily budget survives restarts
 * and reloads. Writes are batched like the usage store's: `enqueue` merges into a pending map
 * keyed by (key, day), a timer or shutdown writes one transaction of upserts. Only key names
 * are stored, never keys.
 */
import type { StatementSync } from 'node:sqlite'
import type { KeyDayUsage } from '../keys/ledger.ts'
import type { Store } from './db.ts'
import { FlushTimer, inTransaction } from './batch.ts'

const MIGRATION = `
CREATE TABLE key_usage (
  name TEXT NOT NULL, day INTEGER NOT NULL, requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, PRIMARY KEY (name, day));`

const UPSERT = `INSERT INTO key_usage VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (name, day) DO UPDATE SET requests = requests + excluded.requests,
  input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
  cost_usd = cost_usd + excluded.cost_usd`

export class KeyUsageStore {
  readonly #store: Store
  readonly #upsert: StatementSync
  readonly #pending = new Map<string, { -readonly [K in keyof KeyDayUsage]: KeyDayUsage[K] }>()
  readonly #log: (msg: string) => void
  readonly #timer = new FlushTimer(() => this.flush())

  constructor(store: Store, log: (msg: string) => void = () => {}) {
    store.migrate('key-usage-v1', MIGRATION)
    this.#store = store
    this.#upsert = store.db.prepare(UPSERT)
    this.#log = log
  }

  /** Queues one booking (pass as the KeyLedger's `onRecord`). O(1), no I/O. */
  enqueue(u: KeyDayUsage): void {
    const k = `${u.day}\u0000${u.name}`
    const p = this.#pending.get(k)
    if (!p) {
      this.#pending.set(k, { ...u })
      return
    }
    p.requests += u.requests
    p.inputTokens += u.inputTokens
    p.outputTokens += u.outputTokens
    p.costUsd += u.costUsd
  }

  /** Writes every queued booking in one transaction; on failure they stay queued for the next try. */
  flush(): void {
    if (this.#pending.size === 0) return
    try {
      inTransaction(this.#store.db, () => {
        for (const u of this.#pending.values()) {
          this.#upsert.run(u.name, u.day, u.requests, u.inputTokens, u.outputTokens, u.costUsd)
        }
      })
      this.#pending.clear()
    } catch (e) {
      this.#log(`Cannot write key usage to the store: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  /** Flush every `intervalMs` until `stop()`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer.start(intervalMs)
  }

  /** Stop the timer and write whatever is pending (for shutdown). */
  stop(): void {
    this.#timer.stop()
  }

  /** Every stored (key, day) row, to seed the ledger at start-up. */
  load(): KeyDayUsage[] {
    const rows = this.#store.db.prepare('SELECT * FROM key_usage').all() as Record<string, unknown>[]
    return rows.map((r) => ({
      name: String(r['name']),
      day: Number(r['day']),
      requests: Number(r['requests']),
      inputTokens: Number(r['input_tokens']),
      outputTokens: Number(r['output_tokens']),
      costUsd: Number(r['cost_usd']),
    }))
  }
}
