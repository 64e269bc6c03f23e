import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultDataDir, openStore, STORE_FILE } from './db.ts'

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-db-'))
  try {
    fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('openStore', () => {
  it('keeps data across a reopen and applies each migration once', () =>
    withDir((dir) => {
      const path = join(dir, 'nested', STORE_FILE)
      const a = openStore(path)
      a.migrate('t-v1', 'CREATE TABLE t (x INTEGER)')
      a.db.prepare('INSERT INTO t VALUES (?)').run(42)
      a.close()
      const b = openStore(path)
      b.migrate('t-v1', 'CREATE TABLE t (x INTEGER)')
      assert.deepEqual(b.db.prepare('SELECT x FROM t').all().map((r) => (r as { x: number }).x), [42])
      const mode = b.db.prepare('PRAGMA journal_mode').get() as Record<string, unknown>
      assert.equal(Object.values(mode)[0], 'wal')
      b.close()
    }))

  it('moves a garbage file aside, warns and starts a fresh store', () =>
    withDir((dir) => {
      const path = join(dir, STORE_FILE)
      writeFileSync(path, 'this is not a sqlite database at all, just text '.repeat(200))
      const logs: string[] = []
      const s = openStore(path, (m) => logs.push(m), { now: () => 1234 })
      assert.equal(s.path, path)
      s.migrate('t-v1', 'CREATE TABLE t (x INTEGER)')
      s.close()
      assert.ok(readdirSync(dir).includes(`${STORE_FILE}.corrupt-1234`))
      assert.equal(logs.length, 1)
      assert.match(logs[0] ?? '', /moved it to/)
    }))

  it('recovers from a truncated database file', () =>
    withDir((dir) => {
      const path = join(dir, STORE_FILE)
      const a = openStore(path)
      a.migrate('t-v1', 'CREATE TABLE t (x TEXT)')
      const ins = a.db.prepare('INSERT INTO t VALUES (?)')
      for (let i = 0; i < 2000; i++) ins.run('row '.repeat(20) + i)
      a.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
      a.close()
      const bytes = new Uint8Array(readFileSync(path))
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 3)))
      const logs: string[] = []
      const b = openStore(path, (m) => logs.push(m))
      b.migrate('t-v1', 'CREATE TABLE t (x TEXT)')
      assert.equal((b.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0)
      b.close()
      assert.equal(logs.length, 1)
      assert.ok(readdirSync(dir).some((f) => f.startsWith(`${STORE_FILE}.corrupt-`)))
    }))

  it('accepts :memory: and names the default data dir', () => {
    const s = openStore(':memory:')
    assert.equal(s.path, ':memory:')
    s.close()
    assert.equal(defaultDataDir('/home/u'), join('/home/u', '.switchyard'))
  })
})
