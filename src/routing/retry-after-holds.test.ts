import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DEFAULT_MAX_HOLD_MS, RetryAfterHolds, retryAfterOf } from './retry-after-holds.ts'

const limited = (ms: number) => ({ kind: 'rate_limited' as const, target: 't', retryAfterMs: ms })

describe('RetryAfterHolds', () => {
  it('holds a target for the wait its error asked for, then frees it', () => {
    const h = new RetryAfterHolds()
    h.note('a', limited(3_000), 1_000)
    assert.equal(h.remaining('a', 1_000), 3_000)
    assert.equal(h.remaining('a', 2_500), 1_500)
    assert.equal(h.remaining('a', 4_000), 0)
    assert.equal(h.remaining('b', 1_000), 0)
  })

  it('a 503 with retry-after holds too; errors without a wait do not', () => {
    const h = new RetryAfterHolds()
    h.note('a', { kind: 'upstream_status', target: 'a', status: 503, message: 'busy', retryAfterMs: 500 }, 0)
    h.note('b', { kind: 'upstream_status', target: 'b', status: 500, message: 'boom' }, 0)
    h.note('c', { kind: 'timeout', target: 'c', phase: 'first_token' }, 0)
    assert.deepEqual(['a', 'b', 'c'].map((k) => h.remaining(k, 0)), [500, 0, 0])
  })

  it('a shorter later wait does not shorten an existing hold', () => {
    const h = new RetryAfterHolds()
    h.note('a', limited(10_000), 0)
    h.note('a', limited(1_000), 100)
    assert.equal(h.remaining('a', 5_000), 5_000)
  })

  it('a retry that waited exactly the requested time (a timer firing a millisecond early) is let through', () => {
    const h = new RetryAfterHolds()
    h.note('a', limited(2_000), 0)
    assert.equal(h.remaining('a', 1_990), 10)
    assert.equal(h.remaining('a', 1_999), 0)
  })

  it('retryAfterOf reads rate limits and statuses only', () => {
    assert.equal(retryAfterOf(limited(7)), 7)
    assert.equal(retryAfterOf({ kind: 'circuit_open', target: 't', retryInMs: 9 }), undefined)
  })

  it('last(): is a permutation that keeps free targets first in their order, held ones after in theirs', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (keys, heldFlags) => {
          const h = new RetryAfterHolds()
          keys.forEach((k, i) => {
            if (heldFlags[i]) h.note(k, limited(1_000), 0)
          })
          const plan = keys.map((key) => ({ key }))
          const out = h.last(plan, 10).map((t) => t.key)
          assert.deepEqual([...out].sort(), [...keys].sort())
          const free = keys.filter((_, i) => !heldFlags[i])
          const held = keys.filter((_, i) => heldFlags[i])
          assert.deepEqual(out, [...free, ...held])
        },
      ),
    )
  })

  it('law: no Retry-After, however large, holds a target longer than the configured maximum', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: 0, max: 1e300, noNaN: true }),
          fc.constant(99999999999),
          fc.constant(Number.POSITIVE_INFINITY),
        ),
        fc.integer({ min: 1, max: 3_600_000 }),
        (asked, maxMs) => {
          const h = new RetryAfterHolds({ maxMs })
          h.note('t', limited(asked), 1_000)
          assert.ok(h.remaining('t', 1_000) <= maxMs)
          assert.equal(h.remaining('t', 1_000 + maxMs + 1), 0)
        },
      ),
      { seed: 11, numRuns: 200 },
    )
    const d = new RetryAfterHolds()
    d.note('t', limited(99999999999), 0)
    assert.equal(d.remaining('t', 0), DEFAULT_MAX_HOLD_MS)
  })

  it("holds built on another's times (a reload) go on from them, under the new cap", () => {
    const until = new Map<string, number>()
    new RetryAfterHolds({ until }).note('t', limited(30_000), 0)
    const after = new RetryAfterHolds({ until, maxMs: 1_000 })
    assert.equal(after.remaining('t', 10_000), 20_000, 'a hold already granted keeps its end')
    after.note('u', limited(30_000), 0)
    assert.equal(after.remaining('u', 0), 1_000, 'a new one is capped by the new config')
  })
})
