import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { resyncPacer } from './resync.ts'

/** A pacer on a simulated clock: `run(until)` moves time forward, firing the pending timer on the way. */
function simulated(everyMs: number) {
  let t = 0
  let up = true
  let timer: { at: number; fn: () => void } | undefined
  const resyncs: number[] = []
  const pacer = resyncPacer({
    everyMs,
    now: () => t,
    after: (ms, fn) => {
      assert.equal(timer, undefined, 'one timer at a time')
      const mine = { at: t + ms, fn }
      timer = mine
      return () => {
        if (timer === mine) timer = undefined
      }
    },
    up: () => up,
    resync: () => resyncs.push(t),
  })
  const run = (until: number) => {
    while (timer && timer.at <= until) {
      const { at, fn } = timer
      timer = undefined
      t = at
      fn()
    }
    t = until
  }
  return {
    pacer,
    resyncs,
    run,
    /** The link goes down at `at` (no resync can run while it is). */
    down: (at: number) => {
      run(at)
      up = false
    },
    /** The link comes back at `at`. */
    back: (at: number) => {
      run(at)
      up = true
      pacer.recovered()
    },
    pending: () => timer !== undefined,
  }
}

describe('resync pacing', () => {
  it('a recovery after a real outage resyncs at once', () => {
    const s = simulated(5_000)
    s.down(1_000)
    s.back(4_000)
    assert.deepEqual(s.resyncs, [4_000])
    // The next real outage, well after: at once again.
    s.down(20_000)
    s.back(30_000)
    assert.deepEqual(s.resyncs, [4_000, 30_000])
  })

  it('a link flapping every 150 ms for a minute resyncs once per interval, not once per flip', () => {
    const s = simulated(5_000)
    let flips = 0
    for (let t = 0; t < 60_000; t += 300) {
      s.down(t)
      s.back(t + 150)
      flips++
    }
    s.run(70_000)
    assert.equal(flips, 200)
    // The first at once, then one each time an interval ends (the link is up then or comes back within 150 ms).
    assert.equal(s.resyncs[0], 150)
    assert.ok(s.resyncs.length >= 12 && s.resyncs.length <= 13, `${s.resyncs.length} resyncs`)
    for (let i = 1; i < s.resyncs.length; i++) {
      const gap = s.resyncs[i]! - s.resyncs[i - 1]!
      assert.ok(gap >= 5_000 && gap <= 5_150, `gap ${gap} ms`)
    }
    // The last flip (59,850 ms) is covered by a resync that ran after it.
    assert.ok(s.resyncs.at(-1)! >= 59_850)
  })

  it('flips coalesced while the link is down at the end of the interval resync at the next recovery', () => {
    const s = simulated(5_000)
    s.back(0)
    s.down(100)
    s.back(200) // owed: the interval runs to 5,000
    s.down(4_900)
    s.run(5_000) // the timer fires while the link is down: nothing runs
    assert.deepEqual(s.resyncs, [0])
    assert.equal(s.pending(), false)
    s.back(8_000)
    assert.deepEqual(s.resyncs, [0, 8_000])
  })

  it('no flip since the last resync, nothing to do; a stopped pacer drops the owed resync', () => {
    const s = simulated(5_000)
    s.back(0)
    s.run(60_000)
    assert.deepEqual(s.resyncs, [0])
    s.back(61_000)
    s.down(62_000)
    s.back(62_100)
    assert.equal(s.pending(), true)
    s.pacer.stop()
    assert.equal(s.pending(), false)
    s.run(80_000)
    assert.deepEqual(s.resyncs, [0, 61_000])
  })
})
