/**
 * Fleet mode: the `previous_response_id` store in a real Redis (its own redis-server on a free
 * port). A conversation started on one instance continues on another; the store stays bounded.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { type Fleet, startFleet } from '../../src/fleet/fleet.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { silentLogger } from '../../src/log.ts'
import { memoryResponseStore, type StoredResponse } from '../../src/proxy/response-store.ts'
import type { JsonObject } from '../../src/formats/types.ts'
import { script } from '../../src/fleet/redis.ts'
import { fleetResponseStore } from '../../src/fleet/responses.ts'
import { configOf, testConfigFile } from '../integration/helpers.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'

const COUNT = script(`return redis.call('ZCARD', KEYS[1])`)

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const t0 = performance.now()
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const kept = (id: string, input: JsonObject[], output: JsonObject[] = []): StoredResponse => ({
  input,
  response: { id, object: 'response', output },
})

describe('previous_response_id across the fleet', () => {
  let redis: TestRedis
  const open: { close(): Promise<void> }[] = []
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    await redis.stop()
  })
  const fleet = async (keyPrefix: string, instanceId: string): Promise<Fleet> => {
    const f = await startFleet({
      redis: redis.url,
      keyPrefix,
      commandTimeoutMs: 1_000,
      heartbeatMs: 200,
      leaseTtlMs: 30_000,
      cluster: false,
      instanceId,
    }, { log: silentLogger, version: 'test' })
    open.push(f)
    return f
  }

  it('a conversation stored through one instance continues through another', async () => {
    const mock = createMockUpstream({})
    const seen: string[] = []
    const file = testConfigFile({
      Fleet: { redis: redis.url, keyPrefix: 'resp1:', heartbeatMs: 200, commandTimeoutMs: 1_000 },
    })
    const start = async (id: string): Promise<AppInstance> => {
      const f = { ...file, Fleet: { ...(file.Fleet as object), instanceId: id } }
      const i = await createInstance(configOf(f), {
        dataDir: ':memory:',
        fetch: async (req) => {
          seen.push(await req.clone().text())
          return mock.fetch(req)
        },
        log: silentLogger,
      })
      open.push(i)
      return i
    }
    const a = await start('a')
    const b = await start('b')
    const post = (i: AppInstance, body: unknown) =>
      i.app.request('/v1/responses', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const first = await post(a, { model: 'anth,mock-a:chunks=2', input: 'first question' })
    assert.equal(first.status, 200)
    const { id } = await first.json() as { id: string }
    // B has never seen this response: it reads it from Redis (the put follows the answer by a round trip).
    let second: Response | undefined
    await until('B continues the conversation', async () => {
      second = await post(b, { model: 'anth,mock-a:chunks=2', input: 'second question', previous_response_id: id })
      if (second.status !== 200) await second.text()
      return second.status === 200
    })
    const out = await second!.json() as { status: string; id: string }
    assert.equal(out.status, 'completed')
    const upstream = seen.at(-1) ?? ''
    assert.match(upstream, /first question/, 'the stored turn went upstream in front of the new one')
    assert.match(upstream, /second question/)
    // And back to A with B's response id (B's put, too, follows its answer by a round trip).
    let third: Response | undefined
    await until("A continues B's turn", async () => {
      third = await post(a, { model: 'anth,mock-a', input: 'third', previous_response_id: out.id })
      if (third.status !== 200) await third.text()
      return third.status === 200
    })
    assert.equal(third!.status, 200)
    await third!.text()
    const unknown = await post(b, { model: 'anth,mock-a', input: 'x', previous_response_id: 'resp_unknown' })
    assert.equal(unknown.status, 400)
    await unknown.text()
  })

  it('Redis keeps at most maxEntries and maxBytes (oldest go first), skips an oversized entry, and expires', async () => {
    const f = await fleet('resp2:', 'x')
    const local = () => memoryResponseStore({ now: Date.now, maxEntries: 1 })
    const writer = fleetResponseStore({
      redis: f.redis,
      keys: f.keys,
      local: local(),
      maxEntries: 3,
      maxBytes: 10_000,
      maxEntryBytes: 2_000,
    })
    const reader = fleetResponseStore({ redis: f.redis, keys: f.keys, local: local() })
    for (let i = 0; i < 5; i++) await writer.put(kept(`resp_${i}`, [{ i }]))
    assert.equal(await f.redis.run(COUNT, [f.keys.responseIndex], []), 3)
    assert.equal(await reader.get('resp_0'), undefined, 'the oldest went first')
    assert.deepEqual(await reader.get('resp_4'), kept('resp_4', [{ i: 4 }]))
    await writer.put(kept('resp_big', [{ text: 'x'.repeat(3_000) }]))
    assert.equal(await reader.get('resp_big'), undefined, 'over the entry cap: kept on its own instance only')
    for (let i = 0; i < 3; i++) await writer.put(kept(`resp_kb${i}`, [{ text: 'y'.repeat(1_800) }]))
    await writer.put(kept('resp_last', [{ text: 'z'.repeat(1_800) }]))
    assert.ok(Number(await f.redis.run(COUNT, [f.keys.responseIndex], [])) <= 3)
    assert.equal(await reader.get('resp_kb0'), undefined, 'past the byte bound the oldest go')
    assert.ok(await reader.get('resp_last'))
    const short = fleetResponseStore({ redis: f.redis, keys: f.keys, local: local(), ttlMs: 100 })
    await short.put(kept('resp_short', [{ a: 1 }]))
    await until('expired', async () => (await reader.get('resp_short')) === undefined)
  })

  it('finds items, deletes for every instance, and reads the bare conversations an earlier version kept', async () => {
    const f = await fleet('resp3:', 'y')
    const g = await fleet('resp3:', 'z')
    const aLocal = memoryResponseStore({ now: Date.now })
    const a = fleetResponseStore({ redis: f.redis, keys: f.keys, local: aLocal })
    const b = fleetResponseStore({ redis: g.redis, keys: g.keys, local: memoryResponseStore({ now: Date.now }) })
    const call = { type: 'function_call', id: 'fc_9', call_id: 'c9', name: 'f', arguments: '{}' }
    const nine = { ...kept('resp_9', [{ type: 'message', role: 'user', content: 'q' }], [call]), owner: 'team-a' }
    await a.put(nine)
    assert.deepEqual(await b.get('resp_9'), nine, 'read through Redis whole, the key it belongs to included')
    assert.equal(await b.itemOwner('fc_9'), 'resp_9', 'another instance finds the item through Redis')
    assert.equal(await b.itemOwner('item_9_0'), 'resp_9', 'and an id-less input item by its derived id')
    assert.equal(await b.itemOwner('fc_none'), undefined)
    // Deleted through b: gone from Redis and, announced, from a's own copy.
    assert.equal(await b.delete('resp_9'), true)
    await until('a forgets its copy', async () => (await aLocal.get('resp_9')) === undefined)
    assert.equal(await a.get('resp_9'), undefined)
    assert.equal(await b.delete('resp_9'), false)
    // An entry kept by an earlier version: its conversation as a bare array.
    const SET = script(`return redis.call('SET', KEYS[1], ARGV[1])`)
    await f.redis.run(SET, [f.keys.response('resp_old')], [JSON.stringify([{ type: 'message', content: 'old' }])])
    assert.deepEqual((await b.get('resp_old'))?.input, [{ type: 'message', content: 'old' }])
  })
})
