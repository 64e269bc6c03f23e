import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bucketFull, bucketRefund, bucketSettle, bucketTake, perMinute } from './bucket.ts'
import type { Bucket, BucketParams } from './bucket.ts'
import { nonNeg } from '../../test/arbitraries/routing.ts'

describe('token bucket', () => {
  const rpm = perMinute(60) // 1 per second

  it('admits up to capacity, then says how long to wait', () => {
    let b = bucketFull(0, rpm)
    for (let i = 0; i < 60; i++) b = bucketTake(b, 1, 0, rpm).bucket
    const denied = bucketTake(b, 1, 0, rpm)
    assert.equal(denied.ok, false)
    assert.ok(Math.abs(denied.waitMs - 1_000) < 1e-6)
    assert.equal(bucketTake(b, 1, 1_000, rpm).ok, true)
  })

  it('settles a TPM reservation with the reported usage', () => {
    const tpm = perMinute(1_000)
    const reserved = bucketTake(bucketFull(0, tpm), 600, 0, tpm).bucket
    assert.equal(bucketSettle(reserved, 600, 200, tpm).tokens, 800)
    assert.equal(bucketSettle(reserved, 600, 900, tpm).tokens, 100)
    assert.equal(bucketSettle(reserved, 600, 5_000, tpm).tokens, 0)
  })

  it('lets a request larger than capacity through a full bucket', () => {
    assert.equal(bucketTake(bucketFull(0, rpm), 500, 0, rpm).ok, true)
  })

  const opArb = fc.oneof(
    fc.record({ op: fc.constant('take' as const), n: nonNeg(2_000), dt: fc.nat(5_000) }),
    fc.record({ op: fc.constant('refund' as const), n: nonNeg(2_000), dt: fc.nat(5_000) }),
    fc.record({ op: fc.constant('settle' as const), n: nonNeg(2_000), dt: fc.nat(5_000) }),
  )
  const paramsArb = fc.record({ capacity: nonNeg(1_000), refillPerMs: nonNeg(10) })

  it('property: the bucket is never negative nor above capacity', () => {
    fc.assert(fc.property(paramsArb, fc.array(opArb, { maxLength: 60 }), (p: BucketParams, ops) => {
      let b: Bucket = bucketFull(0, p)
      let now = 0
      for (const o of ops) {
        now += o.dt
        if (o.op === 'take') b = bucketTake(b, o.n, now, p).bucket
        else if (o.op === 'refund') b = bucketRefund(b, o.n, p)
        else b = bucketSettle(b, o.n / 2, o.n, p)
        if (b.tokens < 0 || b.tokens > p.capacity) return false
      }
      return true
    }))
  })

  it('property: a refused take keeps the tokens and waits at least 1 ms, finitely, while refilling', () => {
    fc.assert(
      fc.property(
        fc.record({
          capacity: fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
          refillPerMs: fc.double({ min: 1e-6, max: 10, noNaN: true }),
        }),
        nonNeg(2_000),
        (p, cost) => {
          const r = bucketTake({ tokens: 0, at: 0 }, cost, 0, p)
          return r.ok
            ? Math.min(cost, p.capacity) === 0
            : r.bucket.tokens === 0 && r.waitMs >= 1 && Number.isFinite(r.waitMs)
        },
      ),
    )
  })
})
