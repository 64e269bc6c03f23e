import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { TargetMetrics } from './aggregate.ts'
import { ActiveResults } from './active.ts'

const metrics = (target: string, avgTtftMs: number): TargetMetrics => ({
  target,
  provider: target.split(',')[0]!,
  model: target.split(',')[1]!,
  avgTtftMs,
  successRate: 1,
  errorRate: 0,
  lastTested: 5,
  testCount: 3,
})

describe('ActiveResults', () => {
  it('serves the store aggregates from memory and only changes on refresh', () => {
    let rows = [metrics('a,x', 100)]
    let loads = 0
    const r = new ActiveResults(() => {
      loads++
      return rows
    })
    assert.equal(r.get('a,x')?.avgTtftMs, 100)
    rows = [metrics('a,x', 900), metrics('b,y', 50)]
    assert.equal(r.get('a,x')?.avgTtftMs, 100, 'no query per read')
    assert.equal(r.get('b,y'), undefined)
    r.refresh()
    assert.equal(r.get('a,x')?.avgTtftMs, 900)
    assert.equal(r.get('b,y')?.testCount, 3)
    assert.equal(loads, 2)
  })
})
