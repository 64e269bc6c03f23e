/**
 * The response cache in Redis, for fleet mode: every instance reads and writes the same
 * entries. It needs only a script runner (the fleet's Redis link: `run(script, keys, args)`,
 * undefined on failure, and `usable()` false while the link is degraded), so this file has no
 * Redis client of its own. While Redis is unusable a lookup is a miss and a store is skipped:
 * the cache never fails a request. Expiry is Redis's own (`SET … PX`); eviction past memory
 * is the server's `maxmemory-policy` (an LRU policy suits a cache).
 */
import { createHash } from 'node:crypto'
import type { CacheEntry, CacheStore } from './store.ts'
import { entryBytes } from './store.ts'

export interface CacheScript {
  readonly lua: string
  /** SHA-1 of `lua`, for EVALSHA. */
  readonly sha: string
}

/** What the cache needs of the fleet's Redis link. */
export interface ScriptRunner {
  usable(): boolean
  run(s: CacheScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>
}

const script = (lua: string): CacheScript => ({ lua, sha: createHash('sha1').update(lua).digest('hex') })

export const GET_SCRIPT = script("return redis.call('GET', KEYS[1])")
export const SET_SCRIPT = script("return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])")

/**
 * A CacheStore over Redis. `prefix` is the fleet's key prefix; entries live under
 * `<prefix>cache:<sha256>`. An entry over `maxBytes` is not stored.
 */
export function redisCacheStore(redis: ScriptRunner, opts: { prefix: string; maxBytes: number }): CacheStore {
  const keyOf = (k: string) => `${opts.prefix}cache:${k}`
  return {
    async get(key) {
      if (!redis.usable()) return undefined
      const raw = await redis.run(GET_SCRIPT, [keyOf(key)], []).catch(() => undefined)
      if (typeof raw !== 'string') return undefined
      try {
        return JSON.parse(raw) as CacheEntry
      } catch {
        return undefined
      }
    },
    async set(key, entry, ttlMs) {
      if (!redis.usable() || ttlMs <= 0 || entryBytes(entry) > opts.maxBytes) return
      await redis.run(SET_SCRIPT, [keyOf(key)], [JSON.stringify(entry), Math.ceil(ttlMs)]).catch(() => undefined)
    },
  }
}
