import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bodyHash, cacheKey, canonicalJson, identityOf } from './key.ts'
import { type CacheEntry, entryBytes, MemoryCacheStore } from './store.ts'

const entry = (text: string): CacheEntry => ({
  format: 'anthropic',
  body: { content: [{ type: 'text', text }] },
  target: 'a,x',
  storedAt: 0,
})

describe('MemoryCacheStore', () => {
  it('expires entries after their TTL', async () => {
    const s = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1e6 })
    await s.set('k', entry('hi'), 1000, 0)
    assert.ok(await s.get('k', 999))
    assert.equal(await s.get('k', 1000), undefined)
    assert.equal(s.size, 0)
  })

  it('evicts the least recently used first', async () => {
    const s = new MemoryCacheStore({ maxEntries: 2, maxBytes: 1e6 })
    await s.set('a', entry('a'), 1e6, 0)
    await s.set('b', entry('b'), 1e6, 0)
    await s.get('a', 1)
    await s.set('c', entry('c'), 1e6, 2)
    assert.ok(await s.get('a', 3))
    assert.equal(await s.get('b', 3), undefined)
  })

  it('law: never holds more than maxEntries or maxBytes, and the byte count stays exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.string({ maxLength: 300 })), { maxLength: 40 }),
        async (ops) => {
          const s = new MemoryCacheStore({ maxEntries: 3, maxBytes: 700 })
          const live = new Map<string, CacheEntry>()
          for (const [k, text] of ops) {
            const e = entry(text)
            await s.set(k, e, 1e6, 0)
            live.set(k, e)
            assert.ok(s.size <= 3 && s.bytes <= 700)
          }
          let sum = 0
          for (const [k, e] of live) if (await s.get(k, 1)) sum += entryBytes(e)
          assert.equal(s.bytes, sum)
        },
      ),
      { seed: 31, numRuns: 150 },
    )
  })
})

describe('cache key', () => {
  it('law: key order and delivery fields do not change the hash; content does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })), (d) => {
        const reversed = Object.fromEntries(Object.entries(d).reverse())
        assert.equal(canonicalJson(d), canonicalJson(reversed))
        const base = { ...d, messages: [{ role: 'user', content: 'x' }] }
        assert.equal(
          bodyHash({ ...base, stream: true, stream_options: { include_usage: true }, metadata: { user_id: 'u' } }),
          bodyHash({ ...base, stream: false }),
        )
        assert.notEqual(bodyHash(base), bodyHash({ ...base, messages: [{ role: 'user', content: 'y' }] }))
      }),
      { seed: 32, numRuns: 200 },
    )
  })

  it('a "__proto__" field is part of the hash like any other', () => {
    const a = JSON.parse('{"messages":[],"__proto__":{"x":1}}') as Record<string, unknown>
    const b = JSON.parse('{"messages":[],"__proto__":{"x":2}}') as Record<string, unknown>
    assert.notEqual(bodyHash(a), bodyHash(b))
  })

  it('identity: the named key, else a hash of the presented key, never the key itself', () => {
    const h = new Headers({ authorization: 'Bearer sk-secret' })
    assert.equal(identityOf(h, 'team'), 'name:team')
    assert.doesNotMatch(identityOf(h, undefined), /sk-secret/)
    assert.equal(identityOf(h, undefined), identityOf(new Headers({ 'x-api-key': 'sk-secret' }), undefined))
    assert.notEqual(identityOf(h, undefined), identityOf(new Headers({ 'x-api-key': 'sk-other' }), undefined))
    const k = (identity: string) => cacheKey({ format: 'openai', identity, target: 'a,x', bodyHash: 'h' })
    assert.notEqual(k('name:a'), k('name:b'))
  })
})
