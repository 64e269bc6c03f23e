/**
 * Fleet-wide provider limits (`rpm`, `tpm`, `maxConcurrent`), kept in Redis and decided by Lua
 * scripts: token buckets refilled on Redis `TIME` (never an instance's clock), and concurrency
 * slots as leases in a sorted set that expire by themselves when an instance dies (live
 * instances renew theirs, which also rebuilds them after Redis restarts empty).
 *
 * Quota leasing: an instance takes a batch of each limit at once (tokens from the buckets, a
 * block of slot leases) and admits from that local pool without a round trip; it refills in
 * the background below a low-water mark and gives back what it does not need (idle, surplus,
 * shutdown). Batches follow recent local demand and never exceed a fair share
 * (src/fleet/quota.ts). A limit too small to split (fair share < 2) keeps the exact path:
 * one script per admission, as before. Either way the fleet never takes more than Redis grants.
 *
 * Redis down or slow: the admission falls back, within one command timeout, to a local
 * limiter holding this instance's share of each limit (the limit ÷ the fleet size last seen).
 */
import { timerDelay } from '../lib/clock.ts'
import type { ProviderLimits } from '../config/types.ts'
import { type Acquired, grant, type LimitReason, ProviderLimiter, type RateLimiter } from '../resilience/limiter.ts'
import type { FleetLink } from './keys.ts'
import {
  batchSize,
  burstDemand,
  Demand,
  EMPTY_POOL,
  IDLE_MS,
  type Pool,
  poolAdd,
  poolGive,
  poolSettle,
  poolSpend,
  poolSurplus,
  poolTake,
  refillWant,
} from './quota.ts'
import { script } from './redis.ts'

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, cap)
  local v = redis.call('HMGET', key, 't', 'at')
  local tokens, at = tonumber(v[1]), tonumber(v[2])
  if not tokens then return cap end
  return math.min(cap, tokens + math.max(0, now - at) * cap / 60000)
end
`

/** KEYS rpm, tpm, slots; ARGV rpm, tpm, maxConcurrent (0: none), estTokens, leaseId, leaseTtlMs. */
const ACQUIRE = script(`${NOW_LUA}
local rpm, tpm, maxc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local est, lease, ttl = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
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

/**
 * A batch for the local pools. KEYS rpm, tpm, slots; ARGV rpm, tpm, maxConcurrent, then per
 * limit the least it must get and the most it wants (0 wanted: leave that limit alone), then
 * the slot id prefix and leaseTtlMs. All or nothing on the minimums: {1, rpm, tpm, slots}
 * granted (slots named prefix:1..n), or {0, reason, retryMs}.
 */
const LEASE = script(`${NOW_LUA}
local rpm, tpm, maxc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rmin, rwant, tmin, twant = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local smin, swant, prefix, ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[11])
local s, r, k, gr, gt = 0, 0, 0, 0, 0
if maxc > 0 and swant > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local free = maxc - redis.call('ZCARD', KEYS[3])
  if free < smin then return {0, 'concurrency', 50} end
  s = math.min(swant, free)
end
if rpm > 0 and rwant > 0 then
  r = level(KEYS[1], rpm)
  if r < rmin then return {0, 'rpm', math.max(1, math.ceil((rmin - r) * 60000 / rpm))} end
  gr = math.min(rwant, math.floor(r))
end
if tpm > 0 and twant > 0 then
  k = level(KEYS[2], tpm)
  if k < tmin then return {0, 'tpm', math.max(1, math.ceil((tmin - k) * 60000 / tpm))} end
  gt = math.min(twant, math.floor(k))
end
if gr > 0 then redis.call('HSET', KEYS[1], 't', tostring(r - gr), 'at', tostring(now)); redis.call('PEXPIRE', KEYS[1], 120000) end
if gt > 0 then redis.call('HSET', KEYS[2], 't', tostring(k - gt), 'at', tostring(now)); redis.call('PEXPIRE', KEYS[2], 120000) end
for i = 1, s do redis.call('ZADD', KEYS[3], now + ttl, prefix .. ':' .. i) end
if s > 0 then redis.call('PEXPIRE', KEYS[3], ttl * 2) end
return {1, gr, gt, s}
`)

/** KEYS rpm, tpm, slots; ARGV rpm, tpm, rpm tokens, tpm tokens, slot ids…: a pool's surplus back to the fleet (buckets capped). */
const GIVE = script(`${NOW_LUA}
local rpm, tpm, br, bt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function give(key, cap, n)
  if cap <= 0 or n <= 0 then return end
  redis.call('HSET', key, 't', tostring(math.min(cap, level(key, cap) + n)), 'at', tostring(now))
  redis.call('PEXPIRE', key, 120000)
end
give(KEYS[1], rpm, br)
give(KEYS[2], tpm, bt)
for i = 5, #ARGV do redis.call('ZREM', KEYS[3], ARGV[i]) end
return 1
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

/** What `blocked` answers while no refusal is on record (shared, never written). */
const NONE_BLOCKED: ReadonlyMap<string, { reason: LimitReason; retryInMs: number }> = new Map()

/** Pools are looked over this often: surplus and idle shares go back to Redis. */
const TIDY_MS = 200

export interface FleetLimiterOptions extends FleetLink {
  readonly limits: ReadonlyMap<string, ProviderLimits>
  readonly leaseTtlMs: number
  /** Instances in the fleet as last seen (at least 1): the local fallback's share, and the fair share of a batch. */
  readonly fleetSize: () => number
  readonly now?: () => number
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

/**
 * One provider's local share: its pools, slots held, demand, and requests admitted here and not
 * released. Every field changes in place: an admission from the pools allocates none of it.
 */
interface Share {
  rpm: Pool
  tpm: Pool
  /** Slot leases held and not in use (every held id is also in `FleetLimiter.#leases`). */
  readonly free: string[]
  busy: number
  readonly requests: Demand
  readonly tokens: Demand
  readonly concurrency: Demand
  /** The batch sizes, as of the last admission (or tidy) that sized them. */
  readonly batch: Batches
  last: number
  refilling: boolean
}

/** Batch per limit (0: that limit takes the exact path; absent limits 0 too, never asked for). */
interface Batches {
  rpm: number
  tpm: number
  slots: number
  exact: boolean
}

/** What one request still needs from Redis (the local pool had too little). */
interface Short {
  readonly rpm: boolean
  readonly tpm: boolean
  readonly slot: boolean
}

/**
 * The fleet-wide `RateLimiter`. Its `tryAcquire` answers at once from the local pools in the
 * common case; a request whose pool is empty spends one Redis round trip (the refill), and a
 * limit too small to lease spends one per admission.
 */
export class FleetLimiter implements RateLimiter {
  readonly #o: FleetLimiterOptions
  readonly #limited: boolean
  readonly #now: () => number
  #fallback: ProviderLimiter
  #fallbackSize = 1
  /** Refusals Redis gave, kept until they expire, so the plan skips those providers up front. */
  readonly #denied = new Map<string, { reason: LimitReason; until: number }>()
  /** Live slot leases per provider, in use or pooled (renewed in the background). */
  readonly #leases = new Map<string, Set<string>>()
  readonly #shares = new Map<string, Share>()
  #seq = 0
  #closed = false
  #renewTimer: ReturnType<typeof setInterval> | undefined
  #tidyTimer: ReturnType<typeof setInterval> | undefined
  /** Redis round trips made before an upstream call (refills on the request path and exact admissions). */
  #waits = 0

  constructor(o: FleetLimiterOptions) {
    this.#o = o
    this.#now = o.now ?? Date.now
    this.#limited = [...o.limits.values()].some(has)
    this.#fallback = new ProviderLimiter(share(o.limits, 1))
    if ([...o.limits.values()].some((l) => l.maxConcurrent !== undefined)) {
      this.#renewTimer = setInterval(() => void this.renew(), timerDelay(Math.max(250, Math.floor(o.leaseTtlMs / 3))))
      ;(this.#renewTimer as { unref?: () => void }).unref?.()
    }
    if (this.#limited) {
      this.#tidyTimer = setInterval(() => void this.tidy(), timerDelay(TIDY_MS))
      ;(this.#tidyTimer as { unref?: () => void }).unref?.()
    }
  }

  get limited(): boolean {
    return this.#limited
  }

  /** Admissions that waited for Redis so far (the tests read it). */
  get roundTrips(): number {
    return this.#waits
  }

  /** What this instance holds of a provider's limits, unused: requests, tokens (negative: a debt), free slots. */
  pooled(provider: string): { readonly rpm: number; readonly tpm: number; readonly slots: number } {
    const sh = this.#shares.get(provider)
    return { rpm: sh?.rpm ?? 0, tpm: sh?.tpm ?? 0, slots: sh?.free.length ?? 0 }
  }

  tryAcquire(provider: string, estTokens: number, now: number): Acquired | Promise<Acquired> {
    const lim = this.#o.limits.get(provider)
    if (!has(lim)) return { ok: true, release: () => {} }
    if (!this.#o.redis.usable()) return this.#local(provider, estTokens, now)
    const sh = this.#shareOf(provider)
    const need = lim.tpm === undefined ? 0 : Math.min(Math.max(0, Math.round(estTokens)), lim.tpm)
    sh.requests.add(1, now)
    sh.tokens.add(need, now)
    sh.concurrency.peak(sh.busy + 1, now)
    sh.last = now
    const b = this.#batches(lim, sh, now)
    if (b.exact) return this.#remote(provider, lim, sh, estTokens, now)
    // Whatever the local pools hold is taken now (before any await), the rest asked of Redis.
    let rpmShort = false
    let tpmShort = false
    if (lim.rpm !== undefined) {
      const rest = poolTake(sh.rpm, 1)
      if (rest !== undefined) sh.rpm = rest
      else rpmShort = true
    }
    if (lim.tpm !== undefined) {
      const rest = poolTake(sh.tpm, need)
      if (rest !== undefined) sh.tpm = rest
      else tpmShort = true
    }
    const slot = lim.maxConcurrent !== undefined ? sh.free.pop() : undefined
    const slotShort = lim.maxConcurrent !== undefined && slot === undefined
    if (!rpmShort && !tpmShort && !slotShort) {
      this.#refill(provider, lim, sh, b)
      return this.#granted(lim, sh, need, slot)
    }
    const short = { rpm: rpmShort, tpm: tpmShort, slot: slotShort }
    return this.#lease(provider, lim, sh, { b, short, need, est: estTokens, slot, now })
  }

  blocked(
    providers: Iterable<string>,
    estTokens: number,
    now: number,
  ): ReadonlyMap<string, { reason: LimitReason; retryInMs: number }> {
    // Per request: no refusal on record (the common case) allocates nothing.
    if (!this.#limited || (this.#denied.size === 0 && this.#o.redis.usable())) return NONE_BLOCKED
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
    return (this.#shares.get(provider)?.busy ?? 0) + this.#fallback.inFlight(provider)
  }

  /** Re-stamps every live lease, pooled or in use (called on a timer, and after Redis comes back). */
  async renew(): Promise<void> {
    if (!this.#o.redis.usable()) return
    await Promise.all(
      [...this.#leases].filter(([, ids]) => ids.size > 0).map(([provider, ids]) =>
        this.#o.redis.run(RENEW, [this.#o.keys.limits(provider).slots], [this.#o.leaseTtlMs, ...ids])
      ),
    )
  }

  /** Gives back what the pools hold beyond recent demand, and everything a provider idle for `IDLE_MS` holds. */
  async tidy(all = false): Promise<void> {
    if (!this.#o.redis.usable()) return
    const now = this.#now()
    await Promise.all([...this.#shares].map(([provider, sh]) => {
      const lim = this.#o.limits.get(provider)
      if (!lim) return
      const b = this.#batches(lim, sh, now)
      const idle = all || now - sh.last >= IDLE_MS
      const rpm = poolSurplus(sh.rpm, b.exact ? 0 : b.rpm, idle)
      const tpm = poolSurplus(sh.tpm, b.exact ? 0 : b.tpm, idle)
      const ids = sh.free.splice(0, poolSurplus(sh.free.length, b.exact ? 0 : b.slots, idle))
      if (rpm === 0 && tpm === 0 && ids.length === 0) return
      sh.rpm = poolGive(sh.rpm, rpm)
      sh.tpm = poolGive(sh.tpm, tpm)
      return this.#give(provider, lim, [rpm, tpm, ...ids])
    }))
  }

  /** Stops the timers and gives every pooled share back (slots in use go back as their requests end). */
  async close(): Promise<void> {
    if (this.#renewTimer) clearInterval(this.#renewTimer)
    if (this.#tidyTimer) clearInterval(this.#tidyTimer)
    this.#closed = true
    await this.tidy(true)
  }

  #shareOf(provider: string): Share {
    let sh = this.#shares.get(provider)
    if (!sh) {
      sh = {
        rpm: EMPTY_POOL,
        tpm: EMPTY_POOL,
        free: [],
        busy: 0,
        requests: new Demand(),
        tokens: new Demand(),
        concurrency: new Demand(),
        batch: { rpm: 0, tpm: 0, slots: 0, exact: false },
        last: 0,
        refilling: false,
      }
      this.#shares.set(provider, sh)
    }
    return sh
  }

  /** Sizes the share's batches for its demand at `now` (in place) and answers them. */
  #batches(lim: ProviderLimits, sh: Share, now: number): Batches {
    const n = Math.max(1, this.#o.fleetSize())
    const peak = sh.concurrency.level(now)
    const requests = sh.requests.over(now)
    const tokens = sh.tokens.over(now)
    const perRequest = requests > 0 ? tokens / requests : 0
    const b = sh.batch
    b.rpm = lim.rpm === undefined ? 0 : batchSize(lim.rpm, n, burstDemand(requests, peak))
    b.tpm = lim.tpm === undefined ? 0 : batchSize(lim.tpm, n, burstDemand(tokens, peak, perRequest))
    // Slots recycle locally: a block covers half the recent peak of requests in flight.
    b.slots = lim.maxConcurrent === undefined ? 0 : batchSize(lim.maxConcurrent, n, peak / 2)
    // A configured limit whose batch is 0 is too small to split.
    b.exact = (lim.rpm !== undefined && b.rpm === 0) || (lim.tpm !== undefined && b.tpm === 0) ||
      (lim.maxConcurrent !== undefined && b.slots === 0)
    return b
  }

  #track(provider: string, id: string): void {
    let ids = this.#leases.get(provider)
    if (!ids) this.#leases.set(provider, ids = new Set())
    ids.add(id)
  }

  #granted(lim: ProviderLimits, sh: Share, reserved: number, slot: string | undefined): Acquired {
    sh.busy += 1
    return grant((actualTokens) => {
      sh.busy = Math.max(0, sh.busy - 1)
      if (lim.tpm !== undefined && actualTokens !== undefined) sh.tpm = poolSettle(sh.tpm, reserved, actualTokens)
      if (slot === undefined) return
      sh.free.push(slot)
      // After close, nothing gives pooled slots back: this one goes at once.
      if (this.#closed) void this.tidy(true)
    })
  }

  /** The pools had too little: one round trip takes what is missing (and a batch more), or says why not. */
  async #lease(
    provider: string,
    lim: ProviderLimits,
    sh: Share,
    r: { b: Batches; short: Short; need: number; est: number; slot: string | undefined; now: number },
  ): Promise<Acquired> {
    const { b, short, need } = r
    const undo = () => {
      if (lim.rpm !== undefined && !short.rpm) sh.rpm = poolAdd(sh.rpm, 1)
      if (lim.tpm !== undefined && !short.tpm) sh.tpm = poolAdd(sh.tpm, need)
      if (r.slot !== undefined) sh.free.push(r.slot)
    }
    this.#waits++
    // One batch on top at a time per provider (as with the background refill): the requests of a
    // burst that find the pool empty together each ask for their own need only, so the pools
    // never hold more than the batches sized for them (else a burst of n took n batches).
    const top = !sh.refilling
    if (top) sh.refilling = true
    const prefix = `${this.#o.instanceId}:${++this.#seq}`
    const res = await this.#run(LEASE, provider, lim, [
      short.rpm ? 1 : 0,
      short.rpm ? 1 + (top ? Math.max(0, Math.ceil(b.rpm - sh.rpm)) : 0) : 0,
      short.tpm ? need : 0,
      short.tpm ? need + (top ? Math.max(0, Math.ceil(b.tpm - sh.tpm)) : 0) : 0,
      short.slot ? 1 : 0,
      short.slot ? 1 + (top ? b.slots : 0) : 0,
      prefix,
      this.#o.leaseTtlMs,
    ]).finally(() => {
      if (top) sh.refilling = false
    })
    if (!Array.isArray(res)) {
      undo()
      return this.#local(provider, r.est, r.now)
    }
    if (res[0] !== 1) {
      undo()
      return this.#deny(provider, res, r.now)
    }
    this.#denied.delete(provider)
    const slots = this.#pooled(provider, res, prefix)
    // The grant covers at least this request's need (the script's minimum), spent at once.
    if (short.rpm) sh.rpm = poolSpend(sh.rpm, Number(res[1]), 1)
    if (short.tpm) sh.tpm = poolSpend(sh.tpm, Number(res[2]), need)
    const slot = short.slot ? slots.pop() : r.slot
    sh.free.push(...slots)
    return this.#granted(lim, sh, need, slot)
  }

  /** Tops the pools up in the background once one falls below its low-water mark (one refill at a time). */
  #refill(provider: string, lim: ProviderLimits, sh: Share, b: Batches): void {
    if (sh.refilling || !this.#o.redis.usable()) return
    const rpm = lim.rpm === undefined ? 0 : refillWant(sh.rpm, b.rpm)
    const tpm = lim.tpm === undefined ? 0 : refillWant(sh.tpm, b.tpm)
    const slots = lim.maxConcurrent === undefined ? 0 : refillWant(sh.free.length, b.slots)
    if (rpm === 0 && tpm === 0 && slots === 0) return
    sh.refilling = true
    const prefix = `${this.#o.instanceId}:${++this.#seq}`
    const min = (want: number) => (want > 0 ? 1 : 0)
    void this.#run(LEASE, provider, lim, [min(rpm), rpm, min(tpm), tpm, min(slots), slots, prefix, this.#o.leaseTtlMs])
      .then((res) => {
        sh.refilling = false
        if (!Array.isArray(res) || res[0] !== 1) return
        sh.rpm = poolAdd(sh.rpm, Number(res[1]))
        sh.tpm = poolAdd(sh.tpm, Number(res[2]))
        sh.free.push(...this.#pooled(provider, res, prefix))
        if (this.#closed) void this.tidy(true)
      })
  }

  /** The slot ids a LEASE answer granted, tracked for renewal. */
  #pooled(provider: string, res: unknown[], prefix: string): string[] {
    const ids = Array.from({ length: Number(res[3]) || 0 }, (_, i) => `${prefix}:${i + 1}`)
    for (const id of ids) this.#track(provider, id)
    return ids
  }

  #give(provider: string, lim: ProviderLimits, args: readonly (string | number)[]): Promise<unknown> {
    const ids = this.#leases.get(provider)
    for (const id of args.slice(2)) ids?.delete(String(id))
    const k = this.#o.keys.limits(provider)
    return this.#o.redis.run(GIVE, [k.rpm, k.tpm, k.slots], [lim.rpm ?? 0, lim.tpm ?? 0, ...args])
  }

  #run(s: typeof LEASE, provider: string, lim: ProviderLimits, args: readonly (string | number)[]): Promise<unknown> {
    const k = this.#o.keys.limits(provider)
    return this.#o.redis.run(s, [k.rpm, k.tpm, k.slots], [lim.rpm ?? 0, lim.tpm ?? 0, lim.maxConcurrent ?? 0, ...args])
  }

  #deny(provider: string, r: unknown[], now: number): Acquired {
    const reason = (r[1] === 'tpm' || r[1] === 'concurrency' ? r[1] : 'rpm') as LimitReason
    const retryInMs = Math.max(1, Number(r[2]) || 50)
    this.#denied.set(provider, { reason, until: now + retryInMs })
    return { ok: false, reason, retryInMs, fleet: true }
  }

  /** The exact path, for limits too small to lease: one script decides each admission. */
  async #remote(provider: string, lim: ProviderLimits, sh: Share, estTokens: number, now: number): Promise<Acquired> {
    const k = this.#o.keys.limits(provider)
    const lease = `${this.#o.instanceId}:${++this.#seq}`
    const reserved = Math.max(0, Math.round(estTokens))
    this.#waits++
    const r = await this.#run(ACQUIRE, provider, lim, [reserved, lease, this.#o.leaseTtlMs])
    if (!Array.isArray(r)) return this.#local(provider, estTokens, now)
    if (r[0] !== 1) return this.#deny(provider, r, now)
    this.#denied.delete(provider)
    if (lim.maxConcurrent !== undefined) this.#track(provider, lease)
    sh.busy += 1
    return grant((actualTokens) => {
      sh.busy = Math.max(0, sh.busy - 1)
      this.#leases.get(provider)?.delete(lease)
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
