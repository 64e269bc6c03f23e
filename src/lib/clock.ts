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

/**
 * A deadline timer firing this much past its due time found the loop busy (healthy loops: a few
 * ms). The upstream silence timer (proxy/upstream.ts, `LATE_TIMER_MS`) reads lateness the same
 * way with a looser bound and may wait more than once: a stream's first event can sit behind a
 * whole burst's backlog, where one Redis answer sits behind one stall.
 */
const LATE_DEADLINE_MS = 20

/**
 * `p`'s value, or `timedOut` when it has not settled `ms` after the call (rejections pass through).
 * A busy event loop cannot misfire it. Timers run before pending I/O is read: after a stall longer
 * than the deadline (a GC pause, a burst of requests, a loaded machine) the timer fires while the
 * answer already sits unread, and a healthy peer counts as timed out (measured on Deno: a 100 ms
 * stall failed a 50 ms ioredis PING that Redis had answered at once). So a timer that fires late
 * waits once more, as long again: the I/O it was queued behind is read first, and a peer that
 * really is silent is still given up after about twice the deadline.
 */
export function within<T>(p: Promise<T>, ms: number): Promise<{ readonly value: T } | { readonly timedOut: true }> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout>
    const arm = (again: boolean) => {
      const due = performance.now() + ms
      timer = setTimeout(() => {
        if (!again && performance.now() - due > LATE_DEADLINE_MS) arm(true)
        else resolve({ timedOut: true })
      }, timerDelay(ms))
    }
    arm(false)
    p.then((value) => {
      clearTimeout(timer)
      resolve({ value })
    }, (e: unknown) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}
