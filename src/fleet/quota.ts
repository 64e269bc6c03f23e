/**
 * Quota leasing, the pure part: how much of a fleet-wide limit an instance takes from Redis at
 * once (a batch sized by its recent demand, never above a fair share of the limit), and the
 * local pool it admits from. Everything takes `now` as an argument; src/fleet/limiter.ts holds
 * the state and talks to Redis.
 *
 * Units: an rpm pool counts requests, a tpm pool tokens, a slot pool concurrency slots.
 */

/** A batch is at most the limit ÷ (fleet size × this): the fleet's pools together hold at most 1/8 of a limit. */
export const SHARE_DIVISOR = 8
/** A batch covers this much of the recent demand: under steady load a refill comes every ~125 ms. */
export const HORIZON_MS = 250
/** Demand is a moving sum with this time constant (about the last second counts). */
export const DEMAND_TAU_MS = 1_000
/** A pool unused this long goes back to Redis whole. */
export const IDLE_MS = 1_000

/**
 * Recent demand: a sum that decays with `DEMAND_TAU_MS`. One per provider and measure, updated
 * in place (it changes with every request: the hot path allocates nothing for it).
 */
export class Demand {
  #v = 0
  #at = 0

  #decayed(now: number): number {
    return now <= this.#at ? this.#v : this.#v * Math.exp(-(now - this.#at) / DEMAND_TAU_MS)
  }

  /** `amount` more demand at `now`. */
  add(amount: number, now: number): void {
    this.#v = this.#decayed(now) + Math.max(0, amount)
    this.#at = Math.max(now, this.#at)
  }

  /** A level (e.g. requests in flight) at `now`: it rises at once and decays with `DEMAND_TAU_MS`, so this keeps its recent peak. */
  peak(level: number, now: number): void {
    this.#v = Math.max(this.#decayed(now), Math.max(0, level))
    this.#at = Math.max(now, this.#at)
  }

  /** What the recent demand asks for over the next `HORIZON_MS` (a rate) at `now`. */
  over(now: number): number {
    return (this.#decayed(now) * HORIZON_MS) / DEMAND_TAU_MS
  }

  /** What the recent peak level is at `now`. */
  level(now: number): number {
    return this.#decayed(now)
  }
}

/**
 * Units wanted per batch: the recent demand over the horizon, and at least twice the recent
 * peak of requests in flight (times `perRequest` units each), so a burst of that many requests
 * at once is served from the pool while the background refill is on its way.
 */
export function burstDemand(overHorizon: number, peakInFlight: number, perRequest = 1): number {
  return Math.max(overHorizon, 2 * Math.max(0, peakInFlight) * Math.max(0, perRequest))
}

/** This instance's fair share of `limit`: the most it may hold in its pool. */
export function fairShare(limit: number, fleetSize: number): number {
  return Math.floor(limit / (Math.max(1, fleetSize) * SHARE_DIVISOR))
}

/**
 * How many units to take from Redis at once for `demand` (units wanted over the horizon):
 * at least 2, at most the fair share. 0 when the fair share is below 2: the limit is too small
 * to split, and each request takes the exact per-request path.
 */
export function batchSize(limit: number, fleetSize: number, demand: number): number {
  const fair = fairShare(limit, fleetSize)
  if (fair < 2) return 0
  return Math.min(fair, Math.max(2, Math.ceil(demand)))
}

/** A pool below this is refilled in the background (before it is empty). */
export function lowWater(batch: number): number {
  return Math.max(1, Math.ceil(batch / 2))
}

/**
 * Units held locally, taken from Redis and not spent yet. Negative only for TPM: a request
 * that used more than it reserved leaves a debt, which the next refill pays first.
 */
export type Pool = number

export const EMPTY_POOL: Pool = 0

/** What is left after taking `need` units, or undefined when the pool has too few (it is left as is). */
export function poolTake(p: Pool, need: number): Pool | undefined {
  const n = Math.max(0, need)
  return p < n ? undefined : p - n
}

/** `granted` units from Redis (or given back locally). */
export function poolAdd(p: Pool, granted: number): Pool {
  return p + Math.max(0, granted)
}

/**
 * A round trip's grant, of which this request spends `need` at once: Redis granted at least
 * `need`, so the request is admitted even when the pool was in debt (the debt stays).
 */
export function poolSpend(p: Pool, granted: number, need: number): Pool {
  return p + Math.max(0, granted) - Math.max(0, need)
}

/** Settles a TPM reservation with the reported usage: the difference comes back, or is owed. */
export function poolSettle(p: Pool, reserved: number, actual: number): Pool {
  return p + Math.max(0, reserved) - Math.max(0, actual)
}

/** What a background refill asks Redis for: 0 while the pool is above its low-water mark, else enough for a batch (and the debt). */
export function refillWant(p: Pool, batch: number): number {
  if (batch <= 0 || p >= lowWater(batch)) return 0
  return Math.ceil(batch - p)
}

/**
 * What to give back to Redis now: everything when idle or when the limit no longer leases
 * (`batch` 0), what exceeds one batch when the pool holds over twice that, else nothing.
 */
export function poolSurplus(p: Pool, batch: number, idle: boolean): number {
  const held = Math.floor(Math.max(0, p))
  if (idle || batch <= 0) return held
  return held > 2 * batch ? held - batch : 0
}

/** `amount` units leave the pool for Redis. */
export function poolGive(p: Pool, amount: number): Pool {
  return p - Math.max(0, Math.min(amount, Math.floor(Math.max(0, p))))
}
