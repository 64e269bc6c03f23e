import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openStore } from './db.ts'
import { type TimelineRow, TimelineStore } from './timeline.ts'

const SERIES = [{ stepMs: 10_000, count: 90 }, { stepMs: 300_000, count: 288 }]
const row = (stepMs: number, t: number, over: Partial<TimelineRow> = {}): TimelineRow => ({
  stepMs,
  t,
  requests: 2,
  errors: 1,
  costUsd: 0.25,
  inputTokens: 10,
  outputTokens: 5,
  activeMax: 3,
  activeEnd: 1,
  ttft: [120, 80],
  ...over,
})

describe('store/timeline', () => {
  it('writes the changed slots as absolute values, and a later process loads them back', () => {
    const store = openStore(':memory:')
    let now = 1_800_000_000_000
    let pending: TimelineRow[] = [row(10_000, now - 20_000), row(300_000, now - 600_000)]
    const o = {
      series: SERIES,
      changed: () => {
        const p = pending
        pending = []
        return p
      },
      now: () => now,
    }
    const a = new TimelineStore(store, o)
    assert.equal(a.flush(), 2)
    assert.equal(a.flush(), 0, 'nothing changed since')
    // The same slot again (it grew): replaced, not added to.
    pending = [row(10_000, now - 20_000, { requests: 5 })]
    a.stop()
    now += 1_000
    const loaded = new TimelineStore(store, o).load()
    assert.deepEqual(loaded, [row(10_000, now - 21_000, { requests: 5 }), row(300_000, now - 601_000)])
    store.close()
  })

  it('is bounded: slots older than their window, unknown series and extra TTFT samples are not kept', () => {
    const store = openStore(':memory:')
    let now = 1_800_000_000_000
    let pending: TimelineRow[] = []
    const ts = new TimelineStore(store, {
      series: SERIES,
      changed: () => {
        const p = pending
        pending = []
        return p
      },
      now: () => now,
    })
    // A day and a half of 10 s slots, written as they happen: the store never holds more than the window.
    for (let i = 0; i < 1_000; i++) {
      now += 10_000
      pending = [row(10_000, now - (now % 10_000)), row(300_000, now - (now % 300_000)), row(60_000, now)]
      ts.flush()
      const n = (store.db.prepare('SELECT COUNT(*) AS n FROM timeline_slots').get() as { n: number }).n
      assert.ok(n <= 90 + 288, `${n} rows`)
    }
    const rows = ts.load()
    assert.equal(rows.filter((r) => r.stepMs === 10_000).length, 90)
    assert.ok(rows.every((r) => r.stepMs !== 60_000), 'an unknown series is not stored')
    assert.ok(rows.every((r) => r.t > now - r.stepMs * (r.stepMs === 10_000 ? 90 : 288)))
    pending = [row(10_000, now - (now % 10_000), { ttft: Array.from({ length: 1_000 }, (_, i) => i) })]
    ts.flush()
    assert.equal(ts.load().find((r) => r.stepMs === 10_000 && r.t === now - (now % 10_000))?.ttft.length, 256)
    store.close()
  })
})
