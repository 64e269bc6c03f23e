/** Milliseconds since the epoch (may be fractional). Injected so pure code never reads the clock itself. */
export type Clock = () => number

/** The real clock: wall time with sub-millisecond resolution from performance.now(). */
export function systemClock(): Clock {
  const origin = Date.now() - performance.now()
  return () => origin + performance.now()
}

/** The longest delay `setTimeout`/`setInterval` accept (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647

/**
 * A delay every runtime's timers honour: 0 to MAX_TIMER_MS, and 0 for NaN or a negative number.
 * Every timer whose delay comes from config or from an upstream goes through this, so an
 * out-of-range number means "wait a long time", never "fire now, every millisecond".
 */
export function timerDelay(ms: number): number {
  return ms >= MAX_TIMER_MS ? MAX_TIMER_MS : ms > 0 ? ms : 0
}
