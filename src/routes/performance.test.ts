import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { PerformanceConfig } from '../config/types.ts'
import { PerfEngine } from '../perf/engine.ts'
import { createFakeSender } from '../../test/doubles/fake-sender.ts'
import { FakeScheduler } from '../../test/doubles/fake-scheduler.ts'
import { PerformanceStore } from '../store/performance.ts'
import { performanceRoutes } from './performance.ts'

const T0 = Date.UTC(2026, 5, 1, 12)
const config: PerformanceConfig = {
  enabled: true,
  testIntervalMinutes: 60,
  testTimeoutSeconds: 5,
  maxConcurrentTests: 2,
  minTestCount: 2,
  thresholds: { maxLatencyMs: 500 },
  weights: { latency: 0.4, throughput: 0.4, reliability: 0.2 },
  models: [],
  dailyTokenBudget: 100_000,
  maxTokensPerTest: 32,
  historyTtlDays: 30,
}

function setup() {
  const sched = new FakeScheduler(T0)
  const fake = createFakeSender({
    'p,fast': { ttftMs: 50, perTokenMs: 5 },
    'p,slow/x': { ttftMs: 2000, perTokenMs: 40 },
  })
  const store = PerformanceStore.open({ now: sched.now, warn: () => {} })
  const engine = new PerfEngine({
    config,
    targets: ['p,fast', 'p,slow/x'],
    sender: fake.send,
    store,
    now: sched.now,
    scheduler: sched,
  })
  const app = performanceRoutes({ engine, store, config, now: sched.now })
  return { sched, store, engine, app }
}
const post = (body: unknown) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
})
type Json = Record<string, unknown> & { error?: { type: string; message: string } }

describe('performance routes', () => {
  it('POST /performance/test returns 202 with a job id; GET /performance/test/{id} shows results', async () => {
    const { app, engine } = setup()
    const res = await app.request('/performance/test', post({ models: ['p,fast'], types: ['latency', 'health'] }))
    assert.equal(res.status, 202)
    const job = await res.json() as Json
    assert.match(String(job.id), /^perf_/)
    assert.equal(res.headers.get('location'), `/performance/test/${job.id}`)
    assert.deepEqual(job.types, ['health', 'latency'])
    await engine.waitJob(String(job.id))
    const done = await (await app.request(`/performance/test/${job.id}`)).json() as Json & {
      results: Json[]
      progress: Json
    }
    assert.equal(done.status, 'done')
    assert.deepEqual(done.progress, { done: 2, total: 2 })
    const latency = done.results.find((r) => r.type === 'latency') as Json & { ttft_ms: Json }
    assert.equal(latency.ttft_ms.p50, 50)
    assert.equal(latency.runs, 2)
  })
  it('POST /performance/test with no body tests every target with every type', async () => {
    const { app, engine } = setup()
    const res = await app.request('/performance/test', { method: 'POST' })
    assert.equal(res.status, 202)
    const job = await res.json() as Json
    assert.deepEqual(job.models, ['p,fast', 'p,slow/x'])
    assert.deepEqual(job.types, ['health', 'latency', 'throughput', 'concurrent'])
    await engine.waitJob(String(job.id))
  })
  it('rejects unknown models and types with an Anthropic-style 400', async () => {
    const { app } = setup()
    const a = await app.request('/performance/test', post({ models: ['nope,m'] }))
    assert.equal(a.status, 400)
    const body = await a.json() as Json
    assert.equal(body.type, 'error')
    assert.equal(body.error?.type, 'invalid_request_error')
    assert.match(body.error?.message ?? '', /unknown model "nope,m"/)
    const b = await app.request('/performance/test', post({ types: ['speed'] }))
    assert.equal(b.status, 400)
    assert.equal((await b.json() as Json).type, 'error')
    assert.equal((await app.request('/performance/test/perf_none')).status, 404)
  })
  it('GET /performance/metrics carries the score and demotes a target over the latency threshold', async () => {
    const { app, engine } = setup()
    await engine.waitJob(engine.startJob())
    const { data } = await (await app.request('/performance/metrics')).json() as { data: Json[] }
    const fast = data.find((m) => m.target === 'p,fast')!
    const slow = data.find((m) => m.target === 'p,slow/x')!
    assert.equal(slow.provider, 'p')
    assert.equal(slow.model, 'slow/x')
    assert.equal(slow.demoted, true)
    assert.equal(fast.demoted, false)
    assert.ok((fast.performance_score as number) > (slow.performance_score as number))
    assert.equal(fast.last_tested, new Date(T0).toISOString())
  })
  it('history takes an URL-encoded provider,model with since and limit; DELETE clears it', async () => {
    const { app, store } = setup()
    store.recordRuns(
      [1, 2, 3].map((i) => ({
        target: 'p,slow/x',
        type: 'latency' as const,
        at: T0 - i * 60_000,
        ok: true,
        totalMs: i,
        outputTokens: 1,
      })),
    )
    const enc = encodeURIComponent('p,slow/x')
    const h = await (await app.request(`/performance/history/${enc}?limit=2`)).json() as {
      target: string
      runs: Json[]
    }
    assert.equal(h.target, 'p,slow/x')
    assert.deepEqual(h.runs.map((r) => r.total_ms), [1, 2])
    const since = new Date(T0 - 90_000).toISOString()
    const s = await (await app.request(`/performance/history/${enc}?since=${encodeURIComponent(since)}`)).json() as {
      runs: Json[]
    }
    assert.equal(s.runs.length, 1)
    const e = await (await app.request(`/performance/history/${enc}?since=${T0 - 150_000}`)).json() as { runs: Json[] }
    assert.equal(e.runs.length, 2, 'since also takes epoch milliseconds')
    assert.equal((await app.request(`/performance/history/${enc}?since=yesterday`)).status, 400)
    const del = await app.request(`/performance/metrics/${enc}`, { method: 'DELETE' })
    assert.deepEqual(await del.json(), { target: 'p,slow/x', deleted_runs: 3 })
    assert.equal((await app.request(`/performance/metrics/${enc}`, { method: 'DELETE' })).status, 404)
  })
  it('GET /health/performance shows state, next run and budget', async () => {
    const { app, engine } = setup()
    engine.start()
    const h = await (await app.request('/health/performance')).json() as Json & { budget: Json }
    assert.equal(h.state, 'idle')
    assert.equal(h.next_run, new Date(T0 + 3_600_000).toISOString())
    assert.equal(h.last_run, null)
    assert.equal(h.budget.remaining, 100_000)
    engine.stop()
  })
  it('GET /metrics/performance serves Prometheus text', async () => {
    const { app, engine } = setup()
    await engine.waitJob(engine.startJob({ types: ['latency'] }))
    const res = await app.request('/metrics/performance')
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await res.text()
    assert.match(text, /^switchyard_perf_ttft_ms\{target="p,fast",provider="p",model="fast"\} 50$/m)
    assert.match(text, /^switchyard_perf_score\{target="p,fast"/m)
  })
  it('export then import through the API round-trips; a bad backup is a 400', async () => {
    const a = setup()
    await a.engine.waitJob(a.engine.startJob({ types: ['health'] }))
    const dump = await (await a.app.request('/performance/export')).json() as { runs: unknown[] }
    assert.equal(dump.runs.length, 4)
    const b = setup()
    const imp = await b.app.request('/performance/import', post(dump))
    assert.deepEqual(await imp.json(), { imported_runs: 4, mode: 'replace' })
    assert.deepEqual(b.store.exportJson().runs, a.store.exportJson().runs)
    const bad = await b.app.request('/performance/import', post({ runs: 'nope' }))
    assert.equal(bad.status, 400)
    assert.equal((await bad.json() as Json).error?.type, 'invalid_request_error')
  })
  it('documents every route in the OpenAPI document', () => {
    const { app } = setup()
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } })
    const paths = Object.keys(doc.paths ?? {}).sort()
    assert.deepEqual(paths, [
      '/health/performance',
      '/metrics/performance',
      '/performance/export',
      '/performance/history/{model}',
      '/performance/import',
      '/performance/metrics',
      '/performance/metrics/{model}',
      '/performance/test',
      '/performance/test/{id}',
    ])
  })
})
