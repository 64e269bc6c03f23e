import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMockUpstream, estimateInputTokens } from '../demo/upstream.ts'
import type { PerformanceConfig } from '../config/types.ts'
import { PerformanceStore } from '../store/performance.ts'
import { PerfEngine } from './engine.ts'
import { createFetchSender } from './fetch-sender.ts'
import { PROMPTS, probeBody } from './prompts.ts'
import { performanceScore } from './score.ts'

// Real (small) delays from the mock; assertions only check "profile ± generous tolerance".
const now = (): number => performance.now()
const PROFILES: Record<string, string> = {
  'mock,fast': 'fast:chunks=20:delay=5:ttft=20',
  'mock,slow': 'slow:chunks=20:delay=15:ttft=150',
}
const mock = createMockUpstream()
const sender = createFetchSender({ fetch: (r) => mock.fetch(r), url: 'http://127.0.0.1:1/v1/messages', now, modelOf: (t) => PROFILES[t] ?? t })
const send = (target: string, stream = true, signal = new AbortController().signal) =>
  sender({ target, body: probeBody(PROMPTS.short, { model: target, stream, cap: 64 }), signal })

describe('createFetchSender against the mock upstream', () => {
  it('measures TTFT, total time, tokens and usage of a stream within the profile', async () => {
    const o = await send('mock,slow')
    assert.equal(o.ok, true, o.error)
    assert.equal(o.outputTokens, 20)
    assert.equal(o.inputTokens, estimateInputTokens(probeBody(PROMPTS.short, { model: 'x', stream: true, cap: 64 })))
    assert.ok(o.ttftMs! >= 145 && o.ttftMs! < 150 + 400, `ttft ${o.ttftMs}`)
    assert.ok(o.totalMs >= 150 + 19 * 15 - 5 && o.totalMs < 150 + 19 * 15 + 800, `total ${o.totalMs}`)
  })
  it('reads usage from a JSON answer', async () => {
    const o = await send('mock,fast', false)
    assert.equal(o.ok, true, o.error)
    assert.equal(o.outputTokens, 20)
    assert.equal(o.ttftMs, undefined)
  })
  it('turns an upstream error status, a cut stream and an abort into failed outcomes', async () => {
    const s = await sender({ target: 'm:status=503', body: probeBody(PROMPTS.minimal, { model: 'x', stream: true, cap: 8 }), signal: new AbortController().signal })
    assert.equal(s.ok, false)
    assert.equal(s.status, 503)
    const cut = await sender({ target: 'm:cut=3', body: probeBody(PROMPTS.minimal, { model: 'x', stream: true, cap: 8 }), signal: new AbortController().signal })
    assert.equal(cut.ok, false)
    assert.match(cut.error ?? '', /message_stop/)
    const ctl = new AbortController()
    const pending = sender({ target: 'm:hang', body: probeBody(PROMPTS.minimal, { model: 'x', stream: true, cap: 8 }), signal: ctl.signal })
    setTimeout(() => ctl.abort(), 20)
    const hung = await pending
    assert.equal(hung.ok, false)
  })
})

describe('PerfEngine through the mock upstream', () => {
  it('measured figures follow the profiles and the latency threshold demotes the slow target', async () => {
    const cfg: PerformanceConfig = {
      enabled: false, testIntervalMinutes: 60, testTimeoutSeconds: 10, maxConcurrentTests: 2, minTestCount: 3,
      thresholds: { maxLatencyMs: 100 }, weights: { latency: 0.4, throughput: 0.4, reliability: 0.2 }, models: [],
      dailyTokenBudget: 100_000, maxTokensPerTest: 64, historyTtlDays: 30,
    }
    const store = PerformanceStore.open({ now: Date.now, warn: () => {} })
    const engine = new PerfEngine({ config: cfg, targets: Object.keys(PROFILES), sender, store, now: Date.now })
    const job = await engine.waitJob(engine.startJob({ types: ['latency', 'throughput'] }))
    assert.equal(job?.status, 'done')
    const fast = store.metricsFor('mock,fast')!
    const slow = store.metricsFor('mock,slow')!
    assert.ok(fast.avgTtftMs! >= 18 && fast.avgTtftMs! < 20 + 300, `fast ttft ${fast.avgTtftMs}`)
    assert.ok(slow.avgTtftMs! >= 145 && slow.avgTtftMs! < 150 + 400, `slow ttft ${slow.avgTtftMs}`)
    // 19 tokens after the first at 5 ms and 15 ms apart: at most 200 and 66.7 tokens/s.
    assert.ok(fast.tokensPerSec! <= 205 && fast.tokensPerSec! > 40, `fast tokens/s ${fast.tokensPerSec}`)
    assert.ok(slow.tokensPerSec! <= 68 && slow.tokensPerSec! > 15, `slow tokens/s ${slow.tokensPerSec}`)
    const opts = { weights: cfg.weights, thresholds: cfg.thresholds, minTestCount: cfg.minTestCount }
    const sf = performanceScore({ active: fast }, Date.now(), opts)!
    const ss = performanceScore({ active: slow }, Date.now(), opts)!
    assert.equal(ss.demoted, true)
    assert.equal(sf.demoted, false)
    assert.ok(sf.performance_score > ss.performance_score)
  })
  it('concurrent test: N parallel requests per round, each within the profile', async () => {
    const cfg: PerformanceConfig = {
      enabled: false, testIntervalMinutes: 60, testTimeoutSeconds: 10, maxConcurrentTests: 1, minTestCount: 2,
      thresholds: {}, weights: { latency: 0.4, throughput: 0.4, reliability: 0.2 }, models: [],
      dailyTokenBudget: 100_000, maxTokensPerTest: 64, historyTtlDays: 30,
    }
    const before = mock.attempts().length
    const engine = new PerfEngine({ config: cfg, targets: ['mock,fast'], sender, now: Date.now, concurrency: 3 })
    const job = await engine.waitJob(engine.startJob({ types: ['concurrent'] }))
    const r = job!.results[0]!
    assert.equal(r.runs.length, 6)
    assert.equal(mock.attempts().length - before, 6)
    assert.equal(r.successRate, 1)
    assert.ok(r.ttftMs!.p50 >= 18 && r.ttftMs!.p99 < 20 + 400, `ttft ${JSON.stringify(r.ttftMs)}`)
  })
})
