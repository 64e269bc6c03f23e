/**
 * Fleet usage totals: each instance writes its own totals per day (Redis's day, from `TIME`)
 * as absolute values under one field per process, every couple of seconds; any instance reads
 * the sum. Absolute values make a rewrite idempotent, so after Redis restarts empty the next
 * flush rebuilds every live instance's share without double counting. Each instance still
 * persists its own history in SQLite.
 */
import { timerDelay } from '../lib/clock.ts'
import { type PairTotals, PairTotalsMap, UsageLedger, type UsageSnapshot } from '../usage/ledger.ts'
import type { FleetKeys } from './keys.ts'
import { type FleetRedis, script } from './redis.ts'

/** KEYS days, day; ARGV day, ttlSeconds, field, json, …: this process's absolute totals for the day. */
const WRITE = script(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1
`)

/** KEYS days; ARGV key prefix of a day: every day's fields, as day, json, … */
const READ = script(`
local out = {}
for _, day in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. day)
  if #h == 0 then redis.call('SREM', KEYS[1], day) end
  for i = 1, #h, 2 do table.insert(out, day); table.insert(out, h[i + 1]) end
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
  readonly #days = new Map<string, PairTotalsMap>()
  readonly #dirty = new Set<string>()
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
    const day = dayOf(this.#o.redisNow())
    let m = this.#days.get(day)
    if (!m) this.#days.set(day, m = new PairTotalsMap())
    m.add(delta)
    this.#dirty.add(day)
  }

  /** Writes the days that changed; a failed write stays dirty for the next round. */
  async flush(): Promise<void> {
    const today = dayOf(this.#o.redisNow())
    for (const day of [...this.#dirty]) {
      const m = this.#days.get(day)
      if (!m) continue
      this.#dirty.delete(day)
      const args: (string | number)[] = [day, KEEP_DAYS * 86_400]
      for (const p of m.values()) {
        args.push(
          `${this.#o.field}\u0000${p.tier}\u0000${p.target}`,
          JSON.stringify({ tier: p.tier, target: p.target, ...p.totals }),
        )
      }
      const ok = await this.#o.redis.run(WRITE, [this.#o.keys.usageDays, this.#o.keys.usage(day)], args)
      if (ok === undefined) this.#dirty.add(day)
      else if (day < today && !this.#dirty.has(day)) this.#days.delete(day)
    }
  }

  /** The fleet's totals over every kept day; undefined when Redis did not answer. */
  async snapshot(): Promise<FleetUsageSnapshot | undefined> {
    await this.flush()
    const r = await this.#o.redis.run(READ, [this.#o.keys.usageDays], [this.#o.keys.usage('')])
    if (!Array.isArray(r)) return undefined
    const ledger = new UsageLedger()
    const days = new Set<string>()
    const byDay: Record<string, DayTotals> = {}
    for (let i = 0; i + 1 < r.length; i += 2) {
      const day = String(r[i])
      days.add(day)
      try {
        const p = JSON.parse(String(r[i + 1])) as PairTotals
        ledger.seed([p])
        const d = byDay[day] ?? { requests: 0, costUsd: 0 }
        byDay[day] = { requests: d.requests + (Number(p.requests) || 0), costUsd: d.costUsd + (Number(p.costUsd) || 0) }
      } catch { /* a damaged field is skipped */ }
    }
    return { ...ledger.snapshot(), days: [...days].sort(), byDay }
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
