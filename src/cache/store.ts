/**
 * Where cached responses live. The interface is async so that a shared store (Redis, in fleet
 * mode) can implement it; the default is in memory, bounded by entries and bytes, evicting the
 * least recently used, with a TTL per entry. `now` comes in as an argument.
 */
import type { JsonObject, Usage, WireFormatName } from '../formats/types.ts'

/** One cached answer: the client-format JSON, and what it cost when it was made. */
export interface CacheEntry {
  readonly format: WireFormatName
  /** The whole answer in the client's format (a stream is folded into it). */
  readonly body: JsonObject
  /** `provider,model` that produced it. */
  readonly target: string
  readonly usage?: Usage
  readonly costUsd?: number
  readonly storedAt: number
}

export interface CacheStats {
  readonly hits: number
  readonly misses: number
  readonly stored: number
  readonly hitRatio: number
  /** Tokens and cost the hits did not spend (what the cached answers cost when they were made). */
  readonly inputTokensSaved: number
  readonly outputTokensSaved: number
  readonly costSavedUsd: number
}

/** A lookup's outcome: the entry on a hit, and the key a target's answer is stored under. */
export interface CacheLookup {
  readonly entry?: CacheEntry
  keyFor(target: string): string
}

export interface CacheStore {
  get(key: string, now: number): Promise<CacheEntry | undefined>
  set(key: string, entry: CacheEntry, ttlMs: number, now: number): Promise<void>
}

export interface MemoryStoreLimits {
  readonly maxEntries: number
  readonly maxBytes: number
}

interface Slot {
  readonly entry: CacheEntry
  readonly bytes: number
  readonly expiresAt: number
}

/** Approximate size of an entry: its JSON length (UTF-16 code units, close enough for a bound). */
export const entryBytes = (e: CacheEntry): number => JSON.stringify(e.body).length + e.target.length + 128

export class MemoryCacheStore implements CacheStore {
  readonly #slots = new Map<string, Slot>()
  readonly #limits: MemoryStoreLimits
  #bytes = 0

  constructor(limits: MemoryStoreLimits) {
    this.#limits = limits
  }

  get size(): number {
    return this.#slots.size
  }
  get bytes(): number {
    return this.#bytes
  }

  get(key: string, now: number): Promise<CacheEntry | undefined> {
    const s = this.#slots.get(key)
    if (!s) return Promise.resolve(undefined)
    this.#slots.delete(key)
    if (s.expiresAt <= now) {
      this.#bytes -= s.bytes
      return Promise.resolve(undefined)
    }
    // Re-inserted: Map order is recency order.
    this.#slots.set(key, s)
    return Promise.resolve(s.entry)
  }

  set(key: string, entry: CacheEntry, ttlMs: number, now: number): Promise<void> {
    const bytes = entryBytes(entry)
    const old = this.#slots.get(key)
    if (old) {
      this.#slots.delete(key)
      this.#bytes -= old.bytes
    }
    // An answer larger than the whole budget is not kept (it would evict everything).
    if (bytes > this.#limits.maxBytes || ttlMs <= 0) return Promise.resolve()
    this.#slots.set(key, { entry, bytes, expiresAt: now + ttlMs })
    this.#bytes += bytes
    for (const [k, s] of this.#slots) {
      if (this.#slots.size <= this.#limits.maxEntries && this.#bytes <= this.#limits.maxBytes) break
      this.#slots.delete(k)
      this.#bytes -= s.bytes
    }
    return Promise.resolve()
  }
}
