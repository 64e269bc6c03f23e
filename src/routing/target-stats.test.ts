import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_TARGETS, RoutingStats, TargetMeasurements } from './target-stats.ts'

const breaker = {
  consecutiveFailures: 3,
  errorRateThreshold: 0.9,
  minRequestsForRate: 100,
  cooldownMs: 1_000,
  maxCooldownMs: 8_000,
  halfOpenProbes: 1,
}
const make = () => new RoutingStats({ ewmaAlpha: 0.5, failurePenalty: 2, breaker })

describe('RoutingStats', () => {
  it('records latency per attempt, TTFT and tokens per second of a stream', () => {
    const st = make()
    const a = st.begin('p,m', 1_000)
    assert.equal(st.snapshot('p,m', 1_000).inFlight, 1)
    a.firstToken(1_200)
    a.firstToken(1_300) // only the first content token counts
    a.succeed(3_200, { outputTokens: 100 })
    const s = st.snapshot('p,m', 3_200)
    assert.equal(s.inFlight, 0)
    assert.equal(s.latencyMs, 2_200)
    assert.equal(s.ttftMs, 200)
    assert.equal(s.tokensPerSec, 50) // 100 tokens over the 2 s after the first token
    assert.equal(s.samples, 1)
    assert.equal(s.successes, 1)
    assert.equal(s.errorRate, 0)
  })

  it('keeps a TTFT spread (mean absolute deviation) for the adaptive first-event timeout', () => {
    const st = make()
    for (const [start, first] of [[0, 100], [1_000, 1_300], [2_000, 2_100]] as const) {
      const a = st.begin('p,m', start)
      a.firstToken(first)
      a.succeed(first + 10)
    }
    const s = st.snapshot('p,m', 3_000)
    assert.ok(s.ttftDevMs !== undefined && s.ttftDevMs > 0)
  })

  it('streams cut after answering 2xx do not trip the breaker by streak; streams delivering content count against the error rate', () => {
    const st = new RoutingStats({
      ewmaAlpha: 0.5,
      failurePenalty: 2,
      breaker: { ...breaker, errorRateThreshold: 0.5, minRequestsForRate: 4 },
    })
    // A burst: six streams delivering tokens, then four others cut before they finish.
    const live = Array.from({ length: 6 }, () => st.begin('p,m', 0))
    for (const a of live) a.firstToken(10)
    for (let i = 0; i < 4; i++) st.begin('p,m', 0).fail(20, 'stream_broken')
    assert.equal(
      st.snapshot('p,m', 20).breaker.kind,
      'closed',
      '4 cuts against 6 live streams: rate 0.4, and cuts are no streak',
    )
    for (const a of live) a.succeed(100)
    st.begin('p,m', 100).fail(110, 'stream_broken')
    assert.equal(st.snapshot('p,m', 110).breaker.kind, 'closed', 'five cuts in a row are still no streak (rate 5/11)')
    const down = new RoutingStats({ ewmaAlpha: 0.5, failurePenalty: 2, breaker })
    for (let i = 0; i < 3; i++) down.begin('p,m', 0).fail(10, 'server_error')
    assert.equal(down.snapshot('p,m', 10).breaker.kind, 'open', 'a streak of server errors still opens it')
  })

  it('counts a failure as penalty × EWMA, not its duration', () => {
    const st = make()
    st.begin('p,m', 0).succeed(100)
    st.begin('p,m', 1_000).fail(61_000, 'timeout')
    const s = st.snapshot('p,m', 61_000)
    assert.equal(s.latencyMs, 150) // 0.5·200 + 0.5·100
    assert.equal(s.errors, 1)
    assert.equal(s.errorRate, 0.5)
  })

  it('abandon records a failure only when the attempt was not finished', () => {
    const st = make()
    const ok = st.begin('p,m', 0)
    ok.succeed(10)
    ok.abandon(20)
    const lost = st.begin('p,m', 30)
    lost.abandon(40)
    lost.succeed(50) // ignored: already ended
    const s = st.snapshot('p,m', 50)
    assert.deepEqual([s.successes, s.errors, s.inFlight], [1, 1, 0])
  })

  it('does not hold client errors against the target', () => {
    const st = make()
    st.begin('p,m', 0).fail(10, 'client_error')
    const s = st.snapshot('p,m', 10)
    assert.deepEqual([s.samples, s.errors, s.inFlight, s.breaker.kind], [0, 0, 0, 'closed'])
  })

  it('opens the breaker after consecutive failures, probes after the cooldown, and starts fresh after recovery', () => {
    const st = make()
    for (let i = 0; i < 3; i++) st.begin('p,m', i).fail(i + 1, 'network')
    assert.equal(st.snapshot('p,m', 10).breaker.kind, 'open')
    assert.equal(st.allows('p,m', 10).allowed, false)
    assert.ok(st.allows('p,m', 10).retryInMs > 0)
    assert.equal(st.allows('p,m', 1_100).allowed, true)
    const probe = st.begin('p,m', 1_100)
    assert.equal(st.allows('p,m', 1_101).allowed, false) // the single probe slot is taken
    probe.succeed(1_150)
    const s = st.snapshot('p,m', 1_150)
    assert.equal(s.breaker.kind, 'closed')
    assert.deepEqual([s.samples, s.errors, s.latencyMs], [1, 0, 50])
  })

  it('lists every target seen and an empty snapshot for unknown ones', () => {
    const st = make()
    st.begin('a,x', 0).succeed(5)
    st.begin('b,y', 0)
    assert.deepEqual([...st.all(10).keys()], ['a,x', 'b,y'])
    assert.equal(st.snapshot('zz,q', 10).samples, 0)
  })
})

describe('RoutingStats size', () => {
  it('stays bounded under client-chosen targets, evicting idle records and never one with an attempt in flight', () => {
    const s = make()
    const busy = s.begin('busy,target', 0)
    for (let i = 0; i < MAX_TARGETS + 50; i++) s.begin(`p,m${i}`, i).succeed(i + 1)
    assert.ok(s.all(10_000).size <= MAX_TARGETS)
    assert.equal(s.snapshot('busy,target', 10_000).inFlight, 1)
    busy.succeed(10_001)
  })

  it("a table built on another's measurements goes on from them (a reload); a provider removed or pointed elsewhere starts afresh", () => {
    const m = new TargetMeasurements()
    const upstreams = new Map([['p', 'http://p.test/v1/messages'], ['q', 'http://q.test/v1/chat/completions']])
    m.retain(upstreams)
    const before = new RoutingStats({ ewmaAlpha: 0.5, failurePenalty: 2, breaker, measurements: m })
    before.begin('p,m', 0).succeed(200)
    for (let i = 0; i < 3; i++) before.begin('q,m', 300).fail(400, 'network')
    before.begin('r,m', 0).succeed(50)
    const open = before.begin('p,m', 500) // still in flight across the reload
    assert.equal(before.snapshot('q,m', 400).breaker.kind, 'open')

    assert.deepEqual([...m.retain(new Map([...upstreams, ['r', 'http://r.test/v1/messages']]))], [], 'none changed')
    const after = new RoutingStats({ ewmaAlpha: 0.3, failurePenalty: 2, breaker, measurements: m })
    assert.deepEqual([after.snapshot('p,m', 600).samples, after.snapshot('p,m', 600).latencyMs], [1, 200])
    assert.equal(after.snapshot('q,m', 600).breaker.kind, 'open', 'the breaker stays open')
    assert.equal(after.snapshot('p,m', 600).inFlight, 1)
    open.succeed(700)
    assert.equal(after.snapshot('p,m', 700).inFlight, 0, "the old table's attempt settles on the same record")
    assert.deepEqual([...after.all(700).keys()].sort(), ['p,m', 'q,m'], 'r was not configured before: its record went')

    // q now points elsewhere, p is gone: both start afresh.
    assert.deepEqual([...m.retain(new Map([['q', 'http://q2.test/v1/chat/completions']]))].sort(), ['p', 'q', 'r'])
    const third = new RoutingStats({ ewmaAlpha: 0.3, failurePenalty: 2, breaker, measurements: m })
    assert.deepEqual([...third.all(800).keys()], [])
    assert.equal(third.snapshot('q,m', 800).breaker.kind, 'closed')
  })
})
