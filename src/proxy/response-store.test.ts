import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { memoryResponseStore } from './response-store.ts'

describe('memoryResponseStore', () => {
  it('keeps conversations until their TTL, then forgets them', async () => {
    let now = 0
    const s = memoryResponseStore({ now: () => now, ttlMs: 1000 })
    await s.put('resp_1', [{ type: 'message', role: 'user', content: 'hi' }])
    assert.deepEqual(await s.get('resp_1'), [{ type: 'message', role: 'user', content: 'hi' }])
    now = 1001
    assert.equal(await s.get('resp_1'), undefined)
    assert.equal(s.size, 0)
  })

  it('is bounded in entries and bytes: the oldest entries go first; an entry over the byte bound is not kept', async () => {
    const s = memoryResponseStore({ now: () => 0, maxEntries: 3, maxBytes: 200 })
    for (let i = 0; i < 5; i++) await s.put(`r${i}`, [{ i }])
    assert.equal(s.size, 3)
    assert.equal(await s.get('r0'), undefined)
    assert.deepEqual(await s.get('r4'), [{ i: 4 }])
    await s.put('big', [{ text: 'x'.repeat(500) }])
    assert.equal(await s.get('big'), undefined)
    await s.put('mid', [{ text: 'y'.repeat(150) }])
    assert.ok(s.bytes <= 200, String(s.bytes))
    assert.ok(await s.get('mid'))
  })
})
