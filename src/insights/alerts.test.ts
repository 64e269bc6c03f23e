import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { alertsSchema } from '../config/alerts.ts'
import { seededRandom } from '../lib/rng.ts'
import { AlertEngine, type AlertEvent, type AlertInputs, AlertMemory } from './alerts.ts'

/** A simulated clock and an engine whose events are collected. */
function setup(rules: Record<string, unknown> = {}, inputs: AlertInputs = {}) {
  let t = 1_000_000
  const events: AlertEvent[] = []
  const cfg = alertsSchema().parse({ rules })
  const engine = new AlertEngine({
    rules: cfg.rules,
    now: () => t,
    inputs,
    sinks: [{ deliver: (e) => events.push(e) }],
  })
  return {
    engine,
    events,
    advance: (ms: number) => {
      t += ms
    },
    now: () => t,
  }
}

const kinds = (events: AlertEvent[]) => events.map((e) => `${e.kind} ${e.alert.rule} ${e.alert.subject}`)

describe('alert engine', () => {
  it('latency ×3: fires once after the minimum duration, carries its evidence, resolves once', () => {
    const s = setup({ latency: { minDurationMs: 60_000 }, ttft: { enabled: false } })
    const r = seededRandom(1)
    const send = (level: number, n: number) => {
      for (let i = 0; i < n; i++) {
        s.engine.observe({ target: 'p,m', ok: true, latencyMs: level * (0.9 + 0.2 * r()) })
        s.advance(5_000)
      }
    }
    send(800, 50)
    assert.equal(s.events.length, 0)
    send(2_400, 30)
    assert.deepEqual(kinds(s.events), ['fire latency_degraded p,m'])
    const fired = s.events[0]!.alert
    assert.equal(fired.severity, 'warning')
    assert.ok(Number(fired.evidence.ratio) > 2.5 && Number(fired.evidence.ratio) < 3.5, JSON.stringify(fired.evidence))
    assert.ok(Math.abs(Number(fired.evidence.baseline_ms) - 800) < 80)
    assert.equal(fired.evidence.min_duration_ms, 60_000)
    assert.match(fired.message, /^latency of p,m is [\d.]+× its baseline/)
    assert.equal(s.engine.firing().length, 1)
    send(2_400, 30)
    assert.equal(s.events.length, 1, 'no second fire while it lasts')
    send(800, 40)
    assert.deepEqual(kinds(s.events), ['fire latency_degraded p,m', 'resolve latency_degraded p,m'])
    const resolved = s.events[1]!.alert
    assert.equal(resolved.state, 'resolved')
    assert.equal(resolved.firedAt, fired.firedAt)
    assert.ok(resolved.resolution && Number(resolved.resolution.ratio) < 1.3)
    assert.deepEqual(s.engine.firing(), [])
  })

  it('the baseline ratio is reported per target and metric', () => {
    const s = setup()
    for (let i = 0; i < 30; i++) s.engine.observe({ target: 'p,m', ok: true, latencyMs: 500, ttftMs: 100 })
    const r = s.engine.baselineRatios()
    assert.deepEqual(r.map((x) => [x.metric, Math.round(x.ratio * 100) / 100]), [['latency', 1], ['ttft', 1]])
  })

  it('success rate: fires under the threshold and resolves only at resolveAt (hysteresis)', () => {
    const s = setup({ successRate: { min: 0.8, resolveAt: 0.9, window: 20 } })
    for (let i = 0; i < 20; i++) s.engine.observe({ target: 'p,m', ok: true, latencyMs: 100 })
    for (let i = 0; i < 5; i++) s.engine.observe({ target: 'p,m', ok: false })
    assert.deepEqual(kinds(s.events), ['fire success_rate_low p,m'])
    assert.equal(s.events[0]!.alert.severity, 'critical')
    assert.equal(s.events[0]!.alert.evidence.value, 0.75)
    // 17 of 20 ok (0.85): above min, under resolveAt: still firing.
    for (let i = 0; i < 2; i++) s.engine.observe({ target: 'p,m', ok: true, latencyMs: 100 })
    assert.equal(s.events.length, 1)
    for (let i = 0; i < 20; i++) s.engine.observe({ target: 'p,m', ok: true, latencyMs: 100 })
    assert.deepEqual(kinds(s.events), ['fire success_rate_low p,m', 'resolve success_rate_low p,m'])
  })

  it('throughput: off by default, fires under minTokensPerSec when set', () => {
    const off = setup()
    for (let i = 0; i < 10; i++) off.engine.observe({ target: 'p,m', ok: true, tokensPerSec: 1 })
    assert.equal(off.events.length, 0)
    const on = setup({ throughput: { minTokensPerSec: 20, minDurationMs: 0 } })
    for (let i = 0; i < 10; i++) on.engine.observe({ target: 'p,m', ok: true, tokensPerSec: 50 })
    for (let i = 0; i < 10; i++) on.engine.observe({ target: 'p,m', ok: true, tokensPerSec: 5 })
    assert.deepEqual(kinds(on.events), ['fire throughput_low p,m'])
  })

  it('breaker, drift and budget rules follow their inputs with hysteresis', () => {
    let breaker = 'closed'
    let drift = 0
    let used = 0
    const s = setup({}, {
      breakers: () => [{ target: 'p,m', state: breaker, retryInMs: 5_000 }],
      drift: () => ({ tiers: { 'tier-0': { lastPct: drift, samples: 10 } }, warnPct: 10, criticalPct: 25 }),
      budget: () => ({ limit: 1_000, used }),
    })
    s.engine.evaluate()
    assert.equal(s.events.length, 0)
    breaker = 'open'
    drift = -30
    used = 950
    s.engine.evaluate()
    s.engine.evaluate()
    assert.deepEqual(kinds(s.events).sort(), [
      'fire breaker_open p,m',
      'fire perf_budget_low perf',
      'fire token_drift_critical tier-0',
    ])
    breaker = 'half_open'
    drift = 15
    used = 850
    s.engine.evaluate()
    assert.equal(s.events.length, 3, 'between the thresholds nothing resolves')
    breaker = 'closed'
    drift = 5
    used = 0
    s.engine.evaluate()
    assert.deepEqual(kinds(s.events.slice(3)).sort(), [
      'resolve breaker_open p,m',
      'resolve perf_budget_low perf',
      'resolve token_drift_critical tier-0',
    ])
  })

  it('drift needs minSamples samples of a tier before it fires (default 10)', () => {
    let samples = 1
    const s = setup({}, {
      drift: () => ({ tiers: { 'tier-0': { lastPct: 400, samples } }, warnPct: 10, criticalPct: 25 }),
    })
    for (; samples < 10; samples++) s.engine.evaluate()
    assert.equal(s.events.length, 0, 'a few requests are no drift')
    s.engine.evaluate()
    assert.deepEqual(kinds(s.events), ['fire token_drift_critical tier-0'])
    assert.equal(s.events[0]!.alert.evidence.min_samples, 10)
  })

  it('active tests failing: per target over the last hour', () => {
    let runs: { target: string; ok: boolean }[] = []
    const s = setup({}, { activeRuns: () => runs })
    runs = [{ target: 'p,m', ok: false }, { target: 'p,m', ok: false }, { target: 'p,m', ok: true }, {
      target: 'q,n',
      ok: true,
    }]
    s.engine.evaluate()
    assert.deepEqual(kinds(s.events), ['fire active_tests_failing p,m'])
    assert.equal(s.events[0]!.alert.evidence.failed, 2)
    runs = []
    s.engine.evaluate()
    assert.deepEqual(kinds(s.events), ['fire active_tests_failing p,m', 'resolve active_tests_failing p,m'])
  })

  it('routing shift: a share moving by ≥ points between two windows fires', () => {
    let before = new Map([['a,x', 50], ['b,y', 50]])
    let after = new Map([['a,x', 50], ['b,y', 50]])
    const s = setup({ routingShift: { points: 30, minutes: 10, minRequests: 20 } }, {
      requests: (from) => (from < s.now() - 10 * 60_000 ? before : after),
    })
    s.engine.evaluate()
    assert.equal(s.events.length, 0)
    after = new Map([['a,x', 90], ['b,y', 10]])
    s.engine.evaluate()
    assert.deepEqual(kinds(s.events).sort(), ['fire routing_shift a,x', 'fire routing_shift b,y'])
    assert.equal(s.events.find((e) => e.alert.subject === 'a,x')!.alert.evidence.moved_points, 40)
    before = after
    s.engine.evaluate()
    assert.equal(s.events.length, 4)
  })

  it('a sink that throws does not stop the others', () => {
    const got: string[] = []
    const cfg = alertsSchema().parse({})
    const engine = new AlertEngine({
      rules: cfg.rules,
      now: () => 0,
      inputs: { breakers: () => [{ target: 'p,m', state: 'open', retryInMs: 0 }] },
      sinks: [{
        deliver: () => {
          throw new Error('boom')
        },
      }, { deliver: (e) => got.push(e.alert.rule) }],
    })
    engine.evaluate()
    assert.deepEqual(got, ['breaker_open'])
  })

  it('an engine built on the memory of one before it (a reload) neither fires again what fires, nor forgets to resolve it', () => {
    let breaker = 'open'
    const memory = new AlertMemory()
    const events: AlertEvent[] = []
    const engine = (rules: Record<string, unknown> = {}) =>
      new AlertEngine({
        rules: alertsSchema().parse({ rules }).rules,
        now: () => 1_000_000,
        inputs: { breakers: () => [{ target: 'p,m', state: breaker, retryInMs: 5_000 }] },
        sinks: [{ deliver: (e) => events.push(e) }],
        memory,
      })
    engine().evaluate()
    assert.deepEqual(kinds(events), ['fire breaker_open p,m'])
    const next = engine()
    next.evaluate()
    assert.deepEqual(kinds(events), ['fire breaker_open p,m'], 'still firing: no second event')
    assert.deepEqual(next.firing().map((a) => a.rule), ['breaker_open'])
    breaker = 'closed'
    next.evaluate()
    assert.deepEqual(kinds(events), ['fire breaker_open p,m', 'resolve breaker_open p,m'])

    // A rule the new config turns off: its alert is forgotten, as nothing would resolve it.
    breaker = 'open'
    engine().evaluate()
    const off = engine({ breaker: { enabled: false } })
    assert.deepEqual(off.firing(), [])
    breaker = 'closed'
    off.evaluate()
    assert.equal(events.length, 3)
    // Alerts turned off altogether (`Alerts.enabled: false`): everything is forgotten.
    breaker = 'open'
    engine().evaluate()
    assert.equal(memory.firingIds().size, 1)
    memory.retainEnabled(alertsSchema().parse({}).rules, false)
    assert.equal(memory.firingIds().size, 0)
  })

  it("a reload's engine goes on from the detectors' baselines: a latency alert that still holds is not resolved", () => {
    let t = 1_000_000
    const memory = new AlertMemory()
    const events: AlertEvent[] = []
    const engine = () =>
      new AlertEngine({
        rules: alertsSchema().parse({ rules: { latency: { minDurationMs: 60_000 }, ttft: { enabled: false } } }).rules,
        now: () => t,
        sinks: [{ deliver: (e) => events.push(e) }],
        memory,
      })
    const r = seededRandom(3)
    const send = (e: AlertEngine, level: number, n: number) => {
      for (let i = 0; i < n; i++) {
        e.observe({ target: 'p,m', ok: true, latencyMs: level * (0.9 + 0.2 * r()) })
        t += 5_000
      }
    }
    const first = engine()
    send(first, 800, 50)
    send(first, 2_400, 30)
    assert.deepEqual(kinds(events), ['fire latency_degraded p,m'])
    // Reloaded: still 3× slow. Cold baselines would take 2,400 ms for normal, and the alert would resolve.
    const next = engine()
    assert.ok((next.baselineRatios()[0]?.ratio ?? 1) > 2, 'the baseline came along')
    send(next, 2_400, 20)
    next.evaluate()
    assert.deepEqual(kinds(events), ['fire latency_degraded p,m'], 'neither resolved nor fired again')
    // A provider a reload removed takes its detectors with it.
    memory.forgetProviders(new Set(['p']))
    assert.deepEqual(engine().baselineRatios(), [])
  })
})
