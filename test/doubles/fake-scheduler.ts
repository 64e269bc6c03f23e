/**
 * A Scheduler driven by hand, with its own clock: `advance(ms)` fires due timers in time
 * order. For tests of the engine's schedule and timeouts without waiting.
 */
import type { Scheduler } from '../../src/perf/gate.ts'

interface Timer {
  readonly id: number
  readonly at: number
  readonly fn: () => void
}

export class FakeScheduler implements Scheduler {
  #t: number
  #seq = 0
  #timers: Timer[] = []

  constructor(start: number) {
    this.#t = start
  }

  readonly now = (): number => this.#t

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq
    this.#timers.push({ id, at: this.#t + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle)
  }

  pending(): number {
    return this.#timers.length
  }

  /** Move the clock forward, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.#t + ms
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (!due) break
      this.#timers = this.#timers.filter((t) => t !== due)
      this.#t = Math.max(this.#t, due.at)
      due.fn()
    }
    this.#t = end
  }
}
