/**
 * Named API keys' limits across the fleet (`Keys`: `budgetUsdPerDay`, `rpm`): one Lua script
 * per admission reads the key's spend for the current day of Redis's clock (UTC) and takes a
 * token from its request bucket (refilled on Redis `TIME`), atomically; each finished request
 * adds its cost to the day's counter in the background. Counters are by key NAME (never the
 * key itself), all under one hash tag `{keys}`.
 *
 * Redis down or slow: `admit` answers undefined within one command timeout and the ledger
 * decides locally (see keys/ledger.ts: this instance's share of the rpm, the fleet spend last
 * seen plus what this instance spent since). Nothing here ever fails a request.
 */
import type { KeyLimitDecision, SharedKeyLimits } from '../keys/ledger.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

/** KEYS spend base, rpm bucket; ARGV name, budget (-1: none), rpm (0: none). {1, spent} or {0, reason, retryMs, spent}. */
const ADMIT = script(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local day = math.floor(tonumber(t[1]) / 86400)
local spent = tonumber(redis.call('HGET', KEYS[1] .. ':' .. day, ARGV[1]) or '0')
local budget, rpm = tonumber(ARGV[2]), tonumber(ARGV[3])
if budget >= 0 and spent >= budget then return {0, 'budget', (day + 1) * 86400000 - now, tostring(spent)} end
if rpm > 0 then
  local v = redis.call('HMGET', KEYS[2], 't', 'at')
  local tokens, at = tonumber(v[1]), tonumber(v[2])
  local r = rpm
  if tokens then r = math.min(rpm, tokens + math.max(0, now - at) * rpm / 60000) end
  if r < 1 then return {0, 'rpm', math.max(1, math.ceil((1 - r) * 60000 / rpm)), tostring(spent)} end
  redis.call('HSET', KEYS[2], 't', tostring(r - 1), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[2], 120000)
end
return {1, tostring(spent)}
`)

/** KEYS spend base; ARGV name, costUsd: adds to the current day's spend of the key (kept two days). */
const RECORD = script(`local t = redis.call('TIME')
local key = KEYS[1] .. ':' .. math.floor(tonumber(t[1]) / 86400)
redis.call('HINCRBYFLOAT', key, ARGV[1], ARGV[2])
redis.call('EXPIRE', key, 172800)
return 1
`)

export interface FleetKeyLimitsOptions extends Pick<FleetLink, 'redis' | 'keys'> {
  /** Instances in the fleet as last seen (at least 1): the local fallback's share of an rpm. */
  readonly fleetSize: () => number
}

export class FleetKeyLimits implements SharedKeyLimits {
  readonly #o: FleetKeyLimitsOptions

  constructor(o: FleetKeyLimitsOptions) {
    this.#o = o
  }

  fleetSize(): number {
    return Math.max(1, this.#o.fleetSize())
  }

  async admit(
    name: string,
    limits: { readonly budgetUsdPerDay?: number; readonly rpm?: number },
  ): Promise<KeyLimitDecision | undefined> {
    if (!this.#o.redis.usable()) return undefined
    const k = this.#o.keys.apiKey(name)
    const r = await this.#o.redis.run(ADMIT, [k.spend, k.rpm], [name, limits.budgetUsdPerDay ?? -1, limits.rpm ?? 0])
    if (!Array.isArray(r)) return undefined
    if (r[0] === 1) return { ok: true, spentUsd: Number(r[1]) || 0 }
    return {
      ok: false,
      reason: r[1] === 'budget' ? 'budget' : 'rpm',
      retryAfterMs: Math.max(1, Number(r[2]) || 1_000),
      spentUsd: Number(r[3]) || 0,
    }
  }

  record(name: string, costUsd: number): void {
    if (!(costUsd > 0) || !this.#o.redis.usable()) return
    void this.#o.redis.run(RECORD, [this.#o.keys.apiKey(name).spend], [name, costUsd])
  }
}
