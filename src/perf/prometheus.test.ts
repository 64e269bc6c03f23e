import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { TargetMetrics } from './aggregate.ts'
import type { EngineHealth } from './engine.ts'
import { escapeLabel, renderPerformanceMetrics } from './prometheus.ts'

// Types come from src/metrics/parse-prometheus-text-format.d.ts.
const parse = parsePrometheusTextFormat

const health: EngineHealth = {
  state: 'idle',
  enabled: true,
  runningJobs: 0,
  inFlightRequests: 0,
  nextRunAt: 1_700_000_000_000,
  budget: { day: '2026-01-01', limit: 1000, used: 250, reserved: 0, remaining: 750 },
}
const m: TargetMetrics = {
  target: 'open"router,vendor/model\\x',
  provider: 'open"router',
  model: 'vendor/model\\x',
  avgLatencyMs: 120,
  p95LatencyMs: 200,
  p99LatencyMs: 250,
  avgTtftMs: 40,
  tokensPerSec: 88.5,
  successRate: 0.9,
  errorRate: 0.1,
  lastTested: 1_700_000_000_000,
  testCount: 12,
}

describe('renderPerformanceMetrics', () => {
  it('renders parseable exposition text with per-target and engine families', () => {
    const fams = parse(renderPerformanceMetrics([m], health, { [m.target]: 0.7 }))
    const by = (n: string) => fams.find((f) => f.name === n)
    const lat = by('switchyard_perf_latency_ms')!
    assert.equal(lat.type, 'GAUGE')
    assert.deepEqual(lat.metrics.map((x) => [x.labels?.stat, Number(x.value)]), [['avg', 120], ['p95', 200], [
      'p99',
      250,
    ]])
    assert.equal(lat.metrics[0]?.labels?.target, m.target, 'quotes and backslashes survive escaping')
    assert.equal(Number(by('switchyard_perf_tokens_per_second')!.metrics[0]?.value), 88.5)
    assert.equal(Number(by('switchyard_perf_score')!.metrics[0]?.value), 0.7)
    assert.equal(Number(by('switchyard_perf_budget_remaining_tokens')!.metrics[0]?.value), 750)
    assert.equal(Number(by('switchyard_perf_next_run_seconds')!.metrics[0]?.value), 1_700_000_000)
  })
  it('omits families with no value rather than printing NaN', () => {
    const text = renderPerformanceMetrics([{ ...m, avgTtftMs: undefined, tokensPerSec: undefined }], {
      ...health,
      nextRunAt: undefined,
    })
    assert.doesNotMatch(text, /NaN|undefined/)
    assert.doesNotMatch(text, /switchyard_perf_ttft_ms|switchyard_perf_next_run_seconds|switchyard_perf_score/)
  })
  it('escapes label values', () => assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd'))
})
