/**
 * One timer for every open stream, instead of one per read: it fires idle and total timeouts
 * and sends keep-alive pings while an upstream is quiet. Cheap at thousands of streams.
 */
import { timerDelay } from '../lib/clock.ts'

export interface WatchedStream {
  /** Last time bytes arrived from the upstream. */
  lastUpstreamAt: number
  /** Last time bytes were written to the client. */
  lastClientAt: number
  readonly idleMs: number
  readonly deadlineAt: number
  onTimeout(phase: 'idle' | 'total'): void
  ping(): void
  /** Ends the stream with a well-formed in-stream error (shutdown past its drain deadline). */
  abort(message: string): void
}

export class StreamWatchdog {
  readonly #streams = new Set<WatchedStream>()
  readonly #now: () => number
  readonly #tickMs: number
  readonly #pingMs: number
  #timer: ReturnType<typeof setInterval> | undefined
  /** Set by `abortAll`: the instance is shutting down past its drain deadline. */
  #closing: string | undefined

  constructor(opts: { now: () => number; tickMs?: number; pingMs?: number }) {
    this.#now = opts.now
    this.#tickMs = opts.tickMs ?? 250
    // Idle proxies and load balancers commonly cut connections after 30-60 s of silence.
    this.#pingMs = opts.pingMs ?? 15_000
  }

  get size(): number {
    return this.#streams.size
  }

  watch(s: WatchedStream): void {
    this.#streams.add(s)
    this.#timer ??= setInterval(() => this.tick(), timerDelay(this.#tickMs))
    // A request still being set up when the drain deadline passed becomes a stream only now: it
    // ends at once too, instead of streaming on after the others were ended.
    if (this.#closing !== undefined) s.abort(this.#closing)
  }

  /** Stops watching `s` (a method, not a closure per stream: thousands may be open). */
  unwatch(s: WatchedStream): void {
    this.#streams.delete(s)
    if (this.#streams.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  /** Checks every stream once; public so tests can drive it with a fake clock. */
  tick(): void {
    const now = this.#now()
    for (const s of this.#streams) {
      if (now >= s.deadlineAt) s.onTimeout('total')
      else if (now - s.lastUpstreamAt >= s.idleMs) s.onTimeout('idle')
      else if (now - s.lastClientAt >= this.#pingMs) {
        s.lastClientAt = now
        s.ping()
      }
    }
  }

  /** Ends every open stream with an in-stream error, and every stream that opens after. */
  abortAll(message: string): void {
    this.#closing = message
    for (const s of [...this.#streams]) s.abort(message)
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
