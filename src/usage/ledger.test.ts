import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { UsageLedger } from './ledger.ts'
import type { PairTotals } from './ledger.ts'

const u = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheCreationTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheCreationTokens,
})

describe('UsageLedger', () => {
  it('bills a failed-over request to the target that answered, not to the failed attempt', () => {
    const l = new UsageLedger()
    l.recordFailure('tier-0', 'a,m1', 'upstream_status')
    l.recordFailure('tier-0', 'a,m1', 'timeout')
    l.record({ tier: 'tier-0', target: 'b,m2', usage: u(100, 20, 5, 1), costUsd: 0.5 })
    const s = l.snapshot()
    assert.equal(s.targets['a,m1']?.requests, 0)
    assert.equal(s.targets['a,m1']?.inputTokens, 0)
    assert.equal(s.targets['a,m1']?.costUsd, 0)
    assert.deepEqual(s.targets['a,m1']?.failures, { upstream_status: 1, timeout: 1 })
    assert.deepEqual(
      [
        s.targets['b,m2']?.requests,
        s.targets['b,m2']?.inputTokens,
        s.targets['b,m2']?.cacheReadTokens,
        s.targets['b,m2']?.costUsd,
      ],
      [1, 100, 5, 0.5],
    )
    assert.equal(s.tiers['tier-0']?.requests, 1)
    assert.deepEqual(s.tiers['tier-0']?.failures, { upstream_status: 1, timeout: 1 })
  })

  it('counts unknown-cost requests apart and keeps their cost out of the sum', () => {
    const l = new UsageLedger()
    l.record({ tier: 't', target: 'p,m', usage: u(10, 10), costUsd: undefined })
    l.record({ tier: 't', target: 'p,m', usage: u(10, 10), costUsd: 0.25 })
    const t = l.snapshot().total
    assert.deepEqual([t.requests, t.unknownCostRequests, t.costUsd, t.outputTokens], [2, 1, 0.25, 20])
  })

  it('emits every change as a delta and does not echo seeded totals', () => {
    const deltas: PairTotals[] = []
    const l = new UsageLedger((d) => deltas.push(d))
    l.seed([{
      tier: 't',
      target: 'p,m',
      requests: 7,
      inputTokens: 70,
      outputTokens: 7,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      costUsd: 1,
      unknownCostRequests: 0,
      failures: { timeout: 2 },
    }])
    l.record({ tier: 't', target: 'p,m', usage: u(1, 1), costUsd: 0.1 })
    l.recordFailure('t', 'p,m', 'timeout')
    assert.equal(deltas.length, 2)
    const s = l.snapshot().targets['p,m']
    assert.deepEqual([s?.requests, s?.inputTokens, s?.failures['timeout']], [8, 71, 3])
  })

  it('reseed replaces the totals with the persisted ones, without echoing them', () => {
    const deltas: PairTotals[] = []
    const l = new UsageLedger((d) => deltas.push(d))
    l.record({ tier: 't', target: 'p,m', usage: u(1, 1), costUsd: 0.1 })
    l.record({ tier: 't', target: 'q,m', usage: u(1, 1), costUsd: 0.1 })
    const stored: PairTotals = {
      tier: 't',
      target: 'p,m',
      requests: 3,
      inputTokens: 30,
      outputTokens: 3,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      costUsd: 0.3,
      unknownCostRequests: 0,
      failures: {},
    }
    l.reseed([stored])
    const snap = l.snapshot()
    assert.deepEqual([snap.total.requests, snap.targets['p,m']?.inputTokens, snap.targets['q,m']], [3, 30, undefined])
    assert.equal(deltas.length, 2, 'only the two bookings were handed on')
  })

  it('law: tier, target and overall views sum to the same totals', () => {
    const rec = fc.record({
      tier: fc.constantFrom('tier-0', 'tier-1', 'tier-2'),
      target: fc.constantFrom('a,x', 'b,y', 'c,z'),
      input: fc.nat(1e6),
      output: fc.nat(1e5),
      cost: fc.option(fc.double({ min: 0, max: 10, noNaN: true })),
      fail: fc.boolean(),
    })
    fc.assert(fc.property(fc.array(rec, { maxLength: 40 }), (recs) => {
      const l = new UsageLedger()
      for (const r of recs) {
        if (r.fail) l.recordFailure(r.tier, r.target, 'timeout')
        else l.record({ tier: r.tier, target: r.target, usage: u(r.input, r.output), costUsd: r.cost ?? undefined })
      }
      const s = l.snapshot()
      const sum = (
        o: Record<string, { inputTokens: number; requests: number }>,
        k: 'inputTokens' | 'requests',
      ): number => Object.values(o).reduce((acc, t) => acc + t[k], 0)
      assert.equal(s.total.requests, recs.filter((r) => !r.fail).length)
      assert.equal(sum(s.tiers, 'inputTokens'), s.total.inputTokens)
      assert.equal(sum(s.targets, 'inputTokens'), s.total.inputTokens)
      assert.equal(sum(s.targets, 'requests'), s.total.requests)
    }))
  })
})
