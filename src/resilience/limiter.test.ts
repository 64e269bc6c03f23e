import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ProviderLimiter } from './limiter.ts'

describe('ProviderLimiter', () => {
  it('admits providers without limits', () => {
    const l = new ProviderLimiter({})
    assert.equal(l.tryAcquire('free', 1e9, 0).ok, true)
  })

  it('enforces rpm and says when to come back', () => {
    const l = new ProviderLimiter({ p: { rpm: 2 } })
    assert.equal(l.tryAcquire('p', 0, 0).ok, true)
    assert.equal(l.tryAcquire('p', 0, 0).ok, true)
    const denied = l.tryAcquire('p', 0, 0)
    assert.equal(denied.ok, false)
    assert.equal(!denied.ok && denied.reason, 'rpm')
    assert.ok(!denied.ok && Math.abs(denied.retryInMs - 30_000) < 1e-6)
    assert.equal(l.tryAcquire('p', 0, 30_000).ok, true)
  })

  it('caps concurrency until a slot is released, and release is idempotent', () => {
    const l = new ProviderLimiter(new Map([['p', { maxConcurrent: 1 }]]))
    const a = l.tryAcquire('p', 0, 0)
    const b = l.tryAcquire('p', 0, 0)
    assert.equal(!b.ok && b.reason, 'concurrency')
    if (a.ok) {
      a.release()
      a.release()
    }
    assert.equal(l.inFlight('p'), 0)
    assert.equal(l.tryAcquire('p', 0, 0).ok, true)
  })

  it('reserves estimated tokens for TPM and settles them with the reported usage', () => {
    const l = new ProviderLimiter({ p: { tpm: 1_000 } })
    const a = l.tryAcquire('p', 800, 0)
    const denied = l.tryAcquire('p', 500, 0)
    assert.equal(!denied.ok && denied.reason, 'tpm')
    if (a.ok) a.release(100) // used far less than estimated: 700 tokens come back
    assert.equal(l.tryAcquire('p', 500, 0).ok, true)
    assert.equal(l.peek('p', 500, 0)?.reason, 'tpm')
  })

  it('lists the blocked providers for the plan view', () => {
    const l = new ProviderLimiter({ p: { rpm: 1 }, q: { maxConcurrent: 5 } })
    l.tryAcquire('p', 0, 0)
    assert.deepEqual([...l.blocked(['p', 'q', 'free'], 0, 0)].map(([k, v]) => [k, v.reason]), [['p', 'rpm']])
  })

  it("a limiter built on another's state (a reload) goes on from its buckets and in-flight counts", () => {
    const state = new Map()
    const before = new ProviderLimiter({ p: { rpm: 2, maxConcurrent: 1 } }, state)
    const open = before.tryAcquire('p', 0, 0)
    assert.equal(open.ok, true)
    assert.equal(before.tryAcquire('p', 0, 0).ok, false)
    // The reloaded config adds a tpm limit and halves nothing else.
    const after = new ProviderLimiter({ p: { rpm: 2, maxConcurrent: 1, tpm: 100 } }, state)
    assert.deepEqual(after.budget('p', 0), {
      rpm: { limit: 2, left: 1 },
      tpm: { limit: 100, left: 100 },
      concurrency: { limit: 1, left: 0 },
    })
    if (open.ok) open.release()
    assert.equal(after.inFlight('p'), 0, "the old limiter's admission is released where the new one sees it")
    assert.equal(after.tryAcquire('p', 10, 0).ok, true)
    assert.equal(after.tryAcquire('p', 10, 0).ok, false, 'rpm: two in the minute, one of them before the reload')
    // A smaller limit clamps what is left.
    assert.equal(new ProviderLimiter({ p: { tpm: 50 } }, state).budget('p', 0)?.tpm?.left, 50)
  })
})
