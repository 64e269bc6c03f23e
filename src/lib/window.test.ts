import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { emptyWindow, windowAdd, windowSum } from './window.ts'
import type { SlidingWindow } from './window.ts'

const p = { windowMs: 10_000, buckets: 10 }

describe('sliding window', () => {
  it('counts events inside the window and forgets them after it', () => {
    let w: SlidingWindow<'ok' | 'err'> = emptyWindow()
    w = windowAdd(w, 'ok', 1, 500, p)
    w = windowAdd(w, 'ok', 1, 1_500, p)
    w = windowAdd(w, 'err', 1, 9_000, p)
    assert.equal(windowSum(w, 'ok', 9_500, p), 2)
    assert.equal(windowSum(w, 'err', 9_500, p), 1)
    // At 11 000 the slot [0, 1000) has left the window, the [1000, 2000) one has not.
    assert.equal(windowSum(w, 'ok', 11_000, p), 1)
    assert.equal(windowSum(w, 'ok', 25_000, p), 0)
  })

  it('keeps at most one slot per bucket inside the window', () => {
    let w: SlidingWindow<'ok'> = emptyWindow()
    for (let t = 0; t < 100_000; t += 37) w = windowAdd(w, 'ok', 1, t, p)
    assert.ok(w.slots.length <= p.buckets + 1, `slots: ${w.slots.length}`)
  })

  it('property: the sum equals the events whose slot is inside the window (never more than were added)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2_000 }), { maxLength: 80 }), (steps) => {
      let w: SlidingWindow<'ok'> = emptyWindow()
      let now = 0
      const times: number[] = []
      for (const s of steps) {
        now += s
        times.push(now)
        w = windowAdd(w, 'ok', 1, now, p)
      }
      const expected = times.filter((t) => Math.floor(t / 1_000) * 1_000 + 1_000 > now - p.windowMs).length
      return windowSum(w, 'ok', now, p) === expected && expected <= times.length
    }))
  })
})
