/**
 * The embedded store: one node:sqlite database in WAL mode with a migrations table. Only
 * src/store/* imports node:sqlite. The proxy must never refuse to start over its own history,
 * so a corrupt or unreadable file is moved aside (`<file>.corrupt-<ts>`) and recreated, and if
 * even that fails we run on an in-memory database, each time with a warning.
 */
import { DatabaseSync } from 'node:sqlite'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const STORE_FILE = 'switchyard.db'
/** Writers wait this long for a lock (another process on the same file) before failing. */
const BUSY_TIMEOUT_MS = 5_000

export interface Store {
  readonly db: DatabaseSync
  /** The file in use, or `:memory:`. */
  readonly path: string
  /** Run `sql` once per store, recorded under `id` in the migrations table. */
  migrate(id: string, sql: string): void
  close(): void
}

export interface OpenStoreOptions {
  /** For the `.corrupt-<ts>` suffix; defaults to Date.now. */
  readonly now?: () => number
}

/** `<home>/.switchyard`, where the store lives unless `--data-dir` says otherwise. */
export function defaultDataDir(home: string): string {
  return join(home, '.switchyard')
}

/** Open (or create) the store at `path`, a file or `:memory:`; never throws over a bad file. */
export function openStore(path: string, log: (msg: string) => void = () => {}, options: OpenStoreOptions = {}): Store {
  const now = options.now ?? Date.now
  if (path === ':memory:') return wrap(init(new DatabaseSync(':memory:')), ':memory:', now)
  try {
    mkdirSync(dirname(path), { recursive: true })
    return wrap(openChecked(path), path, now)
  } catch (first) {
    const aside = `${path}.corrupt-${now()}`
    try {
      moveAside(path, aside)
      log(`Cannot use store "${path}" (${messageOf(first)}): moved it to "${aside}" and started a new one`)
      return wrap(openChecked(path), path, now)
    } catch (second) {
      log(`Cannot open or recreate store "${path}" (${messageOf(second)}): usage will not survive a restart`)
      return wrap(init(new DatabaseSync(':memory:')), ':memory:', now)
    }
  }
}

function openChecked(path: string): DatabaseSync {
  const db = new DatabaseSync(path)
  try {
    init(db)
    // A truncated file can open cleanly and fail only on the first page it cannot read.
    const row = db.prepare('PRAGMA quick_check').get() as Record<string, unknown> | undefined
    const verdict = row === undefined ? 'no result' : String(Object.values(row)[0])
    if (verdict !== 'ok') throw new Error(`integrity check failed: ${verdict}`)
    return db
  } catch (e) {
    db.close()
    throw e
  }
}

function init(db: DatabaseSync): DatabaseSync {
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
  db.exec('PRAGMA journal_mode = WAL')
  // WAL + NORMAL is durable across process crashes; only an OS crash can lose the last commit.
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, applied_at REAL NOT NULL)')
  return db
}

function moveAside(path: string, aside: string): void {
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix)
  if (existsSync(path)) renameSync(path, aside)
}

function wrap(db: DatabaseSync, path: string, now: () => number): Store {
  return {
    db,
    path,
    migrate(id: string, sql: string): void {
      if (db.prepare('SELECT 1 FROM migrations WHERE id = ?').get(id) !== undefined) return
      db.exec('BEGIN')
      try {
        db.exec(sql)
        db.prepare('INSERT INTO migrations (id, applied_at) VALUES (?, ?)').run(id, now())
        db.exec('COMMIT')
      } catch (e) {
        db.exec('ROLLBACK')
        throw e
      }
    },
    close(): void {
      if (db.isOpen) db.close()
    },
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
