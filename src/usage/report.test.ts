import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { UsageLedger } from './ledger.ts'
import { usageReport } from './report.ts'

const u = (i: number, o: number) => ({ inputTokens: i, outputTokens: o, cacheReadTokens: 0, cacheCreationTokens: 0 })

describe('usageReport', () => {
  it("carries ccr-rust's fields (totals, active streams, tiers as rows) and Switchyard's own", () => {
    const l = new UsageLedger()
    l.record({ tier: 'tier-0', target: 'a,m', usage: u(10, 5), costUsd: 0.5 })
    l.record({ tier: 'tier-0', target: 'a,m', usage: u(7, 0), costUsd: undefined, estimated: true })
    l.record({ tier: 'tier-1', target: 'b,n', usage: u(1, 1), costUsd: 0.25 })
    l.recordFailure('tier-0', 'a,m', 'timeout')
    l.recordFailure('tier-0', 'a,m', 'status_500')
    const r = usageReport(l.snapshot(), {
      activeStreams: 3,
      activeRequests: 4,
      durations: new Map([['tier-0', { sum: 3, count: 2 }]]),
    })
    assert.equal(r.total_requests, 3)
    assert.equal(r.total_failures, 2)
    assert.equal(r.total_input_tokens, 18)
    assert.equal(r.total_output_tokens, 6)
    assert.equal(r.total_cost_usd, 0.75)
    assert.equal(r.active_streams, 3)
    assert.equal(r.active_requests, 4)
    assert.deepEqual(
      r.tiers.map((t) => [t.tier, t.requests, t.failures, t.estimated_requests, t.avg_duration_seconds]),
      [['tier-0', 2, 2, 1, 1.5], ['tier-1', 1, 0, 0, 0]],
    )
    assert.deepEqual(r.tiers[0]?.failure_reasons, { timeout: 1, status_500: 1 })
    assert.equal(r.total.estimatedRequests, 1)
    assert.equal(r.by_tier['tier-1']?.requests, 1)
    assert.equal(r.targets['a,m']?.requests, 2)
  })
})
