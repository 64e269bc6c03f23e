import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { StreamWatchdog, type WatchedStream } from './watchdog.ts'

/** A stream that records what the watchdog did to it. */
function stream(now: number, seen: string[]): WatchedStream {
  return {
    lastUpstreamAt: now,
    lastClientAt: now,
    idleMs: 1_000,
    deadlineAt: now + 10_000,
    onTimeout: (phase) => seen.push(`timeout ${phase}`),
    ping: () => seen.push('ping'),
    abort: (message) => seen.push(`abort ${message}`),
  }
}

describe('StreamWatchdog', () => {
  it('fires idle and total timeouts and pings a quiet client, on its clock', () => {
    let now = 0
    const w = new StreamWatchdog({ now: () => now, pingMs: 500 })
    const seen: string[] = []
    const s = stream(0, seen)
    w.watch(s)
    now = 600
    s.lastUpstreamAt = 600
    w.tick()
    now = 1_700
    w.tick()
    now = 10_000
    w.tick()
    w.unwatch(s)
    assert.deepEqual(seen, ['ping', 'timeout idle', 'timeout total'])
    assert.equal(w.size, 0)
  })

  it('abortAll ends the open streams, and a stream opened after it (a request still being set up) at once', () => {
    const w = new StreamWatchdog({ now: () => 0 })
    const early: string[] = []
    const late: string[] = []
    w.watch(stream(0, early))
    w.abortAll('shutting down')
    assert.deepEqual(early, ['abort shutting down'])
    w.watch(stream(0, late))
    assert.deepEqual(late, ['abort shutting down'])
    w.stop()
  })
})
