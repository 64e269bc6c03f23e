import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Config } from '../config/types.ts'
import { JSON_FLOOR_TOKENS_PER_SEC, timeoutsFor, timerSleep } from './attempt.ts'

const deps = (firstTokenTimeoutMs: number, connectTimeoutMs: number) => ({
  config: { router: { firstTokenTimeoutMs, connectTimeoutMs } } as unknown as Config,
})

describe('timeoutsFor', () => {
  it('a stream with time to spare is bounded by firstTokenTimeoutMs and connectTimeoutMs', () => {
    assert.deepEqual(timeoutsFor({ stream: true, leftMs: 600_000 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 60_000,
      firstTokenPhase: 'first_token',
      connectTimeoutMs: 10_000,
    })
  })

  it('a JSON call without max_tokens is bounded by the client deadline only, reported as total', () => {
    assert.deepEqual(timeoutsFor({ stream: false, leftMs: 600_000 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 600_000,
      firstTokenPhase: 'total',
    })
  })

  it(`a JSON call gets the first-token bound plus max_tokens at ${JSON_FLOOR_TOKENS_PER_SEC} tokens/s, and no connect timer`, () => {
    assert.deepEqual(timeoutsFor({ stream: false, leftMs: 600_000, maxTokens: 512 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 60_000 + 51_200,
      firstTokenPhase: 'first_token',
    })
    assert.deepEqual(timeoutsFor({ stream: false, leftMs: 600_000, maxTokens: 32_000 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 600_000,
      firstTokenPhase: 'total',
    })
  })

  it('when the deadline is nearer than the first-token bound, the deadline wins and is called total', () => {
    assert.deepEqual(timeoutsFor({ stream: true, leftMs: 5_000 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 5_000,
      firstTokenPhase: 'total',
    })
  })

  it('a try with a candidate after it uses at most half the time left, reported as first_token (fail over, not stop)', () => {
    assert.deepEqual(timeoutsFor({ stream: false, leftMs: 600_000, hasNext: true }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 300_000,
      firstTokenPhase: 'first_token',
    })
    assert.deepEqual(timeoutsFor({ stream: true, leftMs: 50_000, hasNext: true }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 25_000,
      firstTokenPhase: 'first_token',
      connectTimeoutMs: 10_000,
    })
  })

  it('a stream carries its adaptive first-event bound when it is tighter than the rest; JSON never does', () => {
    assert.deepEqual(timeoutsFor({ stream: true, leftMs: 600_000, firstEventMs: 5_000 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 60_000,
      firstTokenPhase: 'first_token',
      connectTimeoutMs: 10_000,
      firstEventMs: 5_000,
    })
    assert.deepEqual(timeoutsFor({ stream: true, leftMs: 4_000, firstEventMs: 5_000 }, deps(60_000, 10_000)), {
      firstTokenTimeoutMs: 4_000,
      firstTokenPhase: 'total',
    })
    assert.equal(
      timeoutsFor({ stream: false, leftMs: 600_000, maxTokens: 10, firstEventMs: 5_000 }, deps(60_000, 10_000))
        .firstEventMs,
      undefined,
    )
  })

  it('law: no bound ever exceeds the time left before the deadline', () => {
    const maxTokens = fc.option(fc.integer({ min: 0, max: 1e5 }), { nil: undefined })
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 1e6 }),
        maxTokens,
        (stream, left, ftt, connect, max) => {
          const t = timeoutsFor({ stream, leftMs: left, maxTokens: max }, deps(ftt, connect))
          assert.ok(t.firstTokenTimeoutMs <= left)
          assert.ok(t.firstTokenTimeoutMs >= Math.min(ftt, left), 'never tighter than the first-token bound')
          assert.ok((t.connectTimeoutMs ?? 0) <= left)
          assert.equal(t.firstTokenPhase === 'total', t.firstTokenTimeoutMs === left)
        },
      ),
    )
  })
})

describe('timerSleep', () => {
  it('resolves false at once when the client has left, true after a short wait otherwise', async () => {
    const gone = new AbortController()
    gone.abort()
    assert.equal(await timerSleep(10_000, gone.signal), false)
    assert.equal(await timerSleep(1, new AbortController().signal), true)
  })

  it('a client leaving mid-wait ends the wait early with false', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 5)
    assert.equal(await timerSleep(60_000, ac.signal), false)
  })
})
