/**
 * Persists the usage ledger so usage and cost survive restarts. Writes are batched off the hot
 * path: `enqueue` only merges a delta into a pending map keyed by (tier, target), so pending
 * memory is bounded by the number of pairs however long the disk is slow; a timer (started and
 * stopped by the caller) or a full batch triggers `flush`, one transaction of upserts.
 */
import type { StatementSync } from 'node:sqlite'
import { emptyTotals, PairTotalsMap } from '../usage/ledger.ts'
import type { PairTotals } from '../usage/ledger.ts'
import type { Store } from './db.ts'
import { FlushTimer, inTransaction } from './batch.ts'

const MIGRATION = `
CREATE TABLE usage_totals (
  tier TEXT NOT NULL, target TEXT NOT NULL, requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL, cache_creation_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL, unknown_cost_requests INTEGER NOT NULL, PRIMARY KEY (tier, target));
CREATE TABLE usage_failures (
  tier TEXT NOT NULL, target TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (tier, target, reason));`

// Requests billed from Switchyard's own token estimate (the upstream reported no usage).
const MIGRATION_ESTIMATED = 'ALTER TABLE usage_totals ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0'

// Reasoning (thinking) tokens among the output tokens, as upstreams reported them.
const MIGRATION_REASONING = 'ALTER TABLE usage_totals ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0'

const UPSERT_TOTALS = `INSERT INTO usage_totals (tier, target, requests, input_tokens, output_tokens, cache_read_tokens,
  cache_creation_tokens, cost_usd, unknown_cost_requests, estimated_requests, reasoning_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tier, target) DO UPDATE SET requests = requests + excluded.requests,
  input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
  cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
  cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
  cost_usd = cost_usd + excluded.cost_usd, unknown_cost_requests = unknown_cost_requests + excluded.unknown_cost_requests,
  estimated_requests = estimated_requests + excluded.estimated_requests,
  reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens`
const UPSERT_FAILURE = `INSERT INTO usage_failures VALUES (?, ?, ?, ?)
ON CONFLICT (tier, target, reason) DO UPDATE SET count = count + excluded.count`

export interface UsageStoreOptions {
  /** Deltas merged before a flush is scheduled without waiting for the timer; default 512. */
  readonly maxBatch?: number
  /** Runs a flush soon but not now (default `setTimeout(fn, 0)`), keeping I/O off the caller's turn. */
  readonly schedule?: (fn: () => void) => void
  readonly log?: (msg: string) => void
}

export class UsageStore {
  readonly #store: Store
  readonly #pending = new PairTotalsMap()
  readonly #maxBatch: number
  readonly #schedule: (fn: () => void) => void
  readonly #log: (msg: string) => void
  readonly #totals: StatementSync
  readonly #failure: StatementSync
  #queued = 0
  #scheduled = false
  readonly #timer = new FlushTimer(() => this.#flushLogged())

  constructor(store: Store, options: UsageStoreOptions = {}) {
    const { maxBatch = 512, schedule = (fn) => void setTimeout(fn, 0), log = () => {} } = options
    store.migrate('usage-v1', MIGRATION)
    store.migrate('usage-v2-estimated', MIGRATION_ESTIMATED)
    store.migrate('usage-v3-reasoning', MIGRATION_REASONING)
    this.#store = store
    this.#maxBatch = maxBatch
    this.#schedule = schedule
    this.#log = log
    this.#totals = store.db.prepare(UPSERT_TOTALS)
    this.#failure = store.db.prepare(UPSERT_FAILURE)
  }

  /** Queue a ledger delta (pass as `new UsageLedger(d => usageStore.enqueue(d))`). O(1), no I/O. */
  enqueue(delta: PairTotals): void {
    this.#pending.add(delta)
    if (++this.#queued >= this.#maxBatch && !this.#scheduled) {
      this.#scheduled = true
      this.#schedule(() => this.#flushLogged())
    }
  }

  /** Deltas queued since the last successful flush. */
  get queued(): number {
    return this.#queued
  }

  /** Flush every `intervalMs` until `stop()`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer.start(intervalMs)
  }

  /** Stop the timer and write whatever is pending (for shutdown). */
  stop(): void {
    this.#timer.stop()
  }

  /** Write all pending deltas in one transaction, synchronously; returns the pairs written. */
  flush(): number {
    this.#scheduled = false
    if (this.#pending.size === 0) return 0
    inTransaction(this.#store.db, () => {
      for (const { tier, target, totals: t } of this.#pending.values()) {
        this.#totals.run(
          tier,
          target,
          t.requests,
          t.inputTokens,
          t.outputTokens,
          t.cacheReadTokens,
          t.cacheCreationTokens,
          t.costUsd,
          t.unknownCostRequests,
          t.estimatedRequests,
          t.reasoningTokens,
        )
        for (const [reason, n] of Object.entries(t.failures)) this.#failure.run(tier, target, reason, n)
      }
    })
    const written = this.#pending.size
    this.#pending.clear()
    this.#queued = 0
    return written
  }

  #flushLogged(): void {
    try {
      this.flush()
    } catch (e) {
      // Pending deltas stay queued (bounded by pairs) and are retried on the next flush.
      this.#log(`Cannot write usage to the store: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  /** Persisted totals per (tier, target), to seed the ledger at start-up. */
  loadTotals(): PairTotals[] {
    const db = this.#store.db
    const rows = db.prepare('SELECT * FROM usage_totals').all() as Record<string, unknown>[]
    const fails = db.prepare('SELECT * FROM usage_failures').all() as Record<string, unknown>[]
    const table = new PairTotalsMap()
    const pair = (r: Record<string, unknown>) => ({ tier: String(r['tier']), target: String(r['target']) })
    for (const r of rows) {
      table.add({
        ...pair(r),
        requests: Number(r['requests']),
        inputTokens: Number(r['input_tokens']),
        outputTokens: Number(r['output_tokens']),
        cacheReadTokens: Number(r['cache_read_tokens']),
        cacheCreationTokens: Number(r['cache_creation_tokens']),
        costUsd: Number(r['cost_usd']),
        unknownCostRequests: Number(r['unknown_cost_requests']),
        estimatedRequests: Number(r['estimated_requests'] ?? 0),
        reasoningTokens: Number(r['reasoning_tokens'] ?? 0),
        failures: {},
      })
    }
    for (const f of fails) {
      table.add({ ...pair(f), ...emptyTotals(), failures: { [String(f['reason'])]: Number(f['count']) } })
    }
    return [...table.values()].map(({ tier, target, totals }) => ({ tier, target, ...totals }))
  }
}
