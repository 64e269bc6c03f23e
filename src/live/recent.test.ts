import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createLiveRecorder, type RecentRequest, RecentRequests } from './recent.ts'
import type { RequestTrace } from '../proxy/types.ts'

const trace = (id: string, over: Partial<RequestTrace> = {}): RequestTrace => ({
  id,
  format: 'anthropic',
  scenario: 'default',
  target: 'p,m',
  tier: 'tier-0',
  attempts: 1,
  fallbacks: 0,
  status: 200,
  ttfbMs: 100,
  durationMs: 300,
  estimatedInputTokens: 10,
  stream: true,
  usage: { inputTokens: 8, outputTokens: 5, cacheReadTokens: 1, cacheCreationTokens: 0 },
  costUsd: 0.01,
  ...over,
} as RequestTrace)

describe('live/recent', () => {
  it('the ring keeps the newest N, newest first', () => {
    const ring = new RecentRequests(3)
    for (let i = 0; i < 5; i++) ring.add({ id: String(i) } as RecentRequest)
    assert.deepEqual(ring.list().map((r) => r.id), ['4', '3', '2'])
    assert.deepEqual(ring.list(2).map((r) => r.id), ['4', '3'])
  })

  it('records counts and timings only, and fills the timeline and the day table', () => {
    let now = Date.parse('2026-06-01T10:00:00Z')
    const live = createLiveRecorder(() => now)
    live.observer.streamOpened(1)
    live.observer.request(trace('a'))
    live.observer.request(
      trace('b', { status: 502, failure: 'upstream_status', usage: undefined, costUsd: undefined, ttfbMs: undefined }),
    )
    now += 5_000
    live.observer.streamClosed(0)
    const [b, a] = live.requests.list()
    assert.deepEqual(Object.keys(a!).sort(), [
      'at',
      'attempts',
      'cache',
      'continued',
      'cost_usd',
      'duration_ms',
      'est_input_tokens',
      'failure',
      'fallbacks',
      'format',
      'id',
      'input_tokens',
      'output_tokens',
      'scenario',
      'session',
      'status',
      'stream',
      'target',
      'tier',
      'ttfb_ms',
    ])
    assert.equal(a!.input_tokens, 9)
    assert.equal(b!.failure, 'upstream_status')
    assert.equal(a!.continued, null)
    const w = live.timeline.window('15m', now)
    assert.equal(w.t.length, 90)
    assert.equal(w.error_rate.at(-1), 0.5)
    assert.equal(w.ttft_p50_ms.at(-1), 100)
    assert.equal(w.active_streams.at(-1), 1)
    assert.equal(w.cost_usd.at(-1), 0.01)
    now += 60_000
    const later = live.timeline.window('15m', now)
    assert.equal(later.active_streams.at(-1), 0, 'an idle slot keeps the level the last one ended at')
    assert.equal(later.requests_per_s.at(-1), 0)
    const days = live.timeline.days()
    assert.deepEqual(days.map((d) => [d.day, d.requests, d.errors]), [['2026-06-01', 2, 1]])
    assert.equal(live.timeline.window('24h', now).t.length, 288)
    live.observer.request({ ...trace('c'), continued: 2 })
    assert.equal(live.requests.list(1)[0]!.continued, 2)
  })

  it('the changed slots go to the store once each, and a new process seeded with them shows the same 24 h and 15 min', () => {
    let now = Date.parse('2026-06-01T10:00:00Z')
    const first = createLiveRecorder(() => now)
    first.observer.request(trace('a'))
    now += 400_000 // the next 5 min slot
    first.observer.request(trace('b'))
    const changed = first.timeline.takeChanged()
    assert.deepEqual(
      changed.map((b) => [b.stepMs, b.t - Date.parse('2026-06-01T10:00:00Z'), b.requests]).sort((x, y) =>
        x[0]! - y[0]! || x[1]! - y[1]!
      ),
      [[10_000, 0, 1], [10_000, 400_000, 1], [300_000, 0, 1], [300_000, 300_000, 1]],
    )
    assert.deepEqual(first.timeline.takeChanged(), [], 'nothing new since')
    now += 2_000
    const second = createLiveRecorder(() => now)
    second.timeline.seedBuckets(changed, now)
    for (const w of ['15m', '24h'] as const) {
      assert.deepEqual(second.timeline.window(w, now), first.timeline.window(w, now), w)
    }
    // Seeding is once per process (a reload keeps the timeline), and only slots inside the window count.
    second.timeline.seedBuckets(changed, now)
    assert.equal(second.timeline.window('24h', now).requests_per_s.filter((r) => r > 0).length, 2)
    const third = createLiveRecorder(() => now)
    third.timeline.seedBuckets(changed, now + 25 * 3_600_000)
    assert.ok(third.timeline.window('24h', now + 25 * 3_600_000).requests_per_s.every((r) => r === 0))
    // A slot the new process already counted in is not overwritten by an older copy.
    const fourth = createLiveRecorder(() => now)
    fourth.observer.request(trace('c'))
    fourth.timeline.seedBuckets(changed, now)
    assert.deepEqual(fourth.timeline.window('24h', now).requests_per_s.filter((r) => r > 0).length, 2)
    assert.equal(fourth.timeline.window('24h', now).cost_usd.reduce((a, b) => a + b, 0), 0.02)
  })
})
