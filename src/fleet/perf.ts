/**
 * Active performance test results shared by the fleet: the instance that leads the schedule
 * publishes its aggregates after each test, and every instance's routing reads them. Ages
 * travel instead of timestamps (measured on the leader's clock, carried across on Redis's),
 * so no two instances' clocks are compared.
 */
import { timerDelay } from '../lib/clock.ts'
import type { TargetMetrics } from '../perf/aggregate.ts'
import type { FleetKeys } from './keys.ts'
import { type FleetRedis, script } from './redis.ts'

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/** KEYS results; ARGV json: stores the leader's results with Redis's time. */
const PUBLISH = script(`${NOW_LUA}
redis.call('SET', KEYS[1], now .. '\\0' .. ARGV[1], 'PX', 86400000)
return 1
`)

/** KEYS results: { ms since publication, json } or {}. */
const READ = script(`${NOW_LUA}
local v = redis.call('GET', KEYS[1])
if not v then return {} end
local sep = string.find(v, '\\0', 1, true)
return { tostring(now - tonumber(string.sub(v, 1, sep - 1))), string.sub(v, sep + 1) }
`)

/** A result as published: `lastTested` replaced by its age when published. */
type Published = Omit<TargetMetrics, 'lastTested'> & { readonly ageMs: number }

export interface FleetPerfOptions {
  readonly redis: FleetRedis
  readonly keys: FleetKeys
  readonly now: () => number
  readonly periodMs: number
}

export class FleetPerf {
  readonly #o: FleetPerfOptions
  #latest: readonly TargetMetrics[] = []
  #seen = ''
  readonly #listeners: (() => void)[] = []
  readonly #timer: ReturnType<typeof setInterval>

  constructor(o: FleetPerfOptions) {
    this.#o = o
    this.#timer = setInterval(() => void this.pull(), timerDelay(o.periodMs))
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  /** The leader's results, `lastTested` on this instance's clock. */
  latest(): readonly TargetMetrics[] {
    return this.#latest
  }

  /** Called when new results arrived (refresh what routing reads). */
  onChange(cb: () => void): void {
    this.#listeners.push(cb)
  }

  /** The leader publishes its aggregates (after each finished test). */
  async publish(metrics: readonly TargetMetrics[]): Promise<void> {
    const now = this.#o.now()
    const out: Published[] = metrics.map(({ lastTested, ...m }) => ({ ...m, ageMs: Math.max(0, now - lastTested) }))
    await this.#o.redis.run(PUBLISH, [this.#o.keys.perfResults], [JSON.stringify(out)])
  }

  /** Reads the published results (on a timer). */
  async pull(): Promise<void> {
    if (!this.#o.redis.usable()) return
    const r = await this.#o.redis.run(READ, [this.#o.keys.perfResults], [])
    if (!Array.isArray(r) || r.length < 2) return
    const json = String(r[1])
    const since = Number(r[0])
    if (json === this.#seen) return
    let list: Published[]
    try {
      list = JSON.parse(json) as Published[]
    } catch {
      return
    }
    const now = this.#o.now()
    this.#seen = json
    this.#latest = list.map(({ ageMs, ...m }) => ({ ...m, lastTested: now - ageMs - Math.max(0, since) }))
    for (const cb of this.#listeners) cb()
  }

  close(): void {
    clearInterval(this.#timer)
  }
}

/** This instance's own results, with the fleet's filling in every target it has not tested itself. */
export function withFleetResults(own: readonly TargetMetrics[], fleet: readonly TargetMetrics[]): TargetMetrics[] {
  const mine = new Set(own.map((m) => m.target))
  return [...own, ...fleet.filter((m) => !mine.has(m.target))]
}
