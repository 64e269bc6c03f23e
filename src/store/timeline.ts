/**
 * The dashboard's timeline slots (10 s over 15 minutes, 5 min over 24 hours), persisted so the
 * charts do not restart empty after a restart. Bounded: one row per (series, slot), and every
 * slot older than its series' window is deleted on load and on each write. Writes are batched
 * off the hot path: a timer takes the slots changed since the last write and upserts their
 * absolute values in one transaction.
 */
import type { StatementSync } from 'node:sqlite'
import type { Store } from './db.ts'
import { FlushTimer, inTransaction } from './batch.ts'

/** One slot of one series (`stepMs` names it), absolute values. */
export interface TimelineRow {
  readonly stepMs: number
  readonly t: number
  readonly requests: number
  readonly errors: number
  readonly costUsd: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly activeMax: number
  readonly activeEnd: number
  /** TTFT samples of the slot (bounded by the timeline: its first 256). */
  readonly ttft: readonly number[]
}

/** A series: its slot length and how many slots it keeps. */
export interface TimelineSeries {
  readonly stepMs: number
  readonly count: number
}

export interface TimelineStoreOptions {
  readonly series: readonly TimelineSeries[]
  /** The slots changed since the last call (the timeline's `takeChanged`). */
  readonly changed: () => readonly TimelineRow[]
  readonly now: () => number
  readonly log?: (msg: string) => void
}

const MIGRATION = `
CREATE TABLE timeline_slots (
  step_ms INTEGER NOT NULL, t INTEGER NOT NULL, requests INTEGER NOT NULL, errors INTEGER NOT NULL, cost_usd REAL NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, active_max INTEGER NOT NULL, active_end INTEGER NOT NULL,
  ttft TEXT NOT NULL, PRIMARY KEY (step_ms, t));`

/** TTFT samples written per slot at most (the timeline keeps no more). */
const MAX_TTFT = 256

export class TimelineStore {
  readonly #store: Store
  readonly #o: TimelineStoreOptions
  readonly #upsert: StatementSync
  readonly #timer = new FlushTimer(() => this.#flushLogged())

  constructor(store: Store, options: TimelineStoreOptions) {
    store.migrate('timeline-slots-v1', MIGRATION)
    this.#store = store
    this.#o = options
    this.#upsert = store.db.prepare('INSERT OR REPLACE INTO timeline_slots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  }

  /** Writes the changed slots of the known series in one transaction and drops expired ones; returns the rows written. */
  flush(): number {
    const known = new Set(this.#o.series.map((s) => s.stepMs))
    const rows = this.#o.changed().filter((r) => known.has(r.stepMs))
    if (rows.length === 0) return 0
    inTransaction(this.#store.db, () => {
      for (const r of rows) {
        this.#upsert.run(
          r.stepMs,
          r.t,
          r.requests,
          r.errors,
          r.costUsd,
          r.inputTokens,
          r.outputTokens,
          r.activeMax,
          r.activeEnd,
          JSON.stringify(r.ttft.slice(0, MAX_TTFT)),
        )
      }
      this.#expire()
    })
    return rows.length
  }

  /** The stored slots still inside their series' window (older ones and unknown series are deleted first). */
  load(): TimelineRow[] {
    inTransaction(this.#store.db, () => this.#expire())
    return (this.#store.db.prepare('SELECT * FROM timeline_slots ORDER BY step_ms, t').all() as Record<
      string,
      unknown
    >[]).map((r) => ({
      stepMs: Number(r['step_ms']),
      t: Number(r['t']),
      requests: Number(r['requests']),
      errors: Number(r['errors']),
      costUsd: Number(r['cost_usd']),
      inputTokens: Number(r['input_tokens']),
      outputTokens: Number(r['output_tokens']),
      activeMax: Number(r['active_max']),
      activeEnd: Number(r['active_end']),
      ttft: parseTtft(r['ttft']),
    }))
  }

  /** Flush every `intervalMs` until `stop()`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer.start(intervalMs)
  }

  /** Stop the timer and write whatever changed (for shutdown). */
  stop(): void {
    this.#timer.stop()
  }

  #expire(): void {
    const db = this.#store.db
    const now = this.#o.now()
    const steps = this.#o.series.map((s) => s.stepMs)
    db.prepare(`DELETE FROM timeline_slots WHERE step_ms NOT IN (${steps.map(() => '?').join(', ') || 'NULL'})`).run(
      ...steps,
    )
    for (const s of this.#o.series) {
      db.prepare('DELETE FROM timeline_slots WHERE step_ms = ? AND t <= ?').run(s.stepMs, now - s.stepMs * s.count)
    }
  }

  #flushLogged(): void {
    try {
      this.flush()
    } catch (e) {
      this.#o.log?.(`Cannot write the timeline to the store: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
}

function parseTtft(v: unknown): number[] {
  try {
    const a: unknown = JSON.parse(String(v))
    return Array.isArray(a)
      ? a.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).slice(0, MAX_TTFT)
      : []
  } catch {
    return []
  }
}
