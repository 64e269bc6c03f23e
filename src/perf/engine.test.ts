import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { PerformanceConfig } from '../config/types.ts'
import { PerformanceStore } from '../store/performance.ts'
import { PerfEngine } from './engine.ts'
import type { PerfEngineOptions } from './engine.ts'
import { createFakeSender } from '../../test/doubles/fake-sender.ts'
import type { FakeProfile } from '../../test/doubles/fake-sender.ts'
import { FakeScheduler } from '../../test/doubles/fake-scheduler.ts'
import { BUDGET_EXHAUSTED } from './gate.ts'

const T0 = Date.UTC(2026, 2, 3, 8)
const MIN = 60_000
const cfg = (over: Partial<PerformanceConfig> = {}): PerformanceConfig => ({
  enabled: false,
  testIntervalMinutes: 10,
  testTimeoutSeconds: 5,
  maxConcurrentTests: 2,
  minTestCount: 3,
  thresholds: {},
  weights: { latency: 0.4, throughput: 0.4, reliability: 0.2 },
  models: [],
  dailyTokenBudget: 1_000_000,
  maxTokensPerTest: 64,
  historyTtlDays: 30,
  ...over,
})
const profiles: Record<string, FakeProfile> = {
  'mock,fast': { ttftMs: 40, perTokenMs: 5 },
  'mock,slow': { ttftMs: 900, perTokenMs: 50 },
}

function setup(over: Partial<PerformanceConfig> = {}, extra: Partial<PerfEngineOptions> = {}, realDelayMs = 0) {
  const sched = new FakeScheduler(T0)
  const fake = createFakeSender(profiles, realDelayMs)
  const store = PerformanceStore.open({ now: sched.now, warn: () => {} })
  const engine = new PerfEngine({
    config: cfg(over),
    targets: Object.keys(profiles),
    sender: fake.send,
    store,
    now: sched.now,
    scheduler: sched,
    ...extra,
  })
  return { sched, fake, store, engine }
}

describe('PerfEngine jobs', () => {
  it('runs every type on every target, records runs, and the figures match the profiles', async () => {
    const { engine, store, fake } = setup()
    const id = engine.startJob()
    assert.equal(engine.job(id)?.status, 'running')
    const done = await engine.waitJob(id)
    assert.equal(done?.status, 'done')
    assert.deepEqual(done?.progress, { done: 8, total: 8 })
    const fast = store.metricsFor('mock,fast')!
    const slow = store.metricsFor('mock,slow')!
    assert.equal(fast.avgTtftMs, 40)
    assert.equal(slow.avgTtftMs, 900)
    assert.ok(Math.abs(fast.tokensPerSec! - 1000 / 5) < 1e-6, `fast tokens/s ${fast.tokensPerSec}`)
    assert.ok(Math.abs(slow.tokensPerSec! - 1000 / 50) < 1e-6)
    assert.ok(fake.calls.every((c) => (c.body.max_tokens as number) <= 64), 'max_tokens capped per test request')
  })
  it('tests only the requested models and types', async () => {
    const { engine, fake } = setup()
    const done = await engine.waitJob(engine.startJob({ models: ['mock,slow'], types: ['health'] }))
    assert.deepEqual(done?.results.map((r) => [r.target, r.type]), [['mock,slow', 'health']])
    assert.ok(fake.calls.every((c) => c.target === 'mock,slow'))
  })
  it('validates unknown models and test types', () => {
    const { engine } = setup()
    assert.deepEqual(engine.validate({ models: ['mock,fast'], types: ['latency'] }), [])
    const issues = engine.validate({ models: ['nope,x'], types: ['speed'] })
    assert.equal(issues.length, 2)
    assert.match(issues.join('\n'), /nope,x[\s\S]*speed/)
  })
  it('never runs more tests at once than maxConcurrentTests', async () => {
    const targets = ['a,1', 'a,2', 'a,3', 'a,4', 'a,5']
    const sched = new FakeScheduler(T0)
    const fake = createFakeSender(Object.fromEntries(targets.map((t) => [t, { ttftMs: 1, perTokenMs: 1 }])), 3)
    const engine = new PerfEngine({
      config: cfg({ maxConcurrentTests: 2 }),
      targets,
      sender: fake.send,
      now: sched.now,
      scheduler: sched,
    })
    await engine.waitJob(engine.startJob({ types: ['latency'] }))
    assert.equal(fake.calls.length, 15)
    assert.equal(fake.maxInFlight(), 2)
  })
  it('the daily token budget stops tests and is visible in health', async () => {
    const { engine, fake } = setup({ dailyTokenBudget: 600 })
    const done = await engine.waitJob(engine.startJob())
    assert.equal(done?.status, 'stopped')
    assert.ok(done?.results.some((r) => r.stoppedReason === BUDGET_EXHAUSTED))
    const sent = fake.calls.length
    assert.ok(sent > 0 && sent < 24, `sent ${sent} of 24 requests before the budget ran out`)
    const b = engine.health().budget
    assert.ok(b.used <= 600 && b.remaining === 600 - b.used, JSON.stringify(b))
    await engine.waitJob(engine.startJob({ types: ['throughput'] }))
    assert.equal(fake.calls.length, sent, 'no request once the budget cannot cover one')
  })
  it("a restarted engine keeps today's spend from the store", async () => {
    const { engine, store, sched, fake } = setup({ dailyTokenBudget: 5000 })
    await engine.waitJob(engine.startJob({ types: ['latency'] }))
    const spent = engine.health().budget.used
    assert.ok(spent > 0)
    const again = new PerfEngine({
      config: cfg({ dailyTokenBudget: 5000 }),
      targets: Object.keys(profiles),
      sender: fake.send,
      store,
      now: sched.now,
      scheduler: sched,
    })
    assert.equal(again.health().budget.used, spent)
    assert.equal(again.health().budget.remaining, 5000 - spent)
    sched.advance(24 * 60 * MIN)
    assert.equal(again.health().budget.used, 0, 'a new UTC day starts from zero')
  })
  it('a request that never answers times out after testTimeoutSeconds', async () => {
    const sched = new FakeScheduler(T0)
    const fake = createFakeSender({ 'mock,hang': { ttftMs: 0, perTokenMs: 0, hang: true } })
    const engine = new PerfEngine({
      config: cfg({ testTimeoutSeconds: 7 }),
      targets: ['mock,hang'],
      sender: fake.send,
      now: sched.now,
      scheduler: sched,
      runsPerTest: 1,
    })
    const id = engine.startJob({ types: ['health'] })
    await new Promise((r) => setTimeout(r, 5))
    assert.equal(engine.health().inFlightRequests, 1)
    sched.advance(7_000)
    const done = await engine.waitJob(id)
    const run = done?.results[0]?.runs[0]
    assert.equal(run?.ok, false)
    assert.match(run?.error ?? '', /timed out after 7000 ms/)
    assert.equal(run?.totalMs, 7_000)
  })
})

describe('PerfEngine schedule', () => {
  it('runs every testIntervalMinutes on the injected clock and shows the next run', async () => {
    const { engine, sched } = setup({ enabled: true, testIntervalMinutes: 10 })
    engine.start()
    assert.equal(engine.health().nextRunAt, T0 + 10 * MIN)
    assert.equal(engine.health().lastRunAt, undefined)
    sched.advance(10 * MIN - 1)
    assert.equal(engine.health().lastRunAt, undefined, 'not a millisecond early')
    sched.advance(1)
    const first = engine.health()
    assert.equal(first.lastRunAt, T0 + 10 * MIN)
    assert.equal(first.nextRunAt, T0 + 20 * MIN)
    assert.equal(engine.job(first.lastJobId!)?.trigger, 'schedule')
    await engine.waitJob(first.lastJobId!)
    sched.advance(10 * MIN)
    assert.equal(engine.health().lastRunAt, T0 + 20 * MIN)
    await engine.waitJob(engine.health().lastJobId!)
    engine.stop()
    assert.equal(engine.health().nextRunAt, undefined)
    assert.equal(engine.health().state, 'stopped')
    sched.advance(60 * MIN)
    assert.equal(engine.health().lastRunAt, T0 + 20 * MIN, 'no run after stop')
  })
  it('firstRunDelayMs 0 tests as soon as the engine starts', () => {
    const { engine, sched } = setup({ enabled: true, testIntervalMinutes: 30 }, { firstRunDelayMs: 0 })
    engine.start()
    assert.equal(engine.health().nextRunAt, T0)
    sched.advance(0)
    assert.equal(engine.health().lastRunAt, T0)
    assert.equal(engine.health().nextRunAt, T0 + 30 * MIN)
    engine.stop()
  })
  it('prunes history past the TTL on each scheduled tick', () => {
    const { engine, sched, store } = setup({ enabled: true, testIntervalMinutes: 240, models: ['mock,fast'] })
    store.recordRuns([{
      target: 'old,x',
      type: 'health',
      at: T0 - 29.9 * 24 * 60 * MIN,
      ok: true,
      totalMs: 1,
      outputTokens: 1,
    }])
    assert.equal(store.history('old,x').length, 1)
    engine.start()
    sched.advance(240 * MIN)
    assert.equal(store.history('old,x').length, 0)
    engine.stop()
  })
  it('does not schedule when disabled, but still runs jobs on demand', async () => {
    const { engine, sched } = setup({ enabled: false })
    engine.start()
    assert.equal(engine.health().state, 'disabled')
    assert.equal(sched.pending(), 0)
    await engine.waitJob(engine.startJob({ types: ['health'] }))
    assert.equal(engine.health().state, 'disabled')
  })
  it('in a fleet, runs scheduled tests only while this instance leads (manual jobs still run)', async () => {
    let leads = false
    const { engine, sched } = setup({ enabled: true, testIntervalMinutes: 10 }, { leader: () => leads })
    engine.start()
    sched.advance(10 * MIN)
    assert.equal(engine.health().lastRunAt, undefined)
    assert.equal(engine.health().nextRunAt, T0 + 20 * MIN, 'the schedule keeps ticking to take over when it leads')
    leads = true
    sched.advance(10 * MIN)
    assert.equal(engine.health().lastRunAt, T0 + 20 * MIN)
    await engine.waitJob(engine.health().lastJobId!)
    engine.stop()
  })
  it('skips a tick while the previous scheduled job still runs', async () => {
    const sched = new FakeScheduler(T0)
    const fake = createFakeSender({ 'mock,hang': { ttftMs: 0, perTokenMs: 0, hang: true } })
    const engine = new PerfEngine({
      config: cfg({ enabled: true, testIntervalMinutes: 1, testTimeoutSeconds: 3600 }),
      targets: ['mock,hang'],
      sender: fake.send,
      now: sched.now,
      scheduler: sched,
      runsPerTest: 1,
    })
    engine.start()
    sched.advance(MIN)
    const firstId = engine.health().lastJobId
    await new Promise((r) => setTimeout(r, 5))
    sched.advance(MIN)
    assert.equal(engine.health().lastJobId, firstId)
    engine.stop()
    assert.equal((await engine.waitJob(firstId!))?.status, 'stopped')
  })
})
