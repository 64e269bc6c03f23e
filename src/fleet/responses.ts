/**
 * The Responses store in Redis, for fleet mode: a Codex CLI conversation may hop between
 * instances behind a load balancer, since every instance finds the conversation any other one
 * stored (`previous_response_id`, `item_reference`, `GET /v1/responses/{id}`). Bounded like the in-process store: each entry expires (`PX`), an entry over
 * the byte cap is not shared, and an index by age (all keys under one hash tag `{responses}`)
 * drops the oldest entries past the fleet's entry and byte bounds, in the same script.
 *
 * Every put also goes to this instance's own store, and a get asks it first (no round trip for
 * a conversation that stays on one instance); while Redis is unusable only the own store
 * answers. Nothing here fails a request.
 */
import type { JsonObject } from '../formats/types.ts'
import { itemIdsOf, parseInputItemId, type ResponseStore, type StoredResponse } from '../proxy/response-store.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

/** Forgets one entry (its item pointers expire by themselves; a stale one finds nothing). */
const DROP = `local function drop(id)
  local size = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  if size > 0 then redis.call('HINCRBY', KEYS[2], '#bytes', 0 - size) end
  return redis.call('DEL', string.sub(KEYS[3], 1, #KEYS[3] - #ARGV[1]) .. id)
end
`

/**
 * KEYS index, sizes, entry, then one pointer key per item id of the entry; ARGV id (as it ends
 * the entry key), json, ttlMs, maxEntries, maxBytes, the id as the pointers hold it. Other
 * entries' keys are the entry key's prefix and their id (the same hash tag, one slot).
 */
const PUT = script(`${DROP}local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, maxn, maxb = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
drop(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)) do drop(id) end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ttl)
for i = 4, #KEYS do redis.call('SET', KEYS[i], ARGV[6], 'PX', ttl) end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], #ARGV[2])
local bytes = redis.call('HINCRBY', KEYS[2], '#bytes', #ARGV[2])
while redis.call('ZCARD', KEYS[1]) > maxn or bytes > maxb do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not oldest or oldest == ARGV[1] then break end
  drop(oldest)
  bytes = tonumber(redis.call('HGET', KEYS[2], '#bytes') or '0')
end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
return 1
`)

/** KEYS index, sizes, entry; ARGV id (as it ends the entry key). Returns 1 if the entry was kept. */
const DELETE = script(`${DROP}return drop(ARGV[1])`)

const GET = script(`return redis.call('GET', KEYS[1])`)

export interface FleetResponseOptions extends Pick<FleetLink, 'redis' | 'keys'> {
  /** This instance's own store (written always, read first). */
  readonly local: ResponseStore
  /** Default one hour. */
  readonly ttlMs?: number
  /** Entries kept in Redis for the whole fleet; default 10,000. */
  readonly maxEntries?: number
  /** JSON bytes kept in Redis for the whole fleet; default 256 MB. */
  readonly maxBytes?: number
  /** One entry larger than this stays on its instance; default 8 MB. */
  readonly maxEntryBytes?: number
}

/** An entry as kept in Redis; a bare array is the conversation an earlier version kept. */
function parseEntry(raw: unknown, id: string): StoredResponse | undefined {
  if (typeof raw !== 'string') return undefined
  try {
    const v = JSON.parse(raw) as unknown
    // Kept by a version before `GET /v1/responses/{id}` (for one TTL at most): the history only.
    if (Array.isArray(v)) return { input: v as JsonObject[], response: { id, object: 'response', output: [] } }
    const e = v as Partial<StoredResponse> | null
    if (!Array.isArray(e?.input) || typeof e.response !== 'object' || e.response === null) return undefined
    return { input: e.input, response: e.response, ...(typeof e.owner === 'string' ? { owner: e.owner } : {}) }
  } catch {
    return undefined
  }
}

export function fleetResponseStore(o: FleetResponseOptions): ResponseStore {
  const ttlMs = o.ttlMs ?? 3_600_000
  const maxEntries = o.maxEntries ?? 10_000
  const maxBytes = o.maxBytes ?? 256 * 1024 * 1024
  const maxEntryBytes = o.maxEntryBytes ?? 8 * 1024 * 1024
  const index = o.keys.responseIndex
  const sizes = `${o.keys.responseIndex}:sizes`
  // The entry key ends with the id as the scripts see it: the prefix before it names the others' keys.
  const entryKeys = (id: string) => {
    const key = o.keys.response(id)
    return { keys: [index, sizes, key], tail: key.slice(key.lastIndexOf(':') + 1) }
  }
  // Another instance's DELETE: this one's own copy goes too (while Redis is down, it stays until its TTL).
  void o.redis.subscribe(o.keys.responseDeleted, (id) => void o.local.delete(id)).catch(() => undefined)
  const get = async (id: string): Promise<StoredResponse | undefined> => {
    const own = await o.local.get(id)
    if (own || !o.redis.usable()) return own
    return parseEntry(await o.redis.run(GET, [o.keys.response(id)], []), id)
  }
  return {
    get,
    async put(entry) {
      await o.local.put(entry)
      const id = entry.response.id
      if (typeof id !== 'string' || !o.redis.usable()) return
      const json = JSON.stringify(entry)
      if (json.length > maxEntryBytes) return
      const { keys, tail } = entryKeys(id)
      const pointers = [...new Set(itemIdsOf(entry))].map(o.keys.responseItem)
      await o.redis.run(PUT, [...keys, ...pointers], [tail, json, ttlMs, maxEntries, maxBytes, id])
    },
    async delete(id) {
      const own = await o.local.delete(id)
      if (!o.redis.usable()) return own
      const { keys, tail } = entryKeys(id)
      const shared = (await o.redis.run(DELETE, keys, [tail])) === 1
      if (shared || own) await o.redis.publish(o.keys.responseDeleted, id)
      return shared || own
    },
    async itemOwner(itemId) {
      const own = await o.local.itemOwner(itemId)
      if (own !== undefined || !o.redis.usable()) return own
      const derived = parseInputItemId(itemId)
      if (derived) return (await get(derived.responseId)) ? derived.responseId : undefined
      const owner = await o.redis.run(GET, [o.keys.responseItem(itemId)], [])
      return typeof owner === 'string' && (await get(owner)) ? owner : undefined
    },
  }
}
