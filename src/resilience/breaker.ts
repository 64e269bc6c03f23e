/**
 * A per-target circuit breaker as a pure state machine (the shape of std's
 * `async/unstable_circuit_breaker.ts`, with the clock passed in rather than read):
 *
 *   closed ──(N consecutive failures | error rate ≥ threshold)──▶ open
 *   open ──(cooldown elapsed, on the next look)──▶ half_open
 *   half_open ──(one success)──▶ closed      half_open ──(a failure)──▶ open (longer cooldown)
 *
 * closed never goes straight to half_open. The cooldown doubles with each trip, capped at
 * `maxCooldownMs`; trips are forgotten once the breaker has stayed closed for `maxCooldownMs`.
 */
import type { BreakerPolicy } from '../config/types.ts'

export type BreakerState =
  | { readonly kind: 'closed'; readonly consecutiveFailures: number; readonly trips: number; readonly since: number }
  | { readonly kind: 'open'; readonly until: number; readonly trips: number }
  | { readonly kind: 'half_open'; readonly probesInFlight: number; readonly trips: number }

/**
 * `attempt`: a request was let through (counts a probe when half-open). `failure` may carry
 * the target's recent error rate so the breaker can trip on rate as well as on a streak.
 */
export type BreakerEvent =
  | { readonly type: 'attempt' }
  /** An attempt ended with no verdict on the target (the client left, the request was invalid). */
  | { readonly type: 'release' }
  | { readonly type: 'success' }
  /**
   * `partial`: the target answered 2xx and then cut its stream. It is up but flaky: this counts
   * toward the error rate, not toward the streak of failures that marks a target down.
   */
  | { readonly type: 'failure'; readonly errorRate?: number; readonly requests?: number; readonly partial?: boolean }

/** A new, closed breaker. */
export function breakerInitial(now: number): BreakerState {
  return { kind: 'closed', consecutiveFailures: 0, trips: 0, since: now }
}

/** The cooldown for the `trips`-th trip: cooldown·2^(trips−1), capped. */
export function cooldownFor(trips: number, p: BreakerPolicy): number {
  const grown = p.cooldownMs * 2 ** Math.max(0, trips - 1)
  return Math.min(Math.max(p.cooldownMs, p.maxCooldownMs), grown)
}

function trip(trips: number, now: number, p: BreakerPolicy): BreakerState {
  return { kind: 'open', until: now + cooldownFor(trips, p), trips }
}

function closedNext(
  s: Extract<BreakerState, { kind: 'closed' }>,
  ev: BreakerEvent,
  now: number,
  p: BreakerPolicy,
): BreakerState {
  if (ev.type === 'attempt' || ev.type === 'release') return s
  if (ev.type === 'success') return s.consecutiveFailures === 0 ? s : { ...s, consecutiveFailures: 0 }
  const failures = ev.partial === true ? s.consecutiveFailures : s.consecutiveFailures + 1
  const byStreak = ev.partial !== true && failures >= Math.max(1, p.consecutiveFailures)
  const byRate = (ev.requests ?? 0) >= p.minRequestsForRate && (ev.errorRate ?? 0) >= p.errorRateThreshold
  if (!byStreak && !byRate) return { ...s, consecutiveFailures: failures }
  // A breaker that stayed healthy for a full max cooldown starts its growth again from 1.
  const trips = now - s.since >= p.maxCooldownMs ? 1 : s.trips + 1
  return trip(trips, now, p)
}

/**
 * The breaker's next state after an event at `now`.
 * @example breakerNext(breakerInitial(0), { type: 'failure' }, 5, { ...p, consecutiveFailures: 1 }).kind // 'open'
 */
export function breakerNext(s: BreakerState, ev: BreakerEvent, now: number, p: BreakerPolicy): BreakerState {
  switch (s.kind) {
    case 'closed':
      return closedNext(s, ev, now, p)
    case 'open':
      // Late answers from calls started before the trip do not close or extend it.
      return s
    case 'half_open':
      if (ev.type === 'attempt') return { ...s, probesInFlight: s.probesInFlight + 1 }
      if (ev.type === 'release') return { ...s, probesInFlight: Math.max(0, s.probesInFlight - 1) }
      if (ev.type === 'success') return { kind: 'closed', consecutiveFailures: 0, trips: s.trips, since: now }
      return trip(s.trips + 1, now, p)
  }
}

/**
 * Whether a request may go to the target now, and the state after the time-driven
 * open → half_open move. Does not take a probe slot: send `{ type: 'attempt' }` for that.
 */
export function breakerAllows(
  s: BreakerState,
  now: number,
  p: BreakerPolicy,
): { allowed: boolean; state: BreakerState } {
  if (s.kind === 'closed') return { allowed: true, state: s }
  if (s.kind === 'open') {
    if (now < s.until) return { allowed: false, state: s }
    return { allowed: p.halfOpenProbes > 0, state: { kind: 'half_open', probesInFlight: 0, trips: s.trips } }
  }
  return { allowed: s.probesInFlight < Math.max(1, p.halfOpenProbes), state: s }
}

/** Milliseconds until the breaker lets a request through (0 when it does now). */
export function breakerRetryInMs(s: BreakerState, now: number): number {
  return s.kind === 'open' ? Math.max(0, s.until - now) : 0
}
