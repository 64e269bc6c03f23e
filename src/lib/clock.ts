/** Milliseconds since the epoch (may be fractional). Injected so pure code never reads the clock itself. */
export type Clock = () => number

/** The real clock: wall time with sub-millisecond resolution from performance.now(). */
export function systemClock(): Clock {
  const origin = Date.now() - performance.now()
  return () => origin + performance.now()
}
