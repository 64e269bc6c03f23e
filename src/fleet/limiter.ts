/**
 * Fleet-wide provider limits (`rpm`, `tpm`, `maxConcurrent`), decided atomically in Redis by
 * one Lua script per admission: token buckets refilled on Redis `TIME` (never an instance's
 * clock), TPM reserved on admission and settled with the reported usage, and concurrency
 * slots as leases in a sorted set that expire by themselves when an instance dies (live
 * instances renew theirs, which also rebuilds them after Redis restarts empty).
 *
 * Redis down or slow: the admission falls back, within one command timeout, to a local
 * limiter holding this instance's share of each limit (the limit ÷ the fleet size last seen).
 */
import { timerDelay } from '../lib/clock.ts'
import type { ProviderLimits } from '../config/types.ts'
import { type Acquired, grant, type LimitReason, ProviderLimiter, type RateLimiter } from '../resilience/limiter.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/** KEYS rpm, tpm, slots; ARGV rpm, tpm, maxConcurrent (0: none), estTokens, leaseId, leaseTtlMs. */
const ACQUIRE = script(`${NOW_LUA}
local rpm, tpm, maxc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local est, lease, ttl = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local function level(key, cap)
  local v = redis.call('HMGET', key, 't', 'at')
  local tokens, at = tonumber(v[1]), tonumber(v[2])
  if not tokens then return cap end
  return math.min(cap, tokens + math.max(0, now - at) * cap / 60000)
end
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= maxc then return {0, 'concurrency', 50} end
end
local r, k, need = 0, 0, 0
if rpm > 0 then
  r = level(KEYS[1], rpm)
  if r < 1 then return {0, 'rpm', math.max(1, math.ceil((1 - r) * 60000 / rpm))} end
end
if tpm > 0 then
  need = math.min(math.max(0, est), tpm)
  k = level(KEYS[2], tpm)
  if k < need then return {0, 'tpm', math.max(1, math.ceil((need - k) * 60000 / tpm))} end
end
if rpm > 0 then redis.call('HSET', KEYS[1], 't', tostring(r - 1), 'at', tostring(now)); redis.call('PEXPIRE', KEYS[1], 120000) end
if tpm > 0 then redis.call('HSET', KEYS[2], 't', tostring(k - need), 'at', tostring(now)); redis.call('PEXPIRE', KEYS[2], 120000) end
if maxc > 0 then redis.call('ZADD', KEYS[3], now + ttl, lease); redis.call('PEXPIRE', KEYS[3], ttl * 2) end
return {1}
`)

/** KEYS tpm, slots; ARGV tpm, reserved, actual (-1: unknown), leaseId. */
const RELEASE = script(`
redis.call('ZREM', KEYS[2], ARGV[4])
local tpm, reserved, actual = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if tpm > 0 and actual >= 0 then
  local v = redis.call('HGET', KEYS[1], 't')
  if v then redis.call('HSET', KEYS[1], 't', tostring(math.min(tpm, math.max(0, tonumber(v) + reserved - actual)))) end
end
return 1
`)

/** KEYS slots; ARGV leaseTtlMs, leaseId…: the live leases, re-added when Redis lost them. */
const RENEW = script(`${NOW_LUA}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 1
`)

export interface FleetLimiterOptions extends FleetLink {
  readonly limits: ReadonlyMap<string, ProviderLimits>
  readonly leaseTtlMs: number
  /** Instances in the fleet as last seen (at least 1): the local fallback's share. */
  readonly fleetSize: () => number
}

const has = (l: ProviderLimits | undefined): l is ProviderLimits =>
  l !== undefined && (l.rpm !== undefined || l.tpm !== undefined || l.maxConcurrent !== undefined)

function share(limits: ReadonlyMap<string, ProviderLimits>, n: number): Map<string, ProviderLimits> {
  const part = (v: number | undefined) => (v === undefined ? undefined : Math.max(1, Math.floor(v / n)))
  return new Map(
    [...limits].map((
      [name, l],
    ) => [name, dropUndefined({ rpm: part(l.rpm), tpm: part(l.tpm), maxConcurrent: part(l.maxConcurrent) })]),
  )
}

function dropUndefined(
  l: { rpm?: number | undefined; tpm?: number | undefined; maxConcurrent?: number | undefined },
): ProviderLimits {
  return Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as ProviderLimits
}

/** The fleet-wide `RateLimiter`; the routing engine awaits its `tryAcquire` (one Redis round trip). */
export class FleetLimiter implements RateLimiter {
  readonly #o: FleetLimiterOptions
  readonly #limited: boolean
  #fallback: ProviderLimiter
  #fallbackSize = 1
  /** Refusals Redis gave, kept until they expire, so the plan skips those providers up front. */
  readonly #denied = new Map<string, { reason: LimitReason; until: number }>()
  /** Live leases per provider (renewed in the background). */
  readonly #leases = new Map<string, Set<string>>()
  #seq = 0
  #renewTimer: ReturnType<typeof setInterval> | undefined

  constructor(o: FleetLimiterOptions) {
    this.#o = o
    this.#limited = [...o.limits.values()].some(has)
    this.#fallback = new ProviderLimiter(share(o.limits, 1))
    if ([...o.limits.values()].some((l) => l.maxConcurrent !== undefined)) {
      this.#renewTimer = setInterval(() => void this.renew(), timerDelay(Math.max(250, Math.floor(o.leaseTtlMs / 3))))
      ;(this.#renewTimer as { unref?: () => void }).unref?.()
    }
  }

  get limited(): boolean {
    return this.#limited
  }

  tryAcquire(provider: string, estTokens: number, now: number): Acquired | Promise<Acquired> {
    const lim = this.#o.limits.get(provider)
    if (!has(lim)) return { ok: true, release: () => {} }
    if (!this.#o.redis.usable()) return this.#local(provider, estTokens, now)
    return this.#remote(provider, lim, estTokens, now)
  }

  blocked(
    providers: Iterable<string>,
    estTokens: number,
    now: number,
  ): ReadonlyMap<string, { reason: LimitReason; retryInMs: number }> {
    if (!this.#limited) return new Map()
    if (!this.#o.redis.usable()) return this.#fallbackFor().blocked(providers, estTokens, now)
    const out = new Map<string, { reason: LimitReason; retryInMs: number }>()
    for (const name of providers) {
      const d = this.#denied.get(name)
      if (!d) continue
      if (d.until <= now) this.#denied.delete(name)
      else out.set(name, { reason: d.reason, retryInMs: d.until - now })
    }
    return out
  }

  inFlight(provider: string): number {
    return (this.#leases.get(provider)?.size ?? 0) + this.#fallback.inFlight(provider)
  }

  /** Re-stamps every live lease (called on a timer, and after Redis comes back). */
  async renew(): Promise<void> {
    if (!this.#o.redis.usable()) return
    await Promise.all(
      [...this.#leases].filter(([, ids]) => ids.size > 0).map(([provider, ids]) =>
        this.#o.redis.run(RENEW, [this.#o.keys.limits(provider).slots], [this.#o.leaseTtlMs, ...ids])
      ),
    )
  }

  close(): void {
    if (this.#renewTimer) clearInterval(this.#renewTimer)
  }

  async #remote(provider: string, lim: ProviderLimits, estTokens: number, now: number): Promise<Acquired> {
    const k = this.#o.keys.limits(provider)
    const lease = `${this.#o.instanceId}:${++this.#seq}`
    const reserved = Math.max(0, Math.round(estTokens))
    const r = await this.#o.redis.run(ACQUIRE, [k.rpm, k.tpm, k.slots], [
      lim.rpm ?? 0,
      lim.tpm ?? 0,
      lim.maxConcurrent ?? 0,
      reserved,
      lease,
      this.#o.leaseTtlMs,
    ])
    if (!Array.isArray(r)) return this.#local(provider, estTokens, now)
    if (r[0] !== 1) {
      const reason = (r[1] === 'tpm' || r[1] === 'concurrency' ? r[1] : 'rpm') as LimitReason
      const retryInMs = Math.max(1, Number(r[2]) || 50)
      this.#denied.set(provider, { reason, until: now + retryInMs })
      return { ok: false, reason, retryInMs, fleet: true }
    }
    this.#denied.delete(provider)
    let ids = this.#leases.get(provider)
    if (!ids) this.#leases.set(provider, ids = new Set())
    const live = ids
    if (lim.maxConcurrent !== undefined) live.add(lease)
    return grant((actualTokens) => {
      live.delete(lease)
      if (lim.maxConcurrent === undefined && (lim.tpm === undefined || actualTokens === undefined)) return
      // Settled in the background; a lost release is a lease that expires by itself.
      void this.#o.redis.run(RELEASE, [k.tpm, k.slots], [
        lim.tpm ?? 0,
        Math.min(reserved, lim.tpm ?? reserved),
        actualTokens ?? -1,
        lease,
      ])
    })
  }

  #local(provider: string, estTokens: number, now: number): Acquired {
    return this.#fallbackFor().tryAcquire(provider, estTokens, now)
  }

  /** The local limiter with this instance's share; rebuilt when the fleet's size changed. */
  #fallbackFor(): ProviderLimiter {
    const n = Math.max(1, this.#o.fleetSize())
    if (n !== this.#fallbackSize) {
      this.#fallbackSize = n
      this.#fallback = new ProviderLimiter(share(this.#o.limits, n))
    }
    return this.#fallback
  }
}
