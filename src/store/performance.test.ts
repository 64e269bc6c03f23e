import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerformanceStore } from './performance.ts'
import { openStore } from './db.ts'
import type { RunRecord } from '../perf/types.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 5, 1)

const run = (target: string, at: number, totalMs: number, extra: Partial<RunRecord> = {}): RunRecord => ({
  target,
  type: 'latency',
  at,
  ok: true,
  totalMs,
  ttftMs: totalMs / 4,
  outputTokens: 20,
  ...extra,
})

function memStore(clock: { t: number }, ttlDays = 30): PerformanceStore {
  return PerformanceStore.open({ now: () => clock.t, ttlDays, warn: () => {} })
}

describe('PerformanceStore', () => {
  it('aggregates per target with avg, p95, p99, success and error rate', () => {
    const clock = { t: T0 }
    const s = memStore(clock)
    s.recordRuns([100, 200, 300, 400].map((ms, i) => run('a,m1', T0 - i * 1000, ms)))
    s.recordRuns([run('b,m2', T0, 50), run('b,m2', T0, 9999, { ok: false, error: 'boom', status: 500 })])
    const ms = s.metrics()
    assert.deepEqual(ms.map((m) => m.target), ['a,m1', 'b,m2'])
    const a = s.metricsFor('a,m1')!
    assert.equal(a.avgLatencyMs, 250)
    assert.equal(a.p99LatencyMs, 400)
    assert.equal(a.testCount, 4)
    assert.equal(a.lastTested, T0)
    const b = s.metricsFor('b,m2')!
    assert.equal(b.errorRate, 0.5)
    assert.equal(b.avgLatencyMs, 50, 'failed runs do not count towards latency')
  })
  it('history is newest first and honours since and limit', () => {
    const clock = { t: T0 }
    const s = memStore(clock)
    s.recordRuns([1, 2, 3, 4, 5].map((i) => run('a,m', T0 - i * 1000, i)))
    const h = s.history('a,m', { limit: 2 })
    assert.deepEqual(h.map((r) => r.totalMs), [1, 2])
    assert.deepEqual(s.history('a,m', { since: T0 - 3000 }).map((r) => r.totalMs), [1, 2, 3])
    assert.equal(h[0]?.ttftMs, 0.25, 'optional fields survive the round trip through SQL')
    assert.equal(h[0]?.status, undefined)
  })
  it('prunes history older than the TTL on write', () => {
    const clock = { t: T0 }
    const s = memStore(clock, 30)
    s.recordRuns([run('a,m', T0 - 40 * DAY, 1), run('a,m', T0 - 10 * DAY, 2)])
    assert.deepEqual(s.history('a,m').map((r) => r.totalMs), [2])
    clock.t = T0 + 25 * DAY
    s.recordRuns([run('a,m', clock.t, 3)])
    assert.deepEqual(s.history('a,m').map((r) => r.totalMs), [3])
  })
  it('tokensSince sums reported input and output tokens of recent runs', () => {
    const s = memStore({ t: T0 })
    s.recordRuns([
      run('a,m', T0 - 10, 1, { inputTokens: 30, outputTokens: 12 }),
      run('a,m', T0 - 5, 1, { outputTokens: 7 }),
      run('b,m', T0 - 100, 1),
    ])
    assert.equal(s.tokensSince(T0 - 50), 49)
    assert.equal(s.tokensSince(T0 + 1), 0)
  })
  it('clear forgets one target only', () => {
    const s = memStore({ t: T0 })
    s.recordRuns([run('a,m', T0, 1), run('b,m', T0, 2)])
    assert.equal(s.clear('a,m'), 1)
    assert.equal(s.metricsFor('a,m'), undefined)
    assert.ok(s.metricsFor('b,m'))
  })
  it('export then import into an empty store round-trips every run', () => {
    const s = memStore({ t: T0 })
    s.recordRuns([
      run('a,m', T0 - 5, 10, { status: 200, inputTokens: 7, tokensPerSec: 33.5 }),
      run('b,x', T0, 20, { ok: false, error: 'timeout', type: 'throughput' }),
    ])
    const dump = JSON.parse(JSON.stringify(s.exportJson()))
    const t = memStore({ t: T0 })
    t.recordRuns([run('stale,m', T0, 1)])
    const res = t.importJson(dump)
    assert.deepEqual(res, { ok: true, value: { runs: 2 } })
    assert.deepEqual(t.exportJson().runs, s.exportJson().runs)
    assert.deepEqual(t.metrics(), s.metrics())
  })
  it('import rejects malformed data and keeps existing history', () => {
    const s = memStore({ t: T0 })
    s.recordRuns([run('a,m', T0, 1)])
    const res = s.importJson({ format: 'switchyard-performance', version: 1, exportedAt: 0, runs: [{ target: 'x' }] })
    assert.equal(res.ok, false)
    if (!res.ok) assert.match(res.error, /runs\.0/)
    assert.equal(s.history('a,m').length, 1)
  })
})

describe('PerformanceStore on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perf-store-'))
  it('creates a missing file and keeps data across reopen', () => {
    const path = join(dir, 'fresh.db')
    const a = PerformanceStore.open({ path, now: () => T0 })
    a.recordRuns([run('a,m', T0, 5)])
    a.close()
    const b = PerformanceStore.open({ path, now: () => T0 })
    assert.equal(b.history('a,m').length, 1)
    b.close()
  })
  it('survives a file truncated mid-write: recreated empty with a warning, old file kept aside', () => {
    const path = join(dir, 'trunc.db')
    const a = PerformanceStore.open({ path, now: () => T0 })
    a.recordRuns(Array.from({ length: 2000 }, (_, i) => run(`p,m${i % 7}`, T0 - i, i, { error: 'x'.repeat(50) })))
    a.close()
    truncateSync(path, Math.floor(statSync(path).size / 2))
    const warnings: string[] = []
    const b = PerformanceStore.open({ path, now: () => T0, warn: (m) => warnings.push(m) })
    b.recordRuns([run('a,m', T0, 1)])
    assert.equal(b.metricsFor('a,m')?.testCount, 1)
    b.close()
    assert.equal(warnings.length, 1)
    assert.match(warnings[0] ?? '', /moved it to/)
    assert.ok(readdirSync(dir).some((f) => f.startsWith('trunc.db.corrupt-')))
  })
  it('survives a file that is not a database at all', () => {
    const path = join(dir, 'garbage.db')
    writeFileSync(path, 'this is not sqlite'.repeat(100))
    const warnings: string[] = []
    const s = PerformanceStore.open({ path, now: () => T0, warn: (m) => warnings.push(m) })
    assert.deepEqual(s.metrics(), [])
    s.close()
    assert.equal(warnings.length, 1)
    assert.notEqual(readFileSync(path, 'utf8').slice(0, 15), 'this is not sql')
  })
  it('shares the proxy store without closing it', () => {
    const shared = openStore(':memory:')
    const s = PerformanceStore.open({ store: shared, now: () => T0 })
    s.recordRuns([run('a,m', T0, 3)])
    s.close()
    assert.equal(shared.db.isOpen, true)
    assert.equal(
      PerformanceStore.open({ store: shared, now: () => T0 }).history('a,m').length,
      1,
      'migration runs once, data kept',
    )
    shared.close()
  })
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }))
})
