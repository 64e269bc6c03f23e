import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fleetKeys } from './keys.ts'
import type { FleetRedis } from './redis.ts'
import { FleetUsage } from './usage.ts'
import { emptyTotals } from '../usage/ledger.ts'

/** A link that records each usage write: the day (ARGV[1]) and this process's pair fields. */
function recordingRedis(writes: { day: string; fields: Record<string, { requests: number }> }[]): FleetRedis {
  return {
    state: 'ok',
    url: 'redis://test',
    usable: () => true,
    latencyMs: () => undefined,
    run: (_s, _keys, args) => {
      const n = Number(args[2])
      const fields: Record<string, { requests: number }> = {}
      for (let i = 3; i < 3 + 2 * n; i += 2) fields[String(args[i])] = JSON.parse(String(args[i + 1]))
      writes.push({ day: String(args[0]), fields })
      return Promise.resolve(1)
    },
    publish: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    ready: () => Promise.resolve(),
    onRecovered: () => {},
    close: () => Promise.resolve(),
  }
}

const pair = (n: number) => ({ ...emptyTotals(), tier: 'default', target: 'p,m', requests: n })

describe('FleetUsage', () => {
  it('counts each request in the day of Redis’s clock, also across midnight and after a flush', async () => {
    const writes: { day: string; fields: Record<string, { requests: number }> }[] = []
    let t = Date.parse('2026-03-01T23:59:59.000Z')
    const u = new FleetUsage({
      redis: recordingRedis(writes),
      keys: fleetKeys('t:'),
      field: 'me',
      redisNow: () => t,
      flushMs: 3_600_000,
    })
    try {
      u.add(pair(1))
      u.add(pair(2))
      t += 999
      u.add(pair(4))
      t += 1 // 2026-03-02T00:00:00.000Z
      u.add(pair(8))
      await u.flush()
      const byDay = Object.fromEntries(writes.map((w) => [w.day, Object.values(w.fields)[0]?.requests]))
      assert.deepEqual(byDay, { '2026-03-01': 7, '2026-03-02': 8 })
      // A later request of the same day is written with the day's absolute total.
      writes.length = 0
      u.add(pair(16))
      await u.flush()
      assert.deepEqual(writes.map((w) => [w.day, Object.values(w.fields)[0]?.requests]), [['2026-03-02', 24]])
    } finally {
      u.close()
    }
  })
})
