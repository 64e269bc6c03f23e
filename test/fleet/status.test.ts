import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fleetLines } from '../../src/cli/status.ts'

describe('switchyard status: the fleet lines', () => {
  it('prints nothing without fleet mode', () => {
    assert.deepEqual(fleetLines(undefined), [])
  })

  it('prints the state, this instance, Redis (redacted) and every member with its TTL', () => {
    const lines = fleetLines({
      instance_id: 'a',
      state: 'degraded',
      redis: 'redis://:***@10.0.0.5:6379/0',
      redis_latency_ms: null,
      members: [{ id: 'a', ttl_ms: 2_400, self: true, version: '0.1.0' }, { id: 'b', ttl_ms: 1_100.4, self: false }],
    })
    assert.match(
      lines[0]!,
      /^fleet: degraded \(Redis unreachable: serving on local state\), instance a, redis redis:\/\/:\*\*\*@10\.0\.0\.5:6379\/0 \(-\), 2 members$/,
    )
    assert.match(lines[1]!, /^ {2}\* a +ttl 2400 ms {2}v0\.1\.0$/)
    assert.match(lines[2]!, /^ {4}b +ttl 1100 ms$/)
  })
})
