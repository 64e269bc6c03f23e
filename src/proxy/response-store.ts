/**
 * Recent Responses API answers by response id: the response object as the client received it and
 * the input items that led to it. A request with `previous_response_id` gets that conversation
 * (input, then output) in front of its `input`, so any upstream can serve it; an `item_reference`
 * is found through the ids of the items kept; `GET`/`DELETE /v1/responses/{id}` read and remove
 * an entry. Bounded in entries, bytes and age. The interface is async so fleet mode can back it
 * with a shared store.
 */
import type { JsonObject } from '../formats/types.ts'

/** One kept answer. `response.output` follows `input` in the conversation. */
export interface StoredResponse {
  /** The input items the answer was given for, the stored history of its `previous_response_id` first. */
  readonly input: readonly JsonObject[]
  /** The response object (`id`, `output`, `usage` …) as the client received it. */
  readonly response: JsonObject
  /**
   * The name of the API key (`Keys`) that made it, if a named one: only a request with the same
   * key finds it again. Response ids follow request ids, which are not secret.
   */
  readonly owner?: string
}

export interface ResponseStore {
  /** The answer with id `id`, if still kept. */
  get(id: string): Promise<StoredResponse | undefined>
  /** Keeps an answer under `response.id`. */
  put(entry: StoredResponse): Promise<void>
  /** Forgets an answer; whether it was kept. */
  delete(id: string): Promise<boolean>
  /** The id of a kept answer whose conversation holds the item with id `itemId`, if any. */
  itemOwner(itemId: string): Promise<string | undefined>
}

/** A request's `input` as items: a string is one user message, and anything not an object is left out. */
export function inputItemsOf(input: unknown): JsonObject[] {
  if (typeof input === 'string') {
    return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }]
  }
  return Array.isArray(input)
    ? input.filter((i): i is JsonObject => typeof i === 'object' && i !== null && !Array.isArray(i))
    : []
}

/** The conversation that led to an answer and the answer: what a follow-up continues. */
export function conversationOf(entry: StoredResponse): JsonObject[] {
  const output = Array.isArray(entry.response.output) ? (entry.response.output as JsonObject[]) : []
  return [...entry.input, ...output]
}

/**
 * The id by which `GET /v1/responses/{id}/input_items` lists the input item at `index` when the
 * client gave it none, and by which an `item_reference` finds it again.
 */
export function inputItemId(responseId: string, index: number): string {
  return `item_${responseId.replace(/^resp_/, '')}_${index}`
}

/** The answer and input index an `inputItemId` names, if `itemId` is one. */
export function parseInputItemId(itemId: string): { responseId: string; index: number } | undefined {
  const m = /^item_(.+)_(\d+)$/.exec(itemId)
  return m ? { responseId: `resp_${m[1]}`, index: Number(m[2]) } : undefined
}

/** The item with id `itemId` in an answer's conversation, derived input ids included. */
export function findItem(entry: StoredResponse, itemId: string): JsonObject | undefined {
  const derived = parseInputItemId(itemId)
  if (derived && derived.responseId === entry.response.id) return entry.input[derived.index]
  return conversationOf(entry).find((item) => item.id === itemId)
}

/** The ids the items of an answer's conversation carry (the client's and the upstream's). */
export function itemIdsOf(entry: StoredResponse): string[] {
  const ids: string[] = []
  for (const item of conversationOf(entry)) if (typeof item.id === 'string') ids.push(item.id)
  return ids
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
  const entries = new Map<string, { entry: StoredResponse; at: number; bytes: number }>()
  // An item id names the latest answer holding it: a follow-up's input repeats the earlier items.
  const owners = new Map<string, string>()
  let bytes = 0
  const drop = (id: string): boolean => {
    const e = entries.get(id)
    if (!e) return false
    bytes -= e.bytes
    entries.delete(id)
    for (const itemId of itemIdsOf(e.entry)) if (owners.get(itemId) === id) owners.delete(itemId)
    return true
  }
  const live = (id: string) => {
    const e = entries.get(id)
    if (e && opts.now() - e.at > ttlMs) {
      drop(id)
      return undefined
    }
    return e
  }
  return {
    get size() {
      return entries.size
    },
    get bytes() {
      return bytes
    },
    async get(id) {
      return live(id)?.entry
    },
    async put(entry) {
      const id = entry.response.id
      if (typeof id !== 'string') return
      const size = JSON.stringify(entry).length
      drop(id)
      if (size > maxBytes) return
      entries.set(id, { entry, at: opts.now(), bytes: size })
      bytes += size
      for (const itemId of itemIdsOf(entry)) owners.set(itemId, id)
      for (const [old] of entries) {
        if (entries.size <= maxEntries && bytes <= maxBytes) break
        drop(old)
      }
    },
    async delete(id) {
      return live(id) !== undefined && drop(id)
    },
    async itemOwner(itemId) {
      const derived = parseInputItemId(itemId)
      const owner = derived && live(derived.responseId) ? derived.responseId : owners.get(itemId)
      return owner !== undefined && live(owner) ? owner : undefined
    },
  }
}
