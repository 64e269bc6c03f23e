/**
 * The performance tests' daily token budget, spent by the whole fleet together: one counter per
 * day of Redis's clock (UTC), checked and raised in one script, so two instances never both
 * take the last tokens. When Redis does not answer, each instance's own budget decides alone.
 */
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

const DAY_LUA = `local t = redis.call('TIME')
local key = KEYS[1] .. ':' .. math.floor(tonumber(t[1]) / 86400)
`

/** KEYS budget; ARGV tokens, limit: 1 and the tokens held, or 0 when today's budget would be exceeded. */
const RESERVE = script(`${DAY_LUA}
local used = tonumber(redis.call('GET', key) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', key, ARGV[1])
redis.call('EXPIRE', key, 172800)
return 1
`)

/** KEYS budget; ARGV delta (spent − reserved). */
const SETTLE = script(`${DAY_LUA}
local v = redis.call('INCRBY', key, ARGV[1])
if v < 0 then redis.call('SET', key, 0, 'KEEPTTL') end
redis.call('EXPIRE', key, 172800)
return 1
`)

export class FleetBudget {
  readonly #o: Pick<FleetLink, 'redis' | 'keys'>

  constructor(o: Pick<FleetLink, 'redis' | 'keys'>) {
    this.#o = o
  }

  async reserve(tokens: number, limit: number): Promise<boolean | undefined> {
    if (!this.#o.redis.usable()) return undefined
    const r = await this.#o.redis.run(RESERVE, [this.#o.keys.perfBudget], [Math.max(0, Math.ceil(tokens)), limit])
    return r === undefined ? undefined : r === 1
  }

  settle(reserved: number, spent: number): void {
    const delta = Math.ceil(Math.max(0, spent)) - Math.ceil(Math.max(0, reserved))
    if (delta !== 0) void this.#o.redis.run(SETTLE, [this.#o.keys.perfBudget], [delta])
  }
}
