import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import parse from 'parse-prometheus-text-format'
import { CIRCUIT_STATE, createSwitchyardMetrics } from './prometheus.ts'

const REQUIRED: Record<string, string> = {
  ccr_requests_total: 'COUNTER',
  ccr_request_duration_seconds: 'HISTOGRAM',
  ccr_failures_total: 'COUNTER',
  ccr_active_streams: 'GAUGE',
  ccr_peak_active_streams: 'GAUGE',
  ccr_input_tokens_total: 'COUNTER',
  ccr_output_tokens_total: 'COUNTER',
  ccr_cache_read_tokens_total: 'COUNTER',
  ccr_cache_creation_tokens_total: 'COUNTER',
  ccr_tier_ewma_latency_seconds: 'GAUGE',
  ccr_ttft_seconds: 'HISTOGRAM',
  ccr_output_tokens_per_second: 'GAUGE',
  ccr_pre_request_tokens_total: 'COUNTER',
  ccr_token_drift_pct: 'GAUGE',
  ccr_token_drift_alerts_total: 'COUNTER',
  ccr_stream_backpressure_total: 'COUNTER',
  ccr_rate_limit_hits_total: 'COUNTER',
  ccr_retries_total: 'COUNTER',
  ccr_circuit_state: 'GAUGE',
  ccr_cost_usd_total: 'COUNTER',
  ccr_rejected_streams_total: 'COUNTER',
  switchyard_build_info: 'GAUGE',
}

describe('createSwitchyardMetrics', () => {
  it('exposes every ccr-rust name with its type, parseable after real traffic', () => {
    const m = createSwitchyardMetrics({ version: '1.2.3', runtime: 'bun' })
    const t = m.tier('tier-0')
    t.requests.inc()
    t.duration.observe(0.3)
    t.ttft.observe(0.12)
    t.inputTokens.inc(1200)
    t.costUsd.inc(0.004)
    m.failures.labels('tier-1', 'timeout').inc()
    m.driftAlerts.labels('tier-0', 'warning').inc()
    m.circuitState.labels('deepseek,deepseek-chat').set(CIRCUIT_STATE.open)
    const families = parse(m.render())
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]))
    for (const [name, type] of Object.entries(REQUIRED)) assert.equal(types[name], type, name)
    const get = (name: string) => families.find((f) => f.name === name)?.metrics ?? []
    assert.deepEqual(get('ccr_requests_total').map((s) => [s.labels?.['tier'], s.value]), [['tier-0', '1']])
    assert.deepEqual(get('ccr_failures_total')[0]?.labels, { tier: 'tier-1', reason: 'timeout' })
    assert.equal(get('ccr_circuit_state')[0]?.value, '2')
    assert.deepEqual(get('switchyard_build_info')[0]?.labels, { version: '1.2.3', runtime: 'bun' })
    assert.equal(get('ccr_ttft_seconds')[0]?.buckets?.['0.25'], '1')
  })

  it('hands out the same tier handles every time (no per-request allocation)', () => {
    const m = createSwitchyardMetrics()
    assert.equal(m.tier('tier-0'), m.tier('tier-0'))
    assert.equal(m.tier('tier-0').requests, m.requests.labels('tier-0'))
  })

  it('tracks active and peak streams', () => {
    const m = createSwitchyardMetrics()
    m.streamOpened()
    m.streamOpened()
    m.streamOpened()
    m.streamClosed()
    m.streamClosed()
    m.streamOpened()
    const get = (name: string) => parse(m.render()).find((f) => f.name === name)?.metrics[0]?.value
    assert.equal(get('ccr_active_streams'), '2')
    assert.equal(get('ccr_peak_active_streams'), '3')
  })

  it('caps tier cardinality: unknown tiers past the cap share the other series', () => {
    const m = createSwitchyardMetrics({ maxLabelValues: 3 })
    for (let i = 0; i < 50; i++) m.tier(`t${i}`).requests.inc()
    const series = parse(m.render()).find((f) => f.name === 'ccr_requests_total')?.metrics ?? []
    assert.equal(series.length, 4)
    assert.equal(series.find((s) => s.labels?.['tier'] === 'other')?.value, '47')
  })
})
