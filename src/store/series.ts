/**
 * The hour buckets of the live series (insights/series.ts), persisted so that 7-day trends,
 * the hour-of-week profile and recommendations survive a restart. Rows are (key, hour start,
 * sums as JSON), upserted in one transaction per flush; rows older than 8 days are pruned.
 */
import type { Store } from './db.ts'
import { inTransaction } from './batch.ts'

const MIGRATION = `
CREATE TABLE series_hours (key TEXT NOT NULL, start REAL NOT NULL, agg TEXT NOT NULL, PRIMARY KEY (key, start));
CREATE INDEX series_hours_start ON series_hours (start);`

const KEEP_MS = 8 * 24 * 3_600_000

export interface HourRow {
  readonly key: string
  readonly start: number
  readonly agg: Readonly<Record<string, number>>
}

export class SeriesStore {
  readonly #store: Store

  constructor(store: Store) {
    store.migrate('series-1', MIGRATION)
    this.#store = store
  }

  /** Upserts the rows (a bucket's whole sums, not a delta) and prunes rows older than 8 days before `now`. */
  save(rows: readonly HourRow[], now: number): void {
    if (rows.length === 0) return
    const db = this.#store.db
    const put = db.prepare(
      'INSERT INTO series_hours VALUES (?, ?, ?) ON CONFLICT (key, start) DO UPDATE SET agg = excluded.agg',
    )
    inTransaction(db, () => {
      for (const r of rows) put.run(r.key, r.start, JSON.stringify(r.agg))
      db.prepare('DELETE FROM series_hours WHERE start < ?').run(now - KEEP_MS)
    })
  }

  /** Rows with `start >= since`, oldest first; a row whose sums do not parse is skipped. */
  load(since: number): HourRow[] {
    const rows = this.#store.db.prepare('SELECT key, start, agg FROM series_hours WHERE start >= ? ORDER BY start').all(
      since,
    ) as Record<string, unknown>[]
    return rows.flatMap((r) => {
      try {
        const agg = JSON.parse(String(r.agg)) as unknown
        if (typeof agg !== 'object' || agg === null || Array.isArray(agg)) return []
        return [{ key: String(r.key), start: Number(r.start), agg: agg as Record<string, number> }]
      } catch {
        return []
      }
    })
  }
}
