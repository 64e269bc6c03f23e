/**
 * The persisted alert history: one row per alert (updated when it resolves), newest kept up to
 * `historySize`. An alert still firing when the process stopped is closed on the next start
 * (`resolved_at` = start time, resolution `{ reason: "restart" }`): the detectors start fresh,
 * so it would never resolve otherwise. One a config reload carried over stays open.
 */
import type { Store } from './db.ts'

const MIGRATION = `
CREATE TABLE alerts (
  id TEXT PRIMARY KEY, rule TEXT NOT NULL, subject TEXT NOT NULL, severity TEXT NOT NULL, state TEXT NOT NULL,
  fired_at REAL NOT NULL, resolved_at REAL, message TEXT NOT NULL, evidence TEXT NOT NULL, resolution TEXT);
CREATE INDEX alerts_fired_at ON alerts (fired_at);`

/** An alert as stored: the fields of insights/alerts.ts `Alert`. */
export interface StoredAlert {
  readonly id: string
  readonly rule: string
  readonly subject: string
  readonly severity: string
  readonly state: 'firing' | 'resolved'
  readonly firedAt: number
  readonly resolvedAt?: number
  readonly message: string
  readonly evidence: Readonly<Record<string, number | string>>
  readonly resolution?: Readonly<Record<string, number | string>>
}

const parse = (s: unknown): Record<string, number | string> => {
  try {
    const v = JSON.parse(String(s)) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, number | string>) : {}
  } catch {
    return {}
  }
}

export class AlertStore {
  readonly #store: Store
  readonly #size: number

  /** `stillFiring`: alerts a reload carried over (`AlertMemory`), which are left open. */
  constructor(store: Store, opts: { historySize: number; now: number; stillFiring?: ReadonlySet<string> }) {
    store.migrate('alerts-1', MIGRATION)
    this.#store = store
    this.#size = opts.historySize
    const close = store.db.prepare(`UPDATE alerts SET state = 'resolved', resolved_at = ?, resolution = ? WHERE id = ?`)
    const firing = store.db.prepare(`SELECT id FROM alerts WHERE state = 'firing'`).all() as { id: string }[]
    const resolution = JSON.stringify({ reason: 'restart' })
    for (const { id } of firing) if (!opts.stillFiring?.has(id)) close.run(opts.now, resolution, id)
  }

  /** Inserts or updates an alert, then trims the history to its size. */
  save(a: StoredAlert): void {
    const db = this.#store.db
    db.prepare(`INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
      state = excluded.state, resolved_at = excluded.resolved_at, resolution = excluded.resolution`)
      .run(
        a.id,
        a.rule,
        a.subject,
        a.severity,
        a.state,
        a.firedAt,
        a.resolvedAt ?? null,
        a.message,
        JSON.stringify(a.evidence),
        a.resolution ? JSON.stringify(a.resolution) : null,
      )
    db.prepare(`DELETE FROM alerts WHERE id NOT IN (SELECT id FROM alerts ORDER BY fired_at DESC LIMIT ?)`).run(
      this.#size,
    )
  }

  /** Newest first. */
  list(limit = 100): StoredAlert[] {
    const rows = this.#store.db.prepare('SELECT * FROM alerts ORDER BY fired_at DESC LIMIT ?').all(limit) as Record<
      string,
      unknown
    >[]
    return rows.map((r) => ({
      id: String(r.id),
      rule: String(r.rule),
      subject: String(r.subject),
      severity: String(r.severity),
      state: r.state === 'firing' ? 'firing' : 'resolved',
      firedAt: Number(r.fired_at),
      ...(r.resolved_at === null || r.resolved_at === undefined ? {} : { resolvedAt: Number(r.resolved_at) }),
      message: String(r.message),
      evidence: parse(r.evidence),
      ...(r.resolution === null || r.resolution === undefined ? {} : { resolution: parse(r.resolution) }),
    }))
  }
}
