/**
 * Recent Responses API conversations by response id, so a request with `previous_response_id`
 * can be served by any upstream: the stored input and output items are put in front of its
 * `input`. Bounded in entries, bytes and age. The interface is async so fleet mode can back it
 * with a shared store.
 */
import type { JsonObject } from '../formats/types.ts'

export interface ResponseStore {
  /** The conversation (input items, then output items) that led to response `id`, if still kept. */
  get(id: string): Promise<readonly JsonObject[] | undefined>
  put(id: string, items: readonly JsonObject[]): Promise<void>
}

export interface MemoryStoreOptions {
  readonly now: () => number
  /** Default 1,000 responses. */
  readonly maxEntries?: number
  /** Default 64 MB of JSON. */
  readonly maxBytes?: number
  /** Default one hour. */
  readonly ttlMs?: number
}

/** An in-process store: least recently stored entries go first when a bound is hit. */
export function memoryResponseStore(
  opts: MemoryStoreOptions,
): ResponseStore & { readonly size: number; readonly bytes: number } {
  const maxEntries = opts.maxEntries ?? 1_000
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024
  const ttlMs = opts.ttlMs ?? 60 * 60 * 1000
  const entries = new Map<string, { items: readonly JsonObject[]; at: number; bytes: number }>()
  let bytes = 0
  const drop = (id: string) => {
    const e = entries.get(id)
    if (!e) return
    bytes -= e.bytes
    entries.delete(id)
  }
  return {
    get size() {
      return entries.size
    },
    get bytes() {
      return bytes
    },
    async get(id) {
      const e = entries.get(id)
      if (!e) return undefined
      if (opts.now() - e.at > ttlMs) {
        drop(id)
        return undefined
      }
      return e.items
    },
    async put(id, items) {
      const size = JSON.stringify(items).length
      drop(id)
      if (size > maxBytes) return
      entries.set(id, { items, at: opts.now(), bytes: size })
      bytes += size
      for (const [old] of entries) {
        if (entries.size <= maxEntries && bytes <= maxBytes) break
        drop(old)
      }
    },
  }
}
