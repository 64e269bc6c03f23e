/**
 * The `previous_response_id` store in Redis, for fleet mode: a Codex CLI conversation may hop
 * between instances behind a load balancer, since every instance finds the conversation any
 * other one stored. Bounded like the in-process store: each entry expires (`PX`), an entry over
 * the byte cap is not shared, and an index by age (all keys under one hash tag `{responses}`)
 * drops the oldest entries past the fleet's entry and byte bounds, in the same script.
 *
 * Every put also goes to this instance's own store, and a get asks it first (no round trip for
 * a conversation that stays on one instance); while Redis is unusable only the own store
 * answers. Nothing here fails a request.
 */
import type { JsonObject } from '../formats/types.ts'
import type { ResponseStore } from '../proxy/response-store.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

/**
 * KEYS index, sizes, entry; ARGV id (as it ends the entry key), json, ttlMs, maxEntries, maxBytes.
 * Other entries' keys are the entry key's prefix and their id (the same hash tag, one slot).
 */
const PUT = script(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, maxn, maxb = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function drop(id)
  local size = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  if size > 0 then redis.call('HINCRBY', KEYS[2], '#bytes', 0 - size) end
  redis.call('DEL', string.sub(KEYS[3], 1, #KEYS[3] - #ARGV[1]) .. id)
end
drop(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)) do drop(id) end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ttl)
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

export function fleetResponseStore(o: FleetResponseOptions): ResponseStore {
  const ttlMs = o.ttlMs ?? 3_600_000
  const maxEntries = o.maxEntries ?? 10_000
  const maxBytes = o.maxBytes ?? 256 * 1024 * 1024
  const maxEntryBytes = o.maxEntryBytes ?? 8 * 1024 * 1024
  const index = o.keys.responseIndex
  const sizes = `${o.keys.responseIndex}:sizes`
  return {
    async get(id) {
      const own = await o.local.get(id)
      if (own || !o.redis.usable()) return own
      const raw = await o.redis.run(GET, [o.keys.response(id)], [])
      if (typeof raw !== 'string') return undefined
      try {
        const items = JSON.parse(raw) as unknown
        return Array.isArray(items) ? (items as JsonObject[]) : undefined
      } catch {
        return undefined
      }
    },
    async put(id, items) {
      await o.local.put(id, items)
      if (!o.redis.usable()) return
      const json = JSON.stringify(items)
      if (json.length > maxEntryBytes) return
      // The entry key ends with the id as the script sees it: the prefix before it names the others' keys.
      const key = o.keys.response(id)
      const tail = key.slice(key.lastIndexOf(':') + 1)
      await o.redis.run(PUT, [index, sizes, key], [tail, json, ttlMs, maxEntries, maxBytes])
    },
  }
}
