import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { AGGREGATE_WINDOW, aggregateRuns, splitTarget } from './aggregate.ts'
import type { RunRecord, TestType } from './types.ts'

const run = (type: TestType, at: number, ok: boolean, totalMs: number, extra: Partial<RunRecord> = {}): RunRecord => ({
  target: 'p,m',
  type,
  at,
  ok,
  totalMs,
  outputTokens: 10,
  ...extra,
})

describe('aggregateRuns', () => {
  it('takes latency from latency runs and tokens/s from throughput runs', () => {
    const m = aggregateRuns('p,m', [
      run('latency', 3, true, 100, { ttftMs: 40 }),
      run('latency', 2, true, 300, { ttftMs: 60 }),
      run('throughput', 1, true, 5000, { tokensPerSec: 80 }),
      run('concurrent', 1, false, 9000),
    ])
    assert.ok(m)
    assert.equal(m.avgLatencyMs, 200)
    assert.equal(m.p99LatencyMs, 300)
    assert.equal(m.avgTtftMs, 50)
    assert.equal(m.tokensPerSec, 80)
    assert.equal(m.successRate, 0.75)
    assert.equal(m.errorRate, 0.25)
    assert.equal(m.lastTested, 3)
    assert.equal(m.testCount, 4)
    assert.equal(m.provider, 'p')
  })
  it('falls back to other successful runs when the preferred type is missing', () => {
    const m = aggregateRuns('p,m', [run('throughput', 1, true, 700, { tokensPerSec: 10 })])
    assert.equal(m?.avgLatencyMs, 700)
  })
  it('law: success rate + error rate = 1, both in [0,1]; only the newest window counts', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: AGGREGATE_WINDOW + 50 }), (oks) => {
      const m = aggregateRuns('p,m', oks.map((ok, i) => run('latency', oks.length - i, ok, 10)))!
      assert.ok(Math.abs(m.successRate + m.errorRate - 1) < 1e-12)
      assert.equal(m.testCount, Math.min(oks.length, AGGREGATE_WINDOW))
      const window = oks.slice(0, AGGREGATE_WINDOW)
      assert.equal(m.successRate, window.filter(Boolean).length / window.length)
    }))
  })
  it('is undefined without runs', () => assert.equal(aggregateRuns('p,m', []), undefined))
})

describe('splitTarget', () => {
  it('splits at the first comma only', () => {
    assert.deepEqual(splitTarget('openrouter,anthropic/claude,x'), {
      provider: 'openrouter',
      model: 'anthropic/claude,x',
    })
    assert.deepEqual(splitTarget('bare'), { provider: '', model: 'bare' })
  })
})
