import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Hono } from 'hono'
import { type AuditEntry, ClientBuckets, clientFingerprint, isAudited, managementGuard } from './rate-limit.ts'

describe('ClientBuckets', () => {
  it('law: over any window no client gets more than burst + elapsed × rate requests', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 120 }),
      fc.array(fc.record({ client: fc.constantFrom('a', 'b', 'c'), gapMs: fc.integer({ min: 0, max: 3_000 }) }), {
        maxLength: 300,
      }),
      (limit, calls) => {
        const b = new ClientBuckets(limit, 100)
        let t = 0
        const granted = new Map<string, number>()
        for (const c of calls) {
          t += c.gapMs
          if (b.take(c.client, t).ok) granted.set(c.client, (granted.get(c.client) ?? 0) + 1)
        }
        for (const n of granted.values()) {
          assert.ok(n <= limit + (t * limit) / 60_000 + 1e-9, `${n} granted with limit ${limit} over ${t} ms`)
        }
      },
    ))
  })

  // The wait is a float (1 / rate): rounded up to whole ms, as Retry-After rounds it up to seconds.
  it('law: a refusal says how long to wait, and after that wait (rounded up to a ms) the next take succeeds', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), (limit) => {
      const b = new ClientBuckets(limit, 10)
      for (let i = 0; i < limit; i++) assert.ok(b.take('k', 0).ok)
      const refused = b.take('k', 0)
      assert.equal(refused.ok, false)
      assert.ok(refused.waitMs > 0)
      assert.ok(b.take('k', Math.ceil(refused.waitMs)).ok)
    }))
  })

  it('clients are independent, and the table forgets the least recently seen beyond its bound', () => {
    const b = new ClientBuckets(1, 2)
    assert.ok(b.take('a', 0).ok)
    assert.ok(b.take('b', 0).ok)
    assert.equal(b.take('a', 0).ok, false)
    assert.ok(b.take('c', 0).ok) // evicts b (a was seen more recently)
    assert.equal(b.size, 2)
    assert.ok(b.take('b', 0).ok, 'b starts over with a full bucket')
  })
})

describe('clientFingerprint', () => {
  it('names the key by a short hash, the same for both headers, never the key itself', () => {
    const a = clientFingerprint(new Headers({ 'x-api-key': 'sk-secret-value' }))
    assert.match(a, /^key:[0-9a-f]{12}$/)
    assert.equal(clientFingerprint(new Headers({ authorization: 'Bearer sk-secret-value' })), a)
    assert.notEqual(clientFingerprint(new Headers({ 'x-api-key': 'sk-other' })), a)
    assert.equal(clientFingerprint(new Headers()), 'anonymous')
  })
})

describe('managementGuard', () => {
  const guarded = (perMinute: number) => {
    const lines: AuditEntry[] = []
    const app = new Hono()
    app.use('/api/*', managementGuard({ now: () => 1_700_000_000_000, perMinute, audit: (e) => lines.push(e) }))
    app.all('/api/*', (c) => c.json({ ok: true }))
    const call = (method: string) => app.request('/api/config', { method, headers: { 'x-api-key': 'k' } })
    return { lines, call }
  }

  it('audits changes, not reads: polling GETs write no line, a PUT, POST or DELETE writes one each', async () => {
    const { lines, call } = guarded(60)
    for (let i = 0; i < 10; i++) assert.equal((await call('GET')).status, 200)
    await call('HEAD')
    assert.equal(lines.length, 0)
    for (const m of ['PUT', 'POST', 'DELETE']) await call(m)
    assert.deepEqual(lines.map((l) => `${l.action} ${l.status}`), [
      'PUT /api/config 200',
      'POST /api/config 200',
      'DELETE /api/config 200',
    ])
    assert.ok(lines.every((l) => /^key:[0-9a-f]{12}$/.test(l.actor)))
  })

  it('keeps the rate limit for reads: they use up the bucket and a change after that is refused and audited as a 429', async () => {
    const { lines, call } = guarded(3)
    for (let i = 0; i < 3; i++) assert.equal((await call('GET')).status, 200)
    assert.equal((await call('GET')).status, 429)
    assert.equal(lines.length, 0, 'a refused read is not audited either')
    assert.equal((await call('POST')).status, 429)
    assert.deepEqual(lines.map((l) => `${l.action} ${l.status}`), ['POST /api/config 429'])
  })

  it('isAudited: only GET, HEAD and OPTIONS are reads, in any case', () => {
    for (const m of ['GET', 'get', 'HEAD', 'OPTIONS']) assert.equal(isAudited(m), false)
    for (const m of ['PUT', 'POST', 'DELETE', 'PATCH', 'post']) assert.equal(isAudited(m), true)
  })
})
