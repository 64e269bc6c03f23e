/** What the batched writers of the store share: one transaction per flush, and a flush timer. */
import type { DatabaseSync } from 'node:sqlite'
import { timerDelay } from '../lib/clock.ts'

/** Runs `fn` in one transaction: all of its writes, or none when it throws (its error propagates, not a failed rollback's). */
export function inTransaction(db: DatabaseSync, fn: () => void): void {
  db.exec('BEGIN')
  try {
    fn()
    db.exec('COMMIT')
  } catch (e) {
    try {
      db.exec('ROLLBACK')
    } catch { /* no transaction left to roll back */ }
    throw e
  }
}

/** Calls `flush` every `intervalMs` once started; the timer does not keep the process alive. */
export class FlushTimer {
  #timer: ReturnType<typeof setInterval> | undefined
  constructor(private readonly flush: () => void) {}

  start(intervalMs: number): void {
    this.stopTimer()
    this.#timer = setInterval(this.flush, timerDelay(intervalMs))
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  /** Stops the timer and flushes what is pending (for shutdown). */
  stop(): void {
    this.stopTimer()
    this.flush()
  }

  private stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
