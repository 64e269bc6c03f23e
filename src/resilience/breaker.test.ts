import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { breakerAllows, breakerInitial, breakerNext, cooldownFor } from './breaker.ts'
import type { BreakerEvent, BreakerState } from './breaker.ts'
import type { BreakerPolicy } from '../config/types.ts'
import { breakerPolicyArb, breakerTraceArb } from '../../test/arbitraries/routing.ts'

const p = {
  consecutiveFailures: 3,
  errorRateThreshold: 0.5,
  minRequestsForRate: 10,
  cooldownMs: 1_000,
  maxCooldownMs: 4_000,
  halfOpenProbes: 2,
}
const fail = { type: 'failure' } as const

function failTimes(s: BreakerState, n: number, now: number): BreakerState {
  for (let i = 0; i < n; i++) s = breakerNext(s, fail, now, p)
  return s
}

describe('breaker', () => {
  it('opens after N consecutive failures; a success resets the streak', () => {
    let s = failTimes(breakerInitial(0), 2, 10)
    s = breakerNext(s, { type: 'success' }, 10, p)
    s = failTimes(s, 2, 10)
    assert.equal(s.kind, 'closed')
    s = breakerNext(s, fail, 10, p)
    assert.deepEqual(s, { kind: 'open', until: 1_010, trips: 1 })
  })

  it('a partial failure (a stream cut after content) counts toward the error rate, not the streak', () => {
    const partial = { type: 'failure', partial: true } as const
    let s = breakerInitial(0)
    for (let i = 0; i < 10; i++) s = breakerNext(s, partial, i, p)
    assert.equal(s.kind, 'closed')
    assert.equal(breakerNext(s, { ...partial, errorRate: 0.9, requests: 50 }, 11, p).kind, 'open')
  })

  it('opens on the error rate once enough requests were seen', () => {
    const s0 = breakerInitial(0)
    assert.equal(breakerNext(s0, { type: 'failure', errorRate: 0.6, requests: 9 }, 1, p).kind, 'closed')
    assert.equal(breakerNext(s0, { type: 'failure', errorRate: 0.6, requests: 10 }, 1, p).kind, 'open')
  })

  it('stays shut during the cooldown, then lets halfOpenProbes probes through', () => {
    const open = failTimes(breakerInitial(0), 3, 0)
    assert.equal(breakerAllows(open, 999, p).allowed, false)
    let { allowed, state } = breakerAllows(open, 1_000, p)
    assert.equal(allowed, true)
    assert.equal(state.kind, 'half_open')
    state = breakerNext(breakerNext(state, { type: 'attempt' }, 1_000, p), { type: 'attempt' }, 1_000, p)
    assert.equal(breakerAllows(state, 1_001, p).allowed, false)
    assert.equal(breakerNext(state, { type: 'success' }, 1_050, p).kind, 'closed')
  })

  it('grows the cooldown on repeated trips, capped, and forgets trips after a long healthy spell', () => {
    assert.deepEqual([1, 2, 3, 4, 9].map((t) => cooldownFor(t, p)), [1_000, 2_000, 4_000, 4_000, 4_000])
    const halfOpen = breakerAllows(failTimes(breakerInitial(0), 3, 0), 1_000, p).state
    const reopened = breakerNext(halfOpen, fail, 1_000, p)
    assert.deepEqual(reopened, { kind: 'open', until: 3_000, trips: 2 })
    const closed = breakerNext(breakerAllows(reopened, 3_000, p).state, { type: 'success' }, 3_000, p)
    assert.equal(failTimes(closed, 3, 3_500).kind === 'open' && failTimes(closed, 3, 3_500).trips, 3)
    assert.equal(failTimes(closed, 3, 3_000 + 4_000).kind === 'open' && failTimes(closed, 3, 7_000).trips, 1)
  })

  /** Replays a trace through breakerAllows + breakerNext; `bad` sees each step and may flag it. */
  function replay(
    policy: BreakerPolicy,
    trace: readonly (readonly [number, BreakerEvent])[],
    bad: (
      before: BreakerState,
      viaAllows: BreakerState,
      after: BreakerState,
      now: number,
      admitted: boolean,
    ) => boolean,
  ): boolean {
    let s = breakerInitial(0)
    let now = 0
    for (const [dt, ev] of trace) {
      now += dt
      const { allowed, state } = breakerAllows(s, now, policy)
      const next = breakerNext(state, ev, now, policy)
      if (bad(s, state, next, now, allowed)) return false
      s = next
    }
    return true
  }

  it('property: the breaker never goes closed → half-open', () => {
    fc.assert(
      fc.property(
        breakerPolicyArb,
        breakerTraceArb,
        (policy, trace) =>
          replay(
            policy,
            trace,
            (before, via, after) =>
              before.kind === 'closed' && (via.kind === 'half_open' || after.kind === 'half_open'),
          ),
      ),
    )
  })

  it('property: an open breaker never admits a request before its cooldown ends', () => {
    fc.assert(
      fc.property(
        breakerPolicyArb,
        breakerTraceArb,
        (policy, trace) =>
          replay(
            policy,
            trace,
            (before, _via, _after, now, admitted) => before.kind === 'open' && now < before.until && admitted,
          ),
      ),
    )
  })
})
