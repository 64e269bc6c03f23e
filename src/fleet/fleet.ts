/**
 * Fleet mode's composition: one Redis link, membership by heartbeat, and the shared parts the
 * routing engine runs on (limiter, breakers, holds). With no `Fleet` config none of this
 * exists and the engine uses its local parts, exactly as a single instance always did.
 */
import { timerDelay } from '../lib/clock.ts'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { FleetConfig, ProviderLimits } from '../config/types.ts'
import type { Logger } from '../log.ts'
import type { Registry } from '../metrics/registry.ts'
import type { RateLimiter } from '../resilience/limiter.ts'
import { DEFAULT_MAX_HOLD_MS, type RetryAfterHolds } from '../routing/retry-after-holds.ts'
import type { StatsOptions } from '../routing/target-stats.ts'
import { FleetBoard, SharedHolds, SharedStats } from './board.ts'
import { type FleetKeys, fleetKeys } from './keys.ts'
import { FleetLimiter } from './limiter.ts'
import { FleetUsage } from './usage.ts'
import { FleetSamples } from './samples.ts'
import { FleetPerf } from './perf.ts'
import { FleetDedup } from './dedup.ts'
import { FleetBudget } from './budget.ts'
import { FleetAlertGate } from './alerts.ts'
import { FleetKeyLimits } from './key-limits.ts'
import { fleetResponseStore } from './responses.ts'
import { fleetSessions } from './sessions.ts'
import type { SessionUsage } from '../routing/contract.ts'
import type { ResponseStore } from '../proxy/response-store.ts'
import { connectRedis, type FleetRedis, type LinkState, script } from './redis.ts'

/** KEYS info, expiry; ARGV id, info, ttlMs: stamps this member and lists the live ones with their TTLs. */
const HEARTBEAT = script(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do redis.call('HDEL', KEYS[1], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local out = { tostring(now) }
local live = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #live, 2 do
  table.insert(out, live[i]); table.insert(out, tostring(tonumber(live[i + 1]) - now)); table.insert(out, redis.call('HGET', KEYS[1], live[i]) or '{}')
end
return out
`)

/** KEYS leader; ARGV id, ttlMs: 1 while this instance holds the performance-test lease (taken or renewed). */
const LEAD = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`)

/** KEYS leader; ARGV id: gives the lease up at shutdown (only when it is ours). */
const RESIGN = script(`if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1`)

/** KEYS info, expiry; ARGV id: leaves the fleet at shutdown. */
const LEAVE = script(`redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('ZREM', KEYS[2], ARGV[1]); return 1`)

export interface FleetMember {
  readonly id: string
  /** Milliseconds before the member counts as gone unless it beats again. */
  readonly ttl_ms: number
  readonly self: boolean
  readonly version?: string
  readonly host?: string
}

export interface FleetHealth {
  readonly instance_id: string
  /** `ok`, `connecting`, or `degraded` (serving on local state). */
  readonly state: LinkState
  readonly redis: string
  readonly redis_latency_ms: number | null
  /** Whether this instance runs the fleet's scheduled performance tests. */
  readonly perf_leader: boolean
  readonly members: FleetMember[]
}

/** What createServices plugs into routing in place of the local parts. */
export interface SharedParts {
  stats(opts: StatsOptions): SharedStats
  limiter(limits: ReadonlyMap<string, ProviderLimits>): RateLimiter
  readonly holds: RetryAfterHolds
  readonly usage: FleetUsage
  /** Named API keys' budgets and rpm, fleet-wide. */
  readonly keyLimits: FleetKeyLimits
  /** The `previous_response_id` store shared through Redis, over this instance's own. */
  responses(local: ResponseStore): ResponseStore
  /** Agent sessions' last prompt sizes, every instance's answers written into this one's table. */
  sessions(local: SessionUsage): SessionUsage
}

export interface Fleet {
  readonly id: string
  readonly keys: FleetKeys
  readonly redis: FleetRedis
  readonly parts: SharedParts
  /** The measurement exchange (tests run it by hand). */
  readonly samples: FleetSamples
  /** The performance test results the leader shares. */
  readonly perf: FleetPerf
  /** Identical concurrent requests share one upstream call across the fleet. */
  readonly dedup: FleetDedup
  /** The performance tests' daily token budget, shared. */
  readonly budget: FleetBudget
  /** Alert webhooks of fleet-wide rules, once per fleet transition. */
  readonly alerts: FleetAlertGate
  health(): FleetHealth
  /** Instances seen by the last heartbeat (at least this one). */
  size(): number
  /**
   * Whether this instance leads the scheduled performance tests (a lease renewed with each
   * heartbeat). Before Redis was ever reached: true, as a single instance would.
   */
  leader(): boolean
  /** `switchyard_fleet_degraded`, `switchyard_fleet_members` and `switchyard_fleet_redis_latency_ms` on `/metrics`. */
  /** Adds the fleet's gauges to `registry`; returns what removes their collector (the instance closes). */
  registerMetrics(registry: Registry): () => void
  /**
   * A reloaded config's old instance: stops its timers and disconnects, without leaving the
   * fleet (the new instance is the same member). Its unreleased leases expire by themselves.
   */
  retire(): Promise<void>
  close(): Promise<void>
}

export interface FleetOptions {
  readonly log: Logger
  readonly version: string
  readonly now?: () => number
  /**
   * Bounds on what other instances may impose (`Router.maxRetryAfterMs` and
   * `Router.breaker.maxCooldownMs`), as on this instance's own holds and breakers.
   */
  readonly caps?: { readonly maxHoldMs: number; readonly maxOpenMs: number }
  /** A test's own link; one is opened from `cfg.redis` when absent. */
  readonly redis?: FleetRedis
}

/** How long a start waits for Redis before serving on local state (and joining when it can). */
const START_WAIT_MS = 2_000

/** Measurements are exchanged with the fleet this often. */
const SAMPLES_EVERY_MS = 1_000

/** The leader's performance test results are read this often. */
const PERF_PULL_MS = 5_000

/** Usage totals are written to Redis this often (never per request). */
const USAGE_FLUSH_MS = 2_000

/** A probe may take this long before another instance may probe instead. */
const PROBE_TTL_MS = 30_000

/** One id per process: a reloaded config joins as the same member. */
const PROCESS_ID = `${hostname()}-${randomUUID().slice(0, 8)}`

export function defaultInstanceId(): string {
  return PROCESS_ID
}

/** Joins the fleet: connects (never waiting on a down Redis), beats, subscribes, resyncs. */
export async function startFleet(cfg: FleetConfig, o: FleetOptions): Promise<Fleet> {
  const now = o.now ?? Date.now
  const id = cfg.instanceId ?? defaultInstanceId()
  const redis = o.redis ?? connectRedis(cfg, o.log, now)
  const keys = fleetKeys(cfg.keyPrefix)
  const info = JSON.stringify({ version: o.version, host: hostname() })
  const ttlMs = cfg.heartbeatMs * 3
  let members: FleetMember[] = [{ id, ttl_ms: ttlMs, self: true, version: o.version }]
  let limiter: FleetLimiter | undefined

  let offset = 0
  let leading: boolean | undefined
  const beat = async (): Promise<void> => {
    const t0 = now()
    const r = await redis.run(HEARTBEAT, [keys.members, keys.memberExpiry], [id, info, ttlMs])
    if (!Array.isArray(r)) return
    // Redis's clock less ours, give or take half the round trip: used for day boundaries only.
    offset = Number(r[0]) - (t0 + now()) / 2
    const seen: FleetMember[] = []
    for (let i = 1; i + 2 < r.length; i += 3) {
      let meta: { version?: unknown; host?: unknown } = {}
      try {
        meta = JSON.parse(String(r[i + 2])) as typeof meta
      } catch { /* an unreadable entry still counts */ }
      seen.push({
        id: String(r[i]),
        ttl_ms: Number(r[i + 1]),
        self: String(r[i]) === id,
        ...(typeof meta.version === 'string' ? { version: meta.version } : {}),
        ...(typeof meta.host === 'string' ? { host: meta.host } : {}),
      })
    }
    members = seen
    const lead = await redis.run(LEAD, [keys.leader], [id, ttlMs])
    if (lead !== undefined) leading = lead === 1
  }

  const board = new FleetBoard({
    redis,
    keys,
    instanceId: id,
    now,
    log: o.log,
    probeTtlMs: PROBE_TTL_MS,
    ...(o.caps ? { maxOpenMs: o.caps.maxOpenMs } : {}),
  })
  const holds = new SharedHolds(board, { maxMs: o.caps?.maxHoldMs ?? DEFAULT_MAX_HOLD_MS })
  const samples = new FleetSamples({ redis, keys, instanceId: id, periodMs: SAMPLES_EVERY_MS })
  const perf = new FleetPerf({ redis, keys, now, periodMs: PERF_PULL_MS })
  const usage = new FleetUsage({
    redis,
    keys,
    field: `${id}#${randomUUID().slice(0, 8)}`,
    redisNow: () => now() + offset,
    flushMs: USAGE_FLUSH_MS,
  })
  redis.onRecovered(() => {
    void beat()
    void limiter?.renew()
  })
  // A reachable Redis answers in milliseconds; a down one must not hold up the start for long.
  await redis.ready(START_WAIT_MS)
  await beat()
  await board.start()
  const timer = setInterval(() => void beat(), timerDelay(cfg.heartbeatMs))
  ;(timer as { unref?: () => void }).unref?.()
  const size = () => Math.max(1, members.length)
  // Before Redis was ever reached, an instance runs its schedule as a single instance would.
  const isLeader = () => leading ?? redis.state !== 'ok'

  const stop = async (): Promise<void> => {
    clearInterval(timer)
    await limiter?.close()
    usage.close()
    samples.close()
    perf.close()
    await usage.flush()
  }

  return {
    id,
    keys,
    redis,
    samples,
    perf,
    budget: new FleetBudget({ redis, keys }),
    alerts: new FleetAlertGate({ redis, keys, instanceId: id }),
    dedup: new FleetDedup({ redis, keys, instanceId: id }),
    parts: {
      stats: (opts) => {
        const s = new SharedStats(opts, board, samples)
        samples.attach(() => s.own(now()))
        return s
      },
      limiter: (
        limits,
      ) => (limiter = new FleetLimiter({
        redis,
        keys,
        instanceId: id,
        limits,
        leaseTtlMs: cfg.leaseTtlMs,
        fleetSize: size,
      })),
      holds,
      usage,
      keyLimits: new FleetKeyLimits({ redis, keys, fleetSize: size }),
      responses: (local) => fleetResponseStore({ redis, keys, local }),
      sessions: (local) => fleetSessions({ redis, keys, instanceId: id, local }),
    },
    health: () => ({
      instance_id: id,
      state: redis.state,
      redis: redis.url,
      redis_latency_ms: redis.latencyMs() ?? null,
      perf_leader: isLeader(),
      members: members.map((m) => ({ ...m })),
    }),
    size,
    leader: isLeader,
    registerMetrics: (registry) => {
      const degraded = registry.gauge(
        'switchyard_fleet_degraded',
        '1 while Redis is unreachable and this instance serves on its local state',
      ).labels()
      const count = registry.gauge('switchyard_fleet_members', 'Instances in the fleet, by the last heartbeat').labels()
      const latency = registry.gauge('switchyard_fleet_redis_latency_ms', 'Round trip of the last Redis call').labels()
      return registry.onCollect(() => {
        degraded.set(redis.state === 'degraded' ? 1 : 0)
        count.set(members.length)
        latency.set(redis.latencyMs() ?? 0)
      })
    },
    close: async () => {
      await stop()
      await redis.run(LEAVE, [keys.members, keys.memberExpiry], [id])
      await redis.run(RESIGN, [keys.leader], [id])
      await redis.close()
    },
    retire: async () => {
      await stop()
      await redis.close()
    },
  }
}
