/**
 * The mock's SSE body: paces planned events (TTFT before the first event, `delay` before
 * every token event after the first token), injects stalls and cuts, and stops writing the
 * moment the client aborts or cancels.
 */
import type { PlannedEvent } from './content.ts'

/** Resolves after `ms` or as soon as `signal` aborts, whichever comes first; never rejects. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>

/** The real sleep: one timer, cleared on abort so an aborted stream leaves nothing behind. */
export const timerSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })

/**
 * A sleep sharing one timer per due millisecond among all streams: 5,000 streams paced at
 * 10 ms would otherwise arm 500,000 timers a second. Resolution is 1 ms (due times round up).
 */
export function coalescedSleep(now: () => number = () => performance.now()): Sleep {
  const buckets = new Map<number, (() => void)[]>()
  const fire = (due: number): void => {
    const waiters = buckets.get(due) ?? []
    buckets.delete(due)
    for (const w of waiters) w()
  }
  return (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve()
        return
      }
      const due = Math.ceil(now() + ms)
      let waiters = buckets.get(due)
      if (waiters === undefined) {
        waiters = []
        buckets.set(due, waiters)
        setTimeout(fire, Math.max(0, due - now()), due)
      }
      const done = (): void => {
        signal.removeEventListener('abort', done)
        resolve()
      }
      waiters.push(done)
      signal.addEventListener('abort', done, { once: true })
    })
}

/** Resolves when `signal` aborts (a hung upstream that only a client abort can end). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

export type StreamEnd = 'done' | 'cut' | 'aborted'

export interface StreamOptions {
  readonly events: readonly PlannedEvent[]
  readonly ttftMs: number
  /** Delay before the next token event (jitter and latency profile already applied). */
  readonly nextDelayMs: () => number
  readonly stallAfter: number | undefined
  readonly cutAfter: number | undefined
  /** Aborted by the client (request signal) or by us on cancel. */
  readonly abort: AbortController
  readonly sleep: Sleep
  onEvent(): void
  onStall(): void
  onEnd(how: StreamEnd): void
}

const encoder = new TextEncoder()

/**
 * Build the response body. One event per pull keeps backpressure honest: a slow reader
 * slows the mock instead of growing a queue.
 */
export function sseStream(o: StreamOptions): ReadableStream<Uint8Array> {
  const signal = o.abort.signal
  let i = 0
  let seenToken = false
  let ended = false
  const end = (how: StreamEnd): void => {
    if (!ended) {
      ended = true
      o.onEnd(how)
    }
  }
  const waitFor = (ev: PlannedEvent): number => {
    if (i === 0) {
      seenToken = ev.token
      return o.ttftMs
    }
    if (!ev.token) return 0
    if (!seenToken) {
      seenToken = true
      return 0
    }
    return o.nextDelayMs()
  }
  return new ReadableStream<Uint8Array>({
    start(c) {
      signal.addEventListener('abort', () => {
        end('aborted')
        try {
          c.error(new DOMException('The client aborted the request', 'AbortError'))
        } catch { /* already closed */ }
      }, { once: true })
    },
    async pull(c) {
      if (o.stallAfter !== undefined && i >= o.stallAfter) {
        o.onStall()
        await untilAborted(signal)
        return
      }
      if ((o.cutAfter !== undefined && i >= o.cutAfter) || i >= o.events.length) {
        end(i >= o.events.length ? 'done' : 'cut')
        c.close()
        return
      }
      const ev = o.events[i] as PlannedEvent
      const wait = waitFor(ev)
      if (wait > 0) await o.sleep(wait, signal)
      if (signal.aborted) return
      c.enqueue(ev.bytes ?? encoder.encode(ev.sse))
      i++
      o.onEvent()
    },
    cancel() {
      o.abort.abort()
    },
  })
}
