/**
 * Memoised token counts per content block. Coding agents resend the whole conversation every
 * turn, so almost every block of a request was already counted for the previous request: a
 * hit costs one Map lookup instead of a BPE pass.
 *
 * Keys are the block text itself, not a hash of it: engines hash strings natively (faster than
 * any FNV loop written in JS) and compare on a hit, so a collision can never return a wrong
 * count. Memory is bounded by both entries and retained key characters; eviction is LRU via
 * Map insertion order (a hit is re-inserted at the end).
 */

export interface TokenCacheOptions {
  /** Most entries kept; default 20,000. */
  readonly maxEntries?: number
  /** Most key characters retained (≈ 2 bytes each in UTF-16); default 16 Mi chars. */
  readonly maxChars?: number
  /** Blocks shorter than this are counted directly, never cached (a lookup costs about as much). */
  readonly minChars?: number
}

export interface TokenCacheStats {
  readonly entries: number
  readonly chars: number
  readonly hits: number
  readonly misses: number
}

export class TokenCache {
  readonly #map = new Map<string, number>()
  readonly #maxEntries: number
  readonly #maxChars: number
  readonly #minChars: number
  #chars = 0
  #hits = 0
  #misses = 0

  constructor(options: TokenCacheOptions = {}) {
    const { maxEntries = 20_000, maxChars = 16 * 1024 * 1024, minChars = 16 } = options
    this.#maxEntries = maxEntries
    this.#maxChars = maxChars
    this.#minChars = minChars
  }

  /** The cached count for `text`, or undefined; refreshes its LRU position on a hit. */
  peek(text: string): number | undefined {
    const n = this.#map.get(text)
    if (n === undefined) return undefined
    this.#map.delete(text)
    this.#map.set(text, n)
    this.#hits++
    return n
  }

  /** The count for `text`, computing it with `count` and remembering it on a miss. */
  get(text: string, count: (text: string) => number): number {
    if (text.length < this.#minChars) return count(text)
    const hit = this.peek(text)
    if (hit !== undefined) return hit
    this.#misses++
    const n = count(text)
    this.set(text, n)
    return n
  }

  /** Store a count; evicts least-recently-used entries past either bound. */
  set(text: string, n: number): void {
    if (text.length < this.#minChars || text.length > this.#maxChars) return
    const old = this.#map.get(text)
    if (old !== undefined) this.#map.delete(text)
    else this.#chars += text.length
    this.#map.set(text, n)
    this.#evict()
  }

  #evict(): void {
    while (this.#map.size > this.#maxEntries || this.#chars > this.#maxChars) {
      const oldest = this.#map.keys().next()
      if (oldest.done === true) return
      this.#map.delete(oldest.value)
      this.#chars -= oldest.value.length
    }
  }

  stats(): TokenCacheStats {
    return { entries: this.#map.size, chars: this.#chars, hits: this.#hits, misses: this.#misses }
  }

  clear(): void {
    this.#map.clear()
    this.#chars = 0
  }
}
