import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { JsonObject } from '../formats/types.ts'
import {
  conversationOf,
  findItem,
  inputItemId,
  memoryResponseStore,
  parseInputItemId,
  type StoredResponse,
} from './response-store.ts'

const answer = (id: string, input: JsonObject[], output: JsonObject[] = []): StoredResponse => ({
  input,
  response: { id, object: 'response', status: 'completed', output },
})

describe('memoryResponseStore', () => {
  it('keeps answers until their TTL, then forgets them', async () => {
    let now = 0
    const s = memoryResponseStore({ now: () => now, ttlMs: 1000 })
    const a = answer('resp_1', [{ type: 'message', role: 'user', content: 'hi' }])
    await s.put(a)
    assert.deepEqual(await s.get('resp_1'), a)
    now = 1001
    assert.equal(await s.get('resp_1'), undefined)
    assert.equal(s.size, 0)
  })

  it('is bounded in entries and bytes: the oldest entries go first; an entry over the byte bound is not kept', async () => {
    const s = memoryResponseStore({ now: () => 0, maxEntries: 3, maxBytes: 400 })
    for (let i = 0; i < 5; i++) await s.put(answer(`r${i}`, [{ i }]))
    assert.equal(s.size, 3)
    assert.equal(await s.get('r0'), undefined)
    assert.deepEqual((await s.get('r4'))?.input, [{ i: 4 }])
    await s.put(answer('big', [{ text: 'x'.repeat(500) }]))
    assert.equal(await s.get('big'), undefined)
    await s.put(answer('mid', [{ text: 'y'.repeat(250) }]))
    assert.ok(s.bytes <= 400, String(s.bytes))
    assert.ok(await s.get('mid'))
  })

  it('deletes an answer once: a second delete, and a get after it, find nothing', async () => {
    const s = memoryResponseStore({ now: () => 0 })
    await s.put(answer('resp_d', [{ type: 'message', role: 'user', content: 'x' }]))
    assert.equal(await s.delete('resp_d'), true)
    assert.equal(await s.get('resp_d'), undefined)
    assert.equal(await s.delete('resp_d'), false)
    assert.equal(s.bytes, 0)
  })

  it("finds an item's answer by the item's id, the latest answer holding it first, and forgets it with its answers", async () => {
    const s = memoryResponseStore({ now: () => 0, maxEntries: 2 })
    const call = { type: 'function_call', id: 'fc_1', call_id: 'c1', name: 'f', arguments: '{}' }
    await s.put(answer('resp_a', [{ type: 'message', role: 'user', content: 'q' }], [call]))
    assert.equal(await s.itemOwner('fc_1'), 'resp_a')
    // A follow-up repeats the earlier conversation in its input.
    const follow = answer('resp_b', [...conversationOf((await s.get('resp_a'))!), { type: 'message', content: 'n' }])
    await s.put(follow)
    assert.equal(await s.itemOwner('fc_1'), 'resp_b')
    await s.delete('resp_a')
    assert.equal(await s.itemOwner('fc_1'), 'resp_b', 'the later answer still holds it')
    await s.delete('resp_b')
    assert.equal(await s.itemOwner('fc_1'), undefined)
    // Derived ids of id-less input items name their answer.
    await s.put(answer('resp_c', [{ type: 'message', role: 'user', content: 'hello' }]))
    assert.equal(await s.itemOwner(inputItemId('resp_c', 0)), 'resp_c')
    assert.equal(await s.itemOwner(inputItemId('resp_gone', 0)), undefined)
    // Evicted by the entry bound: its items go with it.
    await s.put(answer('resp_e', [], [{ type: 'message', id: 'msg_e', content: [] }]))
    await s.put(answer('resp_f', []))
    await s.put(answer('resp_g', []))
    assert.equal(await s.itemOwner('msg_e'), undefined)
  })
})

describe('stored items', () => {
  it('findItem reads output ids, client ids and derived ids of id-less input items', () => {
    const e = answer('resp_Z9', [{ type: 'message', role: 'user', content: 'a' }, {
      type: 'message',
      id: 'msg_c',
      content: 'b',
    }], [
      { type: 'message', id: 'msg_o', content: [] },
    ])
    assert.equal(findItem(e, 'msg_o')?.id, 'msg_o')
    assert.equal(findItem(e, 'msg_c')?.content, 'b')
    assert.equal(findItem(e, inputItemId('resp_Z9', 0))?.content, 'a')
    assert.equal(findItem(e, inputItemId('resp_other', 0)), undefined)
    assert.equal(findItem(e, 'msg_none'), undefined)
  })

  it('a derived input item id parses back to its answer and index, ids with underscores included', () => {
    assert.deepEqual(parseInputItemId(inputItemId('resp_a_b_c', 12)), { responseId: 'resp_a_b_c', index: 12 })
    assert.equal(parseInputItemId('msg_123'), undefined)
  })
})
