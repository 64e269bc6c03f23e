/** Trends and recommendations over synthetic histories on a simulated clock. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { hourOfWeek } from '../analysis/trends.ts'
import { seededRandom } from '../lib/rng.ts'
import { openStore } from '../store/db.ts'
import { SeriesStore } from '../store/series.ts'
import { type Sample, SeriesBook } from './series.ts'
import { recommendations, targetTrend } from './views.ts'

const HOUR = 3_600_000
const MON = Date.UTC(2026, 10, 30) // Monday 30 November 2026, 00:00 UTC

function record(book: SeriesBook, key: string, s: Sample): void {
  book.record(key, s, hourOfWeek(s.at))
}

describe('trends', () => {
  it('a provider slow every weekday at 14:00 UTC shows up in slow_hours', () => {
    const book = new SeriesBook()
    const r = seededRandom(2)
    // Four requests an hour for a week; 14:00–15:00 on weekdays is 3× slower.
    for (let h = 0; h < 7 * 24; h++) {
      for (let k = 0; k < 4; k++) {
        const at = MON + h * HOUR + k * 900_000
        const slow = h % 24 === 14 && Math.floor(h / 24) < 5
        record(book, 'p,m', { at, ok: true, latencyMs: (slow ? 2_400 : 800) * (0.9 + 0.2 * r()) })
      }
    }
    const t = targetTrend({
      target: 'p,m',
      window: '7d',
      now: MON + 7 * 24 * HOUR - 1,
      series: book,
      active: [],
      baseline: {},
    })
    assert.deepEqual(t.slow_hours.map((s) => s.label), [
      'Mon 14:00 UTC',
      'Tue 14:00 UTC',
      'Wed 14:00 UTC',
      'Thu 14:00 UTC',
      'Fri 14:00 UTC',
    ])
    assert.equal(t.hour_of_week.length, 168)
    assert.equal(t.live.length, 168)
  })

  it('a ×3 step in the last 24 h is a change point, and the slope is positive', () => {
    const book = new SeriesBook()
    const now = MON + 24 * HOUR
    for (let m = 0; m < 24 * 60; m += 5) {
      const at = MON + m * 60_000
      record(book, 'p,m', {
        at,
        ok: true,
        latencyMs: m >= 12 * 60 ? 2_400 : 800,
        ttftMs: 200,
        outputTokens: 101,
        costUsd: 0.001,
        inputTokens: 899,
      })
    }
    const t = targetTrend({
      target: 'p,m',
      window: '24h',
      now,
      series: book,
      active: [{ at: MON + HOUR, ok: true, totalMs: 700, ttftMs: 150, tokensPerSec: 80 }],
      baseline: { latency: 3 },
    })
    assert.equal(t.step_ms, 900_000)
    const cps = t.trends.latency_ms.change_points
    assert.equal(cps.length, 1)
    // Found one 15-minute bucket after the step (Page–Hinkley needs two samples of a ×3 step).
    assert.equal(cps[0]!.t, MON + 12 * HOUR + 900_000)
    assert.equal(t.live.length, 96)
    assert.ok((t.trends.latency_ms.slope_per_hour ?? 0) > 0)
    assert.deepEqual(t.trends.ttft_ms.change_points, [])
    const first = t.live[0]!
    assert.equal(first.requests, 3)
    assert.ok(Math.abs((first.cost_per_1k_tokens ?? 0) - 0.001) < 1e-12) // $0.001 per 1 000 tokens
    assert.equal(first.tokens_per_sec, (100 / 600) * 1000)
    assert.deepEqual(t.active.map((p) => [p.t, p.latency_ms, p.tokens_per_sec]), [[MON + HOUR, 700, 80]])
  })
})

describe('recommendations', () => {
  it('per scenario: the Pareto set and a suggestion with its evidence; never for a scenario without an alternative', () => {
    const book = new SeriesBook()
    const now = MON + 2 * 24 * HOUR
    for (let i = 0; i < 100; i++) {
      const at = MON + i * 60_000
      record(book, 'think|anthropic,claude-opus', {
        at,
        ok: true,
        latencyMs: 2_100,
        outputTokens: 500,
        inputTokens: 500,
        costUsd: 0.01,
      })
      record(book, 'think|deepseek,deepseek-reasoner', {
        at,
        ok: true,
        latencyMs: 1_000,
        outputTokens: 500,
        inputTokens: 500,
        costUsd: 0.004,
      })
      record(book, 'default|a,x', { at, ok: true, latencyMs: 500 })
      record(book, 'p,m', { at, ok: true, latencyMs: 1 })
    }
    const recs = recommendations({
      now,
      series: book,
      current: (s) => (s === 'think' ? 'anthropic,claude-opus' : s === 'default' ? 'a,x' : undefined),
    })
    assert.deepEqual(recs.map((r) => r.scenario), ['default', 'think'])
    assert.equal(recs[0]!.suggestion, undefined)
    const think = recs[1]!
    assert.deepEqual(think.candidates.map((c) => [c.target, c.pareto]), [['anthropic,claude-opus', false], [
      'deepseek,deepseek-reasoner',
      true,
    ]])
    assert.equal(
      think.suggestion?.text,
      'think: deepseek,deepseek-reasoner is 2.1× faster at 40 % of the cost of anthropic,claude-opus over 7 days with the same success rate; consider making it the think target',
    )
  })
})

describe('series book', () => {
  it('keeps at most 24 h of minute buckets and 7 d of hour buckets', () => {
    const book = new SeriesBook()
    for (let h = 0; h < 10 * 24; h++) record(book, 'p,m', { at: MON + h * HOUR, ok: true, latencyMs: 1 })
    const now = MON + 10 * 24 * HOUR
    assert.equal(book.total('p,m', { from: now - 30 * 24 * HOUR, to: now }).requests, 7 * 24)
    assert.equal(book.total('p,m', { from: now - 24 * HOUR, to: now }).requests, 24)
  })
})

describe('series persistence', () => {
  it('every hour bucket touched since the last save is saved, also when a key goes back to an earlier hour', () => {
    const book = new SeriesBook()
    for (const h of [3, 3, 4, 3]) record(book, 'p,m', { at: MON + h * HOUR, ok: true, latencyMs: 1 })
    record(book, 'q,m', { at: MON + 3 * HOUR, ok: true, latencyMs: 1 })
    const rows = book.takeDirty().map((r) => [r.key, (r.start - MON) / HOUR, r.agg.requests])
    assert.deepEqual(rows, [['p,m', 3, 3], ['p,m', 4, 1], ['q,m', 3, 1]])
    // Hour 3 again, the last hour p,m marked before the save: marked anew.
    record(book, 'p,m', { at: MON + 3 * HOUR, ok: true, latencyMs: 1 })
    assert.deepEqual(book.takeDirty().map((r) => [r.key, (r.start - MON) / HOUR, r.agg.requests]), [['p,m', 3, 4]])
  })

  it('hour buckets saved to the store come back after a restart: 7-day trends and the profile survive', () => {
    const store = openStore(':memory:')
    const saved = new SeriesStore(store)
    const book = new SeriesBook()
    for (let h = 0; h < 48; h++) {
      record(book, 'p,m', { at: MON + h * HOUR, ok: true, latencyMs: h % 24 === 14 ? 3_000 : 1_000 })
    }
    saved.save(book.takeDirty(), MON + 48 * HOUR)
    assert.deepEqual(book.takeDirty(), [], 'nothing left to save')
    record(book, 'p,m', { at: MON + 47 * HOUR + 1, ok: true, latencyMs: 1_000 })
    const again = book.takeDirty()
    assert.equal(again.length, 1)
    assert.equal(again[0]!.agg.requests, 2, 'a bucket is saved whole, not as a delta')
    saved.save(again, MON + 48 * HOUR)

    const restarted = new SeriesBook()
    restarted.seed(new SeriesStore(store).load(MON - 7 * 24 * HOUR), hourOfWeek)
    assert.equal(restarted.total('p,m', { from: MON, to: MON + 48 * HOUR }).requests, 49)
    const t = targetTrend({
      target: 'p,m',
      window: '7d',
      now: MON + 48 * HOUR,
      series: restarted,
      active: [],
      baseline: {},
    })
    assert.equal(t.live.length, 48)
    assert.deepEqual(t.hour_of_week.find((p) => p.hour === 14), {
      hour: 14,
      label: 'Mon 14:00 UTC',
      latency_ms: 3_000,
      requests: 1,
    })
    assert.equal(saved.load(0).length, 48)
    saved.save([{ key: 'p,m', start: MON + 20 * 24 * HOUR, agg: { requests: 1 } }], MON + 20 * 24 * HOUR)
    assert.equal(saved.load(0).length, 1, 'rows older than 8 days are pruned')
    store.close()
  })
})
