/**
 * Redis Cluster's rule for scripts: every key one call touches sits in one hash slot. For any
 * key prefix the config accepts (no braces or spaces: config.test.ts) and any provider, target,
 * key, response or day name, each key set a fleet script is called with (and each key a script
 * derives from its declared ones) shares one slot.
 * cluster.test.ts checks the same on the calls a real cluster received.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fleetKeys } from '../../src/fleet/keys.ts'
import { keySlot } from './slot.ts'

/** The key sets the scripts of src/fleet/ are called with, keys derived inside a script included. */
function keySets(prefix: string, name: string, day: string): string[][] {
  const k = fleetKeys(prefix)
  const lim = k.limits(name)
  const dedup = k.dedup(name)
  const apiKey = k.apiKey(name)
  return [
    [lim.rpm, lim.tpm, lim.slots], // limiter: admission
    [lim.tpm, lim.slots], // limiter: release
    [k.members, k.memberExpiry], // heartbeat, leave
    [k.breakers, k.holds], // board: snapshot
    [k.breakers, k.probe(name), k.events], // board: open, close
    [k.holds, k.events], // board: hold
    [k.usageDays, k.usage(day), k.keyUsage(day)], // usage: write
    [k.usageDays, k.usage('') + day, k.keyUsage('') + day], // usage: read (days derived in the script)
    [`${dedup}:answer`, `${dedup}:lead`], // dedup: store, look
    [apiKey.spend, apiKey.rpm, `${apiKey.spend}:${day}`], // named keys: admission (day derived in the script)
    [k.responseIndex, `${k.responseIndex}:sizes`, k.response(name)], // responses: put (others derived from the prefix)
    [k.leader, k.perfBudget, k.perfResults], // one key each; together they need not share, but do
  ]
}

describe('fleet keys and Redis Cluster slots', () => {
  it('keySlot is CRC16/XMODEM mod 16384 of the key or its first non-empty {tag}', () => {
    assert.equal(keySlot('123456789'), 0x31c3 % 16384)
    assert.equal(keySlot('foo'), 12182)
    assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'))
    assert.notEqual(keySlot('foo{}{bar}'), keySlot('bar'), 'an empty first tag: the whole key is hashed')
    assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'))
  })

  it('every key set a script is called with is in one slot, whatever the prefix and names', () => {
    fc.assert(
      fc.property(
        // `Fleet.keyPrefix` as the config takes it: a prefix holding "{}" would hash whole keys.
        fc.stringMatching(/^[^{}\s]{1,12}$/),
        fc.string({ maxLength: 24 }),
        fc.constantFrom('2026-11-30', '2027-01-01'),
        (prefix, name, day) => {
          for (const keys of keySets(prefix, name, day)) {
            assert.equal(new Set(keys.map(keySlot)).size, 1, JSON.stringify(keys))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('names with braces cannot move a key out of its group', () => {
    const k = fleetKeys('sy:')
    for (const name of ['}', '{', '{x}', 'a}b{c', '}{']) {
      assert.equal(keySlot(k.limits(name).rpm), keySlot(k.limits(name).slots))
      assert.equal(keySlot(k.probe(name)), keySlot(k.breakers))
      assert.equal(keySlot(k.response(name)), keySlot(k.responseIndex))
      assert.equal(keySlot(k.alert(name, name)), keySlot(k.alert('breaker_open', 'p,m')))
    }
  })
})
