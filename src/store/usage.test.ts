import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageLedger } from '../usage/ledger.ts'
import { openStore } from './db.ts'
import { UsageStore } from './usage.ts'

const u = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 3,
  cacheCreationTokens: 1,
})

describe('UsageStore', () => {
  it('usage and cost survive a restart through the ledger seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-usage-'))
    try {
      const path = join(dir, 'u.db')
      const s1 = openStore(path)
      const store1 = new UsageStore(s1)
      const ledger1 = new UsageLedger((d) => store1.enqueue(d))
      ledger1.record({ tier: 'tier-0', target: 'a,m', usage: u(100, 10), costUsd: 0.5 })
      ledger1.record({ tier: 'tier-0', target: 'a,m', usage: u(50, 5), costUsd: undefined })
      ledger1.record({ tier: 'tier-0', target: 'a,m', usage: { ...u(5, 30), reasoningTokens: 20 }, costUsd: 0.1 })
      ledger1.recordFailure('tier-0', 'b,n', 'timeout')
      store1.stop()
      s1.close()

      const s2 = openStore(path)
      const ledger2 = new UsageLedger()
      ledger2.seed(new UsageStore(s2).loadTotals())
      s2.close()
      assert.deepEqual(ledger2.snapshot(), ledger1.snapshot())
      assert.equal(ledger2.snapshot().targets['a,m']?.unknownCostRequests, 1)
      assert.equal(ledger2.snapshot().targets['a,m']?.reasoningTokens, 20, 'reasoning tokens persist')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('merges deltas per pair and writes nothing until flushed', () => {
    const s = openStore(':memory:')
    const store = new UsageStore(s, { schedule: () => {} })
    for (let i = 0; i < 10; i++) {
      store.enqueue({
        tier: 't',
        target: 'p,m',
        requests: 1,
        inputTokens: 2,
        outputTokens: 3,
        cacheReadTokens: 0,
        cacheCreationTokens: 0,
        costUsd: 0.1,
        unknownCostRequests: 0,
        failures: { x: 1 },
      })
    }
    assert.equal(store.queued, 10)
    assert.deepEqual(store.loadTotals(), [])
    assert.equal(store.flush(), 1)
    assert.equal(store.queued, 0)
    const [row] = store.loadTotals()
    assert.deepEqual([row?.requests, row?.inputTokens, row?.failures['x']], [10, 20, 10])
    assert.ok(Math.abs((row?.costUsd ?? 0) - 1) < 1e-9)
    assert.equal(store.flush(), 0)
    s.close()
  })

  it('schedules a flush once a batch is full, not on every enqueue', () => {
    const s = openStore(':memory:')
    const scheduled: (() => void)[] = []
    const store = new UsageStore(s, { maxBatch: 3, schedule: (fn) => scheduled.push(fn) })
    const ledger = new UsageLedger((d) => store.enqueue(d))
    for (let i = 0; i < 5; i++) ledger.record({ tier: 't', target: `p,m${i % 2}`, usage: u(1, 1), costUsd: 0 })
    assert.equal(scheduled.length, 1)
    scheduled[0]?.()
    assert.equal(store.queued, 0)
    assert.equal(store.loadTotals().reduce((n, r) => n + r.requests, 0), 5)
    s.close()
  })
})
