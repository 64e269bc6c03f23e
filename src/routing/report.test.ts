import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { latencyReport } from './report.ts'
import { RoutingStats } from './target-stats.ts'
import { routerConfig } from '../../test/arbitraries/routing.ts'

describe('latencyReport', () => {
  const cfg = routerConfig({ thresholds: { minSuccessRate: 0.5 } })

  it('reports every measured target, ranked by score with demoted ones last', () => {
    const st = new RoutingStats(cfg)
    for (let i = 0; i < 3; i++) {
      st.begin('fast,m', i * 1_000).succeed(i * 1_000 + 100)
      st.begin('slow,m', i * 1_000).succeed(i * 1_000 + 900)
      st.begin('bad,m', i * 1_000).fail(i * 1_000 + 10, 'server_error')
    }
    const open = st.begin('slow,m', 5_000)
    const rows = latencyReport(st.all(5_000), cfg, { now: 5_000 })
    assert.deepEqual(rows.map((r) => [r.target, r.rank]), [['fast,m', 1], ['slow,m', 2], ['bad,m', 3]])
    assert.equal(rows[0]?.latencyMs, 100)
    assert.equal(rows[1]?.inFlight, 1)
    assert.equal(rows[2]?.demoted, true)
    assert.equal(rows[2]?.errorRate, 1)
    assert.equal(rows[2]?.samples, 3)
    assert.equal(rows[2]?.breaker, 'closed')
    open.abandon(5_100)
  })

  it('shows an open breaker and when it lets requests through again', () => {
    const st = new RoutingStats(cfg)
    for (let i = 0; i < cfg.breaker.consecutiveFailures; i++) st.begin('p,m', 0).fail(10, 'timeout')
    const [row] = latencyReport(st.all(100), cfg, { now: 100 })
    assert.equal(row?.breaker, 'open')
    assert.equal(row?.breakerRetryInMs, cfg.breaker.cooldownMs + 10 - 100)
    assert.equal(latencyReport(st.all(10_000), cfg, { now: 10_000 })[0]?.breaker, 'half_open')
  })
})
