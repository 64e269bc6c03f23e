import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { demoConfig } from '../config/demo.ts'
import { RoutingStats } from '../routing/target-stats.ts'
import { passiveFromSnapshot } from './passive.ts'
import { performanceScore } from './score.ts'

const stats = () =>
  new RoutingStats({ ewmaAlpha: 0.3, failurePenalty: 2, breaker: demoConfig('http://127.0.0.1:9').router.breaker })
const opts = { weights: { latency: 0.4, throughput: 0.4, reliability: 0.2 }, thresholds: {}, minTestCount: 3 }

describe('passiveFromSnapshot', () => {
  it('an unknown target gives a sample the score treats as no data', () => {
    const p = passiveFromSnapshot(stats().snapshot('p,m', 0))
    assert.equal(p.samples, 0)
    assert.equal(performanceScore({ passive: p }, 0, opts), undefined)
  })
  it('carries TTFT, success rate and recency of live traffic into the score', () => {
    const s = stats()
    for (let i = 0; i < 4; i++) {
      const t0 = i * 1000
      const a = s.begin('p,m', t0)
      a.firstToken(t0 + 120)
      if (i === 3) a.fail(t0 + 500, 'server_error')
      else a.succeed(t0 + 620, { outputTokens: 51 })
    }
    const p = passiveFromSnapshot(s.snapshot('p,m', 4000))
    assert.ok(p.samples >= 3)
    assert.ok(p.ewmaTtftMs !== undefined && p.ewmaTtftMs >= 100 && p.ewmaTtftMs <= 130, `ttft ${p.ewmaTtftMs}`)
    assert.equal(p.successRate, 0.75)
    assert.equal(p.lastAt, 3500)
    const score = performanceScore({ passive: p }, 4000, opts)!
    assert.equal(score.metrics.successRate, 0.75)
    assert.ok(score.metrics.passiveWeight > 0)
  })
})
