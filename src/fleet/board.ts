/**
 * Breakers and `Retry-After` holds shared by the fleet. A breaker one instance opens, or a
 * hold an upstream asks of one instance, is written to Redis (for instances that join later)
 * and published (for the running ones, which apply it at once: well inside 100 ms). Times
 * travel as durations measured on Redis `TIME`; each instance turns them into deadlines on
 * its own clock, so no two hosts' clocks are ever compared.
 *
 * When a shared breaker's cooldown is over, exactly one instance takes the half-open probe: the
 * one whose `SET NX PX` on the probe key wins. Its success closes the breaker everywhere; its
 * failure opens it again with the next, longer cooldown.
 */
import type { BreakerPolicy } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { RetryAfterHolds, retryAfterOf } from '../routing/retry-after-holds.ts'
import { type BreakerState, cooldownFor } from '../resilience/breaker.ts'
import { type Attempt, RoutingStats, type StatsOptions } from '../routing/target-stats.ts'
import type { FailureReason, TargetSnapshot } from '../routing/types.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'
import { type FleetSamples, withFleet } from './samples.ts'

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/** KEYS breakers, events; ARGV target, openMs, trips, message. */
const OPEN = script(`${NOW_LUA}
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ u = now + tonumber(ARGV[2]), trips = tonumber(ARGV[3]) }))
redis.call('PUBLISH', KEYS[2], ARGV[4])
return 1
`)

/** KEYS breakers, probe, events; ARGV target, message. */
const CLOSE = script(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', KEYS[3], ARGV[2])
return 1
`)

/** KEYS holds, events; ARGV target, ms, message (a longer hold already there stays). */
const HOLD = script(`${NOW_LUA}
local untilMs = now + tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if untilMs > old then redis.call('HSET', KEYS[1], ARGV[1], untilMs) end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
`)

/** KEYS probe; ARGV instance, ttlMs: 1 when this instance holds the probe. */
const CLAIM = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`)

/** KEYS breakers, holds: everything still in force, as durations from Redis's now. */
const SNAPSHOT = script(`${NOW_LUA}
local out = {}
local b = redis.call('HGETALL', KEYS[1])
for i = 1, #b, 2 do
  local e = cjson.decode(b[i + 1])
  table.insert(out, 'open'); table.insert(out, b[i]); table.insert(out, tostring(e.u - now)); table.insert(out, tostring(e.trips))
end
local h = redis.call('HGETALL', KEYS[2])
for i = 1, #h, 2 do
  local left = tonumber(h[i + 1]) - now
  if left > 0 then table.insert(out, 'hold'); table.insert(out, h[i]); table.insert(out, tostring(left)); table.insert(out, '0')
  else redis.call('HDEL', KEYS[2], h[i]) end
end
return out
`)

type Phase = 'open' | 'claiming' | 'mine' | 'probing' | 'other'

interface Entry {
  /** Local deadline of the shared cooldown. */
  until: number
  trips: number
  phase: Phase
  /** When an `other` instance's probe is looked at again. */
  recheckAt: number
}

interface Message {
  readonly from: string
  readonly t: 'open' | 'closed' | 'hold'
  readonly key: string
  readonly ms?: number
  readonly trips?: number
}

/** What `gate` answers for a target with no shared breaker (every request's case; shared, frozen). */
const ALLOWED: { allowed: boolean; retryInMs: number } = Object.freeze({ allowed: true, retryInMs: 0 })

/** While another instance holds the probe, ask again this often (it may have died). */
const RECHECK_MS = 1_000
/** A refusal while this instance's claim is in flight says: look again this soon. */
const CLAIMING_RETRY_MS = 10

export interface BoardOptions extends FleetLink {
  readonly now: () => number
  readonly log: Logger
  /** How long a probe may take before another instance may probe instead. */
  readonly probeTtlMs: number
  /** The longest open period accepted from another instance (this instance's `maxCooldownMs`). */
  readonly maxOpenMs?: number
}

export class FleetBoard {
  readonly #o: BoardOptions
  readonly #entries = new Map<string, Entry>()
  #holds: SharedHolds | undefined

  constructor(o: BoardOptions) {
    this.#o = o
  }

  /** Subscribes to the fleet's events and loads what is in force. */
  async start(): Promise<void> {
    await this.#o.redis.subscribe(this.#o.keys.events, (m) => this.#onMessage(m))
    this.#o.redis.onRecovered(() => void this.resync())
    await this.resync()
  }

  attachHolds(h: SharedHolds): void {
    this.#holds = h
  }

  /** Loads breakers and holds from Redis (at start and after Redis comes back). */
  async resync(): Promise<void> {
    const r = await this.#o.redis.run(SNAPSHOT, [this.#o.keys.breakers, this.#o.keys.holds], [])
    if (!Array.isArray(r)) return
    const now = this.#o.now()
    for (let i = 0; i + 3 < r.length; i += 4) {
      const [kind, key, ms, trips] = [String(r[i]), String(r[i + 1]), Number(r[i + 2]), Number(r[i + 3])]
      if (kind === 'open') this.#open(key, Math.max(0, ms), trips, now)
      else this.#holds?.applyShared(key, ms, now)
    }
  }

  /** Whether the shared breaker lets a try through to `key` now (takes the probe when it is ours). */
  gate(key: string, now: number): { allowed: boolean; retryInMs: number } {
    const e = this.#entries.get(key)
    if (!e) return ALLOWED
    if (now < e.until) return { allowed: false, retryInMs: Math.max(1, e.until - now) }
    switch (e.phase) {
      case 'mine':
        e.phase = 'probing'
        return { allowed: true, retryInMs: 0 }
      case 'probing':
      case 'claiming':
        return { allowed: false, retryInMs: CLAIMING_RETRY_MS }
      case 'other':
        if (now < e.recheckAt) return { allowed: false, retryInMs: e.recheckAt - now }
        break
      case 'open':
        break
    }
    if (!this.#o.redis.usable()) {
      // No one to agree with: the local breaker alone decides.
      e.phase = 'probing'
      return { allowed: true, retryInMs: 0 }
    }
    e.phase = 'claiming'
    void this.#o.redis.run(CLAIM, [this.#o.keys.probe(key)], [this.#o.instanceId, this.#o.probeTtlMs]).then((won) => {
      if (this.#entries.get(key) !== e || e.phase !== 'claiming') return
      // A failed claim (Redis gone) lets the local breaker decide, like above.
      e.phase = won === 0 ? 'other' : 'mine'
      e.recheckAt = this.#o.now() + RECHECK_MS
    })
    return { allowed: false, retryInMs: CLAIMING_RETRY_MS }
  }

  /** The shared breaker of `key`, when one is open or probing. */
  state(key: string, now: number): BreakerState | undefined {
    const e = this.#entries.get(key)
    if (!e) return undefined
    return now < e.until
      ? { kind: 'open', until: e.until, trips: e.trips }
      : { kind: 'half_open', probesInFlight: e.phase === 'probing' ? 1 : 0, trips: e.trips }
  }

  /** Targets with a shared breaker open or probing. */
  keys(): IterableIterator<string> {
    return this.#entries.keys()
  }

  /** Whether this instance is running the fleet's probe of `key`. */
  probing(key: string): boolean {
    return this.#entries.get(key)?.phase === 'probing'
  }

  /** This instance's breaker for `key` opened (or its probe failed): tell the fleet. */
  tripped(key: string, openMs: number, trips: number): void {
    this.#open(key, openMs, trips, this.#o.now())
    const msg: Message = { from: this.#o.instanceId, t: 'open', key, ms: openMs, trips }
    void this.#o.redis.run(OPEN, [this.#o.keys.breakers, this.#o.keys.events], [
      key,
      openMs,
      trips,
      JSON.stringify(msg),
    ])
  }

  /** A probe (or this instance's own half-open try) succeeded: the breaker closes fleet-wide. */
  recovered(key: string): void {
    this.#entries.delete(key)
    const msg: Message = { from: this.#o.instanceId, t: 'closed', key }
    void this.#o.redis.run(CLOSE, [this.#o.keys.breakers, this.#o.keys.probe(key), this.#o.keys.events], [
      key,
      JSON.stringify(msg),
    ])
  }

  /** The probe ended with no verdict (the client left, the request was at fault): probe again. */
  released(key: string): void {
    const e = this.#entries.get(key)
    if (e?.phase === 'probing') e.phase = 'mine'
  }

  /** An upstream asked this instance for a pause of `ms` on `key`: the fleet pauses too. */
  held(key: string, ms: number): void {
    const msg: Message = { from: this.#o.instanceId, t: 'hold', key, ms }
    void this.#o.redis.run(HOLD, [this.#o.keys.holds, this.#o.keys.events], [key, Math.ceil(ms), JSON.stringify(msg)])
  }

  #open(key: string, ms: number, trips: number, now: number): void {
    this.#entries.set(key, { until: now + Math.min(ms, this.#o.maxOpenMs ?? ms), trips, phase: 'open', recheckAt: 0 })
  }

  #onMessage(raw: string): void {
    let m: Message
    try {
      m = JSON.parse(raw) as Message
    } catch {
      return
    }
    if (typeof m !== 'object' || m === null || typeof m.key !== 'string' || m.from === this.#o.instanceId) return
    const now = this.#o.now()
    if (m.t === 'open') this.#open(m.key, Math.max(0, Number(m.ms) || 0), Number(m.trips) || 1, now)
    else if (m.t === 'closed') this.#entries.delete(m.key)
    else if (m.t === 'hold') this.#holds?.applyShared(m.key, Number(m.ms) || 0, now)
  }
}

/** `Retry-After` holds that reach the whole fleet (the engine uses it like the local kind). */
export class SharedHolds extends RetryAfterHolds {
  readonly #board: FleetBoard

  readonly #maxMs: number

  /** `maxMs` caps every hold, this instance's own and those the fleet sends (`Router.maxRetryAfterMs`). */
  constructor(board: FleetBoard, opts: { readonly maxMs: number }) {
    super(opts)
    this.#board = board
    this.#maxMs = opts.maxMs
    board.attachHolds(this)
  }

  override note(key: string, err: ProxyError, now: number): void {
    super.note(key, err, now)
    const ms = retryAfterOf(err)
    if (ms !== undefined && ms > 0) this.#board.held(key, Math.min(ms, this.#maxMs))
  }

  /** A hold another instance was asked for. */
  applyShared(key: string, ms: number, now: number): void {
    if (ms > 0) {
      super.note(key, { kind: 'rate_limited', target: key, retryAfterMs: ms, message: 'held by the fleet' }, now)
    }
  }
}

/**
 * The routing table with the fleet's breakers laid over each instance's own: a target open
 * anywhere is open here, and this instance's trips and probe outcomes are told to the fleet.
 */
export class SharedStats extends RoutingStats {
  readonly #board: FleetBoard
  readonly #policy: BreakerPolicy
  readonly #samples: FleetSamples | undefined
  /** Set while reading this instance's own numbers (what it tells the fleet). */
  #ownOnly = false

  constructor(opts: StatsOptions, board: FleetBoard, samples?: FleetSamples) {
    super(opts)
    this.#board = board
    this.#policy = opts.breaker
    this.#samples = samples
  }

  /** Every target this instance measured, plus those whose breaker the fleet holds open. */
  override all(now: number): ReadonlyMap<string, TargetSnapshot> {
    const out = new Map(super.all(now))
    if (!this.#ownOnly) {
      for (const key of this.#board.keys()) {
        if (!out.has(key)) out.set(key, this.snapshot(key, now))
      }
    }
    return out
  }

  /** This instance's own measurements, without the fleet's merged in. */
  own(now: number): ReadonlyMap<string, TargetSnapshot> {
    this.#ownOnly = true
    try {
      return this.all(now)
    } finally {
      this.#ownOnly = false
    }
  }

  override allows(key: string, now: number): { allowed: boolean; retryInMs: number } {
    const local = super.allows(key, now)
    return local.allowed ? this.#board.gate(key, now) : local
  }

  override snapshot(key: string, now: number): TargetSnapshot {
    const s = super.snapshot(key, now)
    if (this.#ownOnly) return s
    const shared = this.#board.state(key, now)
    const merged = withFleet(s, this.#samples?.others(key))
    return shared && s.breaker.kind === 'closed' ? { ...merged, breaker: shared } : merged
  }

  override begin(key: string, now: number): Attempt {
    const a = super.begin(key, now)
    let done = false
    const verdict = (t: number, reason: FailureReason | undefined, record: () => void): void => {
      if (done) return
      done = true
      // Only the breaker, read twice per attempt: not the whole snapshot with its window sums.
      const before = super.breakerState(key, t)
      const probe = this.#board.probing(key)
      record()
      const after = super.breakerState(key, t)
      if (reason === 'client_error' || reason === 'abandoned') {
        if (probe) this.#board.released(key)
      } else if (reason === undefined) {
        if (probe || (before.kind === 'half_open' && after.kind === 'closed')) this.#board.recovered(key)
      } else if (after.kind === 'open' && before.kind !== 'open') {
        this.#board.tripped(key, Math.max(0, after.until - t), after.trips)
      } else if (probe) {
        const trips = (this.#board.state(key, t)?.trips ?? 0) + 1
        this.#board.tripped(key, cooldownFor(trips, this.#policy), trips)
      }
    }
    return {
      key: a.key,
      startedAt: a.startedAt,
      firstToken: (t) => a.firstToken(t),
      succeed: (t, info) => verdict(t, undefined, () => a.succeed(t, info)),
      fail: (t, reason) => verdict(t, reason, () => a.fail(t, reason)),
      abandon: (t) => verdict(t, 'abandoned', () => a.abandon(t)),
    }
  }
}
