/**
 * The per-day token budget for tests (the cost guard), as pure transitions. Before a probe is
 * sent its estimated input plus its `max_tokens` is reserved; afterwards the reservation is
 * settled with the tokens the upstream reported. Days are UTC calendar days, so the budget
 * resets at midnight UTC. A limit of 0 or less means tests may spend nothing.
 */

export interface BudgetState {
  /** UTC day the counters belong to, `YYYY-MM-DD`. */
  readonly day: string
  /** Tokens actually spent by settled probes today. */
  readonly used: number
  /** Tokens held by probes in flight. */
  readonly reserved: number
}

/** The UTC calendar day of an epoch-ms instant. */
export function dayOf(now: number): string {
  return new Date(now).toISOString().slice(0, 10)
}

/** A fresh budget for the day of `now`. */
export function emptyBudget(now: number): BudgetState {
  return { day: dayOf(now), used: 0, reserved: 0 }
}

/** The state carried into the day of `now`: spending resets, in-flight reservations stay held. */
export function rollover(s: BudgetState, now: number): BudgetState {
  const day = dayOf(now)
  return day === s.day ? s : { day, used: 0, reserved: s.reserved }
}

/** Tokens still available today (never negative). */
export function remaining(s: BudgetState, limit: number, now: number): number {
  const cur = rollover(s, now)
  return Math.max(0, limit - cur.used - cur.reserved)
}

/**
 * Try to hold `tokens` for one probe. Refused (state unchanged apart from rollover) when the
 * hold would exceed the day's limit, so a test never starts a request it cannot afford.
 * @example reserve(emptyBudget(0), 100, 150, 0).ok // true
 */
export function reserve(
  s: BudgetState,
  tokens: number,
  limit: number,
  now: number,
): { state: BudgetState; ok: boolean } {
  const cur = rollover(s, now)
  const need = Math.max(0, Math.ceil(tokens))
  if (cur.used + cur.reserved + need > limit) return { state: cur, ok: false }
  return { state: { ...cur, reserved: cur.reserved + need }, ok: true }
}

/**
 * Release a reservation of `reservedTokens` and charge what was really spent. Spending may exceed
 * the reservation (an upstream that ignores max_tokens); it is charged in full all the same.
 */
export function settle(s: BudgetState, reservedTokens: number, actualTokens: number, now: number): BudgetState {
  const cur = rollover(s, now)
  return {
    ...cur,
    reserved: Math.max(0, cur.reserved - Math.max(0, Math.ceil(reservedTokens))),
    used: cur.used + Math.max(0, Math.ceil(actualTokens)),
  }
}
