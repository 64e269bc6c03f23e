/**
 * The performance store: every test run as history (with a TTL) and per-target aggregates,
 * in the embedded node:sqlite store (src/store/db.ts). A missing file is created; a corrupt or
 * truncated one is moved aside and recreated with a warning by openStore, because the proxy
 * must never refuse to start over its performance history.
 */
import type { DatabaseSync } from 'node:sqlite'
import { openStore } from './db.ts'
import type { Store } from './db.ts'
import { inTransaction } from './batch.ts'
import { z } from 'zod'
import { AGGREGATE_WINDOW, aggregateRuns } from '../perf/aggregate.ts'
import type { TargetMetrics } from '../perf/aggregate.ts'
import type { RunRecord, TestType } from '../perf/types.ts'
import { err, ok } from '../lib/result.ts'
import type { Result } from '../lib/result.ts'

const DAY_MS = 86_400_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS perf_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, type TEXT NOT NULL, at REAL NOT NULL,
  ok INTEGER NOT NULL, status INTEGER, error TEXT, ttft_ms REAL, total_ms REAL NOT NULL,
  output_tokens INTEGER NOT NULL, input_tokens INTEGER, tokens_per_sec REAL);
CREATE INDEX IF NOT EXISTS perf_runs_target_at ON perf_runs (target, at DESC);
CREATE INDEX IF NOT EXISTS perf_runs_at ON perf_runs (at);`

const RunSchema = z.object({
  target: z.string().min(1),
  type: z.enum(['latency', 'throughput', 'concurrent', 'health']),
  at: z.number(),
  ok: z.boolean(),
  status: z.number().int().optional(),
  error: z.string().optional(),
  ttftMs: z.number().optional(),
  totalMs: z.number(),
  outputTokens: z.number(),
  inputTokens: z.number().optional(),
  tokensPerSec: z.number().optional(),
})

/** The backup format of `exportJson()` / `importJson()`. */
export const PerformanceExportSchema = z.object({
  format: z.literal('switchyard-performance'),
  version: z.literal(1),
  exportedAt: z.number(),
  runs: z.array(RunSchema),
})
export type PerformanceExport = z.infer<typeof PerformanceExportSchema>

export interface PerformanceStoreOptions {
  /** The proxy's shared store (src/store/db.ts); takes precedence over `path`. */
  readonly store?: Store
  /** A file path, or `:memory:` (the default), opened with openStore. */
  readonly path?: string
  /** History older than this is pruned on every write (default 30). */
  readonly ttlDays?: number
  readonly now: () => number
  readonly warn?: (message: string) => void
}

type Row = Record<string, unknown>
const num = (
  v: unknown,
): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined)

function rowToRun(r: Row): RunRecord {
  const opt = <K extends string>(
    k: K,
    v: unknown,
  ): Partial<Record<K, unknown>> => (v === null || v === undefined ? {} : { [k]: v } as Record<K, unknown>)
  return {
    target: String(r.target),
    type: String(r.type) as TestType,
    at: num(r.at) ?? 0,
    ok: num(r.ok) === 1,
    totalMs: num(r.total_ms) ?? 0,
    outputTokens: num(r.output_tokens) ?? 0,
    ...opt('status', num(r.status)),
    ...opt('error', r.error),
    ...opt('ttftMs', num(r.ttft_ms)),
    ...opt('inputTokens', num(r.input_tokens)),
    ...opt('tokensPerSec', num(r.tokens_per_sec)),
  } as RunRecord
}

/** Per-target aggregates and run history with TTL, export and import. */
export class PerformanceStore {
  readonly #db: DatabaseSync
  readonly #store: Store
  readonly #owned: boolean
  readonly #ttlMs: number
  readonly #now: () => number

  /** Open (or recreate) the store; never throws over a bad file. */
  static open(opts: PerformanceStoreOptions): PerformanceStore {
    const warn = opts.warn ?? ((m: string) => console.warn(m))
    // openStore moves a corrupt or truncated file aside and starts a new one, with a warning.
    const store = opts.store ?? openStore(opts.path ?? ':memory:', warn, { now: opts.now })
    store.migrate('performance-1', SCHEMA)
    return new PerformanceStore(store, opts.store === undefined, opts)
  }

  private constructor(store: Store, owned: boolean, opts: PerformanceStoreOptions) {
    this.#store = store
    this.#owned = owned
    this.#db = store.db
    this.#ttlMs = (opts.ttlDays ?? 30) * DAY_MS
    this.#now = opts.now
  }

  /** Append runs to history in one transaction, then prune history past the TTL. */
  recordRuns(runs: readonly RunRecord[]): void {
    inTransaction(this.#db, () => this.#insert(runs))
    this.prune()
  }

  /** Delete history older than the TTL; returns how many runs went. */
  prune(): number {
    const res = this.#db.prepare('DELETE FROM perf_runs WHERE at < ?').run(this.#now() - this.#ttlMs)
    return Number(res.changes)
  }

  /** Aggregates of every target with history. */
  metrics(): TargetMetrics[] {
    const targets = this.#db.prepare('SELECT DISTINCT target FROM perf_runs ORDER BY target').all() as Row[]
    return targets.map((t) => this.metricsFor(String(t.target))).filter((m): m is TargetMetrics => m !== undefined)
  }

  /** The aggregate of one target, or undefined when it has no history. */
  metricsFor(target: string): TargetMetrics | undefined {
    return aggregateRuns(target, this.history(target, { limit: AGGREGATE_WINDOW }))
  }

  /** A target's runs, newest first, optionally since an epoch-ms instant and capped at `limit`. */
  history(target: string, q: { since?: number; limit?: number } = {}): RunRecord[] {
    const rows = this.#db.prepare(
      'SELECT * FROM perf_runs WHERE target = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?',
    )
      .all(target, q.since ?? 0, Math.max(0, Math.floor(q.limit ?? 1000))) as Row[]
    return rows.map(rowToRun)
  }

  /** Tokens (reported input + output) of runs at or after `since`, for the daily test budget. */
  tokensSince(since: number): number {
    const row = this.#db.prepare(
      'SELECT COALESCE(SUM(output_tokens + COALESCE(input_tokens, 0)), 0) AS n FROM perf_runs WHERE at >= ?',
    ).get(since) as Row | undefined
    return num(row?.n) ?? 0
  }

  /** Forget a target: its aggregate and its history. Returns the number of runs deleted. */
  clear(target: string): number {
    return Number(this.#db.prepare('DELETE FROM perf_runs WHERE target = ?').run(target).changes)
  }

  /** Every run still in history, as a JSON-ready backup. */
  exportJson(): PerformanceExport {
    const rows = this.#db.prepare('SELECT * FROM perf_runs ORDER BY at, id').all() as Row[]
    return { format: 'switchyard-performance', version: 1, exportedAt: this.#now(), runs: rows.map(rowToRun) }
  }

  /**
   * Restore a backup. `replace` (the default) swaps the whole history for the backup's;
   * `merge` appends. Invalid data changes nothing and returns the validation issues.
   */
  importJson(data: unknown, mode: 'replace' | 'merge' = 'replace'): Result<{ runs: number }, string> {
    const parsed = PerformanceExportSchema.safeParse(data)
    if (!parsed.success) {
      return err(
        `Cannot import performance data: ${
          parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
        }`,
      )
    }
    // One transaction: a failed restore leaves the old history in place.
    inTransaction(this.#db, () => {
      if (mode === 'replace') this.#db.exec('DELETE FROM perf_runs')
      this.#insert(parsed.data.runs as RunRecord[])
    })
    this.prune()
    return ok({ runs: parsed.data.runs.length })
  }

  /** Close the database, unless it is the proxy's shared store (its owner closes that). */
  close(): void {
    if (this.#owned) this.#store.close()
  }

  #insert(runs: readonly RunRecord[]): void {
    const ins = this.#db.prepare(`INSERT INTO perf_runs (target, type, at, ok, status, error, ttft_ms, total_ms,
      output_tokens, input_tokens, tokens_per_sec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    for (const r of runs) {
      ins.run(
        r.target,
        r.type,
        r.at,
        r.ok ? 1 : 0,
        r.status ?? null,
        r.error ?? null,
        r.ttftMs ?? null,
        r.totalMs,
        Math.round(r.outputTokens),
        r.inputTokens ?? null,
        r.tokensPerSec ?? null,
      )
    }
  }
}
