/**
 * Memoised token counts per content block. Coding agents resend the whole conversation every
 * turn, so almost every block of a request was already counted for the previous request: a
 * hit costs one Map lookup instead of a BPE pass.
 *
 * Keys are the block text itself, not a hash of it: engines hash strings natively (faster than
 * any FNV loop written in JS) and compare on a hit, so a collision can never return a wrong
 * count. Memory is bounded by both entries and retained key characters. Eviction is LRU by a
 * use stamp: a hit only bumps a number (re-inserting into the Map, the classic Map-order LRU,
 * measured 3x slower on a 150k-token warm re-estimate under Bun), and when a bound is crossed
 * the least recently used tenth is dropped at once, so the sort is amortised over many inserts.
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

interface Entry {
  readonly n: number
  stamp: number
}

export class TokenCache {
  readonly #map = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #maxChars: number
  readonly #minChars: number
  #chars = 0
  #clock = 0
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
    const e = this.#map.get(text)
    if (e === undefined) return undefined
    e.stamp = ++this.#clock
    this.#hits++
    return e.n
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
    if (!this.#map.has(text)) this.#chars += text.length
    this.#map.set(text, { n, stamp: ++this.#clock })
    if (this.#map.size > this.#maxEntries || this.#chars > this.#maxChars) this.#evict()
  }

  /** Drop least-recently-used entries until both bounds have 10 % headroom. */
  #evict(): void {
    const byAge = [...this.#map].sort((a, b) => a[1].stamp - b[1].stamp)
    const maxEntries = Math.floor(this.#maxEntries * 0.9)
    const maxChars = Math.floor(this.#maxChars * 0.9)
    for (const [text] of byAge) {
      if (this.#map.size <= maxEntries && this.#chars <= maxChars) return
      this.#map.delete(text)
      this.#chars -= text.length
    }
  }

  /** Drop one entry (a count that turned out to be an approximation). */
  forget(text: string): void {
    if (this.#map.delete(text)) this.#chars -= text.length
  }

  stats(): TokenCacheStats {
    return { entries: this.#map.size, chars: this.#chars, hits: this.#hits, misses: this.#misses }
  }

  clear(): void {
    this.#map.clear()
    this.#chars = 0
  }
}
