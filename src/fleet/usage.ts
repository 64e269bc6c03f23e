/**
 * Fleet usage totals: each instance writes its own totals per day (Redis's day, from `TIME`)
 * as absolute values under one field per process, every couple of seconds; any instance reads
 * the sum. Absolute values make a rewrite idempotent, so after Redis restarts empty the next
 * flush rebuilds every live instance's share without double counting. Each instance still
 * persists its own history in SQLite.
 *
 * Named API keys' totals (requests, tokens, cost; by key NAME, never the key) travel the same
 * way in a second hash per day, written by the same script call: one round trip per changed
 * day per flush, whatever the traffic. All keys are under the hash tag `{usage}`, one Cluster slot.
 */
import { timerDelay } from '../lib/clock.ts'
import { type PairTotals, PairTotalsMap, UsageLedger, type UsageSnapshot } from '../usage/ledger.ts'
import type { KeyDayUsage, KeyTotals } from '../keys/ledger.ts'
import type { FleetKeys } from './keys.ts'
import { type FleetRedis, script } from './redis.ts'

/**
 * KEYS days, day's pairs, day's named keys; ARGV day, ttlSeconds, n, then n pair fields (field, json, …),
 * then key fields (field, json, …): this process's absolute totals for the day.
 */
const WRITE = script(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
local n = tonumber(ARGV[3])
for i = 4, 3 + 2 * n, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
for i = 4 + 2 * n, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[2]))
return 1
`)

/**
 * KEYS days; ARGV key prefix of a day's pairs, of a day's named keys (same hash tag as KEYS[1]):
 * every day's fields, as day, 'p' or 'k', json, …
 */
const READ = script(`
local out = {}
for _, day in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. day)
  local k = redis.call('HGETALL', ARGV[2] .. day)
  if #h == 0 and #k == 0 then redis.call('SREM', KEYS[1], day) end
  for i = 1, #h, 2 do table.insert(out, day); table.insert(out, 'p'); table.insert(out, h[i + 1]) end
  for i = 1, #k, 2 do table.insert(out, day); table.insert(out, 'k'); table.insert(out, k[i + 1]) end
end
return out
`)

/** Days kept in Redis. */
const KEEP_DAYS = 40

export interface FleetUsageSnapshot extends UsageSnapshot {
  /** The days (UTC, by Redis's clock) the totals cover. */
  readonly days: string[]
  /** Requests and cost per day (UTC, by Redis's clock), for "today" on the dashboard. */
  readonly byDay: Record<string, DayTotals>
  /** Named API keys' fleet totals over `days`, by name; `todayUsd` is the cost of Redis's current day. */
  readonly keys: Record<string, KeyFleetTotals>
}

/** One named key's usage (what `KeyLedger` books per request). */
export type KeyUsage = Pick<KeyDayUsage, 'requests' | 'inputTokens' | 'outputTokens' | 'costUsd'>

export type KeyFleetTotals = KeyUsage & Pick<KeyTotals, 'todayUsd'>

type MutableKeyUsage = { -readonly [K in keyof KeyUsage]: KeyUsage[K] }

/** This process's totals of one day. */
interface Day {
  readonly pairs: PairTotalsMap
  readonly keys: Map<string, MutableKeyUsage>
}

/** One day's fleet-wide requests and cost. */
export interface DayTotals {
  readonly requests: number
  readonly costUsd: number
}

export interface FleetUsageOptions {
  readonly redis: FleetRedis
  readonly keys: FleetKeys
  /** This process's field: instance id plus a per-process nonce (a restart never overwrites). */
  readonly field: string
  /** Milliseconds since the epoch on Redis's clock (local clock + the measured offset). */
  readonly redisNow: () => number
  readonly flushMs: number
}

export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

export class FleetUsage {
  readonly #o: FleetUsageOptions
  /** Day → this process's totals for it; days flushed and past are dropped. */
  readonly #days = new Map<string, Day>()
  readonly #dirty = new Set<string>()
  /** The day requests are counted in now, with its bounds on Redis's clock. */
  #current: { readonly day: string; readonly d: Day; readonly from: number; readonly until: number } | undefined
  readonly #timer: ReturnType<typeof setInterval>

  constructor(o: FleetUsageOptions) {
    this.#o = o
    this.#timer = setInterval(() => void this.flush(), timerDelay(o.flushMs))
    ;(this.#timer as { unref?: () => void }).unref?.()
    o.redis.onRecovered(() => {
      for (const d of this.#days.keys()) this.#dirty.add(d)
      void this.flush()
    })
  }

  /** One usage change (the ledger's delta), counted for today. */
  add(delta: PairTotals): void {
    this.#today().pairs.add(delta)
  }

  /** One request of named key `name` (by name, never the key), counted for today; written with the next flush. */
  addKey(name: string, u: KeyUsage): void {
    const keys = this.#today().keys
    const k = keys.get(name)
    if (!k) keys.set(name, { ...u })
    else {
      k.requests += u.requests
      k.inputTokens += u.inputTokens
      k.outputTokens += u.outputTokens
      k.costUsd += u.costUsd
    }
  }

  #today(): Day {
    // Per request: one clock read and a compare; the day's name and record are looked up only
    // when the day (by Redis's clock) changes or a flush dropped the record.
    const t = this.#o.redisNow()
    const c = this.#current
    if (c && t >= c.from && t < c.until && this.#days.get(c.day) === c.d) {
      this.#dirty.add(c.day)
      return c.d
    }
    const day = dayOf(t)
    let d = this.#days.get(day)
    if (!d) this.#days.set(day, d = { pairs: new PairTotalsMap(), keys: new Map() })
    this.#dirty.add(day)
    const from = Date.parse(day)
    this.#current = { day, d, from, until: from + 86_400_000 }
    return d
  }

  /** Writes the days that changed; a failed write stays dirty for the next round. */
  async flush(): Promise<void> {
    const today = dayOf(this.#o.redisNow())
    for (const day of [...this.#dirty]) {
      const d = this.#days.get(day)
      if (!d) continue
      this.#dirty.delete(day)
      const args: (string | number)[] = [day, KEEP_DAYS * 86_400, d.pairs.size]
      for (const p of d.pairs.values()) {
        args.push(
          `${this.#o.field}\u0000${p.tier}\u0000${p.target}`,
          JSON.stringify({ tier: p.tier, target: p.target, ...p.totals }),
        )
      }
      for (const [name, k] of d.keys) args.push(`${this.#o.field}\u0000${name}`, JSON.stringify({ name, ...k }))
      const keys = this.#o.keys
      const ok = await this.#o.redis.run(WRITE, [keys.usageDays, keys.usage(day), keys.keyUsage(day)], args)
      if (ok === undefined) this.#dirty.add(day)
      else if (day < today && !this.#dirty.has(day)) this.#days.delete(day)
    }
  }

  /** The fleet's totals over every kept day; undefined when Redis did not answer. */
  async snapshot(): Promise<FleetUsageSnapshot | undefined> {
    await this.flush()
    const k = this.#o.keys
    const r = await this.#o.redis.run(READ, [k.usageDays], [k.usage(''), k.keyUsage('')])
    if (!Array.isArray(r)) return undefined
    const ledger = new UsageLedger()
    const days = new Set<string>()
    const byDay: Record<string, DayTotals> = {}
    const keys: Record<string, KeyFleetTotals> = {}
    const today = dayOf(this.#o.redisNow())
    for (let i = 0; i + 2 < r.length; i += 3) {
      const day = String(r[i])
      days.add(day)
      try {
        const json = JSON.parse(String(r[i + 2])) as Record<string, unknown>
        if (r[i + 1] === 'k') {
          const name = String(json.name)
          keys[name] = addKeyTotals(keys[name], json, day === today)
          continue
        }
        const p = json as unknown as PairTotals
        ledger.seed([p])
        const d = byDay[day] ?? { requests: 0, costUsd: 0 }
        byDay[day] = { requests: d.requests + (Number(p.requests) || 0), costUsd: d.costUsd + (Number(p.costUsd) || 0) }
      } catch { /* a damaged field is skipped */ }
    }
    return { ...ledger.snapshot(), days: [...days].sort(), byDay, keys }
  }

  close(): void {
    clearInterval(this.#timer)
  }
}

function addKeyTotals(t: KeyFleetTotals | undefined, u: Record<string, unknown>, today: boolean): KeyFleetTotals {
  const n = (v: unknown) => Number(v) || 0
  const cost = n(u.costUsd)
  return {
    requests: (t?.requests ?? 0) + n(u.requests),
    inputTokens: (t?.inputTokens ?? 0) + n(u.inputTokens),
    outputTokens: (t?.outputTokens ?? 0) + n(u.outputTokens),
    costUsd: (t?.costUsd ?? 0) + cost,
    todayUsd: (t?.todayUsd ?? 0) + (today ? cost : 0),
  }
}
