import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type CacheScript, GET_SCRIPT, redisCacheStore, SET_SCRIPT } from './redis-store.ts'
import type { CacheEntry } from './store.ts'

/** Redis as far as the two scripts go: GET, and SET with PX on a clock the test moves. */
function fakeRedis() {
  const data = new Map<string, { value: string; expiresAt: number }>()
  const link = { now: 0, up: true, calls: 0 }
  return {
    link,
    data,
    usable: () => link.up,
    run: async (s: CacheScript, keys: readonly string[], args: readonly (string | number)[]) => {
      link.calls++
      if (!link.up) return undefined
      const k = keys[0]!
      if (s.sha === GET_SCRIPT.sha) {
        const v = data.get(k)
        return v && v.expiresAt > link.now ? v.value : null
      }
      assert.equal(s.sha, SET_SCRIPT.sha)
      data.set(k, { value: String(args[0]), expiresAt: link.now + Number(args[1]) })
      return 'OK'
    },
  }
}

const entry: CacheEntry = {
  format: 'openai',
  body: { id: 'c', choices: [] },
  target: 'a,x',
  storedAt: 0,
  usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0 },
}

describe('redisCacheStore', () => {
  it('round-trips an entry under the fleet prefix, with Redis doing the expiry', async () => {
    const r = fakeRedis()
    const s = redisCacheStore(r, { prefix: 'sy:', maxBytes: 1e6 })
    await s.set('abc', entry, 1000, 0)
    assert.deepEqual([...r.data.keys()], ['sy:cache:abc'])
    assert.deepEqual(await s.get('abc', 0), entry)
    r.link.now = 1000
    assert.equal(await s.get('abc', 1000), undefined)
  })

  it('a degraded link is a miss and a skipped store, never an error', async () => {
    const r = fakeRedis()
    const s = redisCacheStore(r, { prefix: 'sy:', maxBytes: 1e6 })
    r.link.up = false
    await s.set('abc', entry, 1000, 0)
    assert.equal(await s.get('abc', 0), undefined)
    assert.equal(r.link.calls, 0, 'an unusable link is not even tried')
    const failing = redisCacheStore({ usable: () => true, run: () => Promise.reject(new Error('boom')) }, {
      prefix: '',
      maxBytes: 1e6,
    })
    await failing.set('k', entry, 1000, 0)
    assert.equal(await failing.get('k', 0), undefined)
  })

  it('does not store an entry over maxBytes', async () => {
    const r = fakeRedis()
    await redisCacheStore(r, { prefix: '', maxBytes: 10 }).set('k', entry, 1000, 0)
    assert.equal(r.data.size, 0)
  })
})
