/** A counting semaphore: the engine's own concurrency limit, separate from live traffic's. */
export class Semaphore {
  #free: number
  readonly #waiting: (() => void)[] = []

  constructor(permits: number) {
    this.#free = Math.max(1, Math.floor(permits))
  }

  /** Run `fn` once a permit is free, releasing it however `fn` ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--
    else await new Promise<void>((resolve) => this.#waiting.push(resolve))
    try {
      return await fn()
    } finally {
      // Hand the permit straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#free++
    }
  }
}
