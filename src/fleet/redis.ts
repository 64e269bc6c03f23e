/**
 * The Redis boundary of fleet mode: the only module that imports the client library
 * (ioredis, pinned; it runs unchanged on Bun and on Deno's npm compatibility, and brings
 * Cluster, Sentinel, TLS and reconnection with backoff).
 *
 * Every call has a command timeout and never throws: a failure answers `undefined` and the
 * caller uses its local state. The first failure marks the link `degraded` and is logged once;
 * while degraded, hot-path callers skip Redis (`usable()`) until the heartbeat sees it again.
 * The resynchronisation after a recovery runs at most once per `RESYNC_EVERY_MS` (./resync.ts).
 * The URL may carry a password: only its redacted form is ever logged or shown.
 */
import { timerDelay, within } from '../lib/clock.ts'
import { createHash } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import type { FleetConfig } from '../config/types.ts'
import { redactUrl } from '../config/redact.ts'
import type { Logger } from '../log.ts'
import { resyncPacer } from './resync.ts'

export type LinkState = 'connecting' | 'ok' | 'degraded'

/** A Lua script, sent by SHA once Redis knows it (EVALSHA, with EVAL after a NOSCRIPT). */
export interface Script {
  readonly lua: string
  readonly sha: string
}

export function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

export type Arg = string | number

export interface FleetRedis {
  readonly state: LinkState
  /** The URL with any password replaced by `***`. */
  readonly url: string
  /** Whether the hot path should try Redis now (false for a short while after a failure). */
  usable(): boolean
  /** Round trip of the last heartbeat, in ms. */
  latencyMs(): number | undefined
  /** Runs `s`; undefined when Redis failed or timed out. */
  run(s: Script, keys: readonly string[], args: readonly Arg[]): Promise<unknown>
  publish(channel: string, message: string): Promise<void>
  /** Calls `onMessage` for each message on `channel` (resubscribed after a reconnect). */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>
  /** Resolves once connected or known to be down, or after `ms` (then the link is left to reconnect on its own). */
  ready(ms: number): Promise<void>
  /**
   * Called after the link comes back from `degraded` (resynchronise there): at once, or, when
   * the link flaps, once per `RESYNC_EVERY_MS` while it is up.
   */
  onRecovered(cb: () => void): void
  close(): Promise<void>
}

/** While degraded, the hot path leaves Redis alone this long before trying it again. */
const SKIP_AFTER_FAILURE_MS = 1_000
/** How long `subscribe` waits for Redis to confirm before going on (it stays subscribing). */
const SUBSCRIBE_WAIT_MS = 2_000
/** Degradation is logged at most this often, however the link flaps... */
const LOG_EVERY_MS = 10_000
/**
 * ...except one that lasts this long without a single command getting through: that is an
 * outage, not a flap, and is logged even inside the quiet interval (a Redis killed 2 s after a
 * flap was logged used to leave no line at all, for the outage nor for its end).
 */
const OUTAGE_LOG_AFTER_MS = 3_000
/**
 * Resynchronisation after recoveries runs at most this often: a Cluster with one master down
 * flips the link between ok and degraded with every call, and each flip would resync.
 */
export const RESYNC_EVERY_MS = 5_000

const clean = (e: unknown): string =>
  String(e instanceof Error ? e.message : e).replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 200)

type Client = Redis | Cluster

function makeClient(cfg: FleetConfig, subscriber: boolean): Client {
  const common = {
    // Commands are timed by `within` (lib/clock.ts): the client's own timer fails a command whose
    // answer arrived during a stall of the event loop. Subscriptions keep the client's.
    ...(subscriber ? { commandTimeout: cfg.commandTimeoutMs } : {}),
    // A command while disconnected fails at once instead of queueing behind the reconnect.
    enableOfflineQueue: subscriber,
    maxRetriesPerRequest: subscriber ? null : 0,
    connectTimeout: 2_000,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    lazyConnect: true,
    // The client's own resubscription leaves its promise unhandled (a crash when the link drops
    // again meanwhile): `subscribe` below resubscribes on every 'ready' itself.
    autoResubscribe: false,
    // Commands issued in the same tick (many requests' admissions) go out as one write.
    enableAutoPipelining: !subscriber,
  }
  if (!cfg.cluster && !cfg.sentinel) return new Redis(cfg.redis, common)
  const u = new URL(cfg.redis)
  const redisOptions = {
    ...common,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  }
  if (cfg.sentinel) {
    const sentinels = cfg.sentinel.nodes.map((n) => ({
      host: n.slice(0, n.lastIndexOf(':')),
      port: Number(n.slice(n.lastIndexOf(':') + 1)),
    }))
    const db = Number(u.pathname.slice(1) || 0)
    return new Redis({ ...redisOptions, sentinels, name: cfg.sentinel.name, db: Number.isInteger(db) ? db : 0 })
  }
  // Cluster: the client's own options, not its nodes', decide when it connects, whether it
  // queues while down and whether it pipelines (with these only in redisOptions it would
  // connect at once, and the `connect()` below would fail as "already connecting"). A command
  // whose node is gone or whose slot is down fails at once, as on one node, instead of being
  // retried every 100 ms up to 16 times (1.2 s measured with a master killed); MOVED and ASK
  // redirections are still followed.
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions,
    lazyConnect: true,
    enableOfflineQueue: subscriber,
    enableAutoPipelining: common.enableAutoPipelining,
    clusterRetryStrategy: common.retryStrategy,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 0,
  })
}

/** Opens the link (and a second connection for pub/sub); never throws, even when Redis is down. */
export function connectRedis(cfg: FleetConfig, log: Logger, now: () => number = Date.now): FleetRedis {
  const url = redactUrl(cfg.redis)
  const cmd = makeClient(cfg, false)
  let sub: Client | undefined
  const handlers = new Map<string, (m: string) => void>()
  const recovered: (() => void)[] = []
  let state: LinkState = 'connecting'
  let skipUntil = 0
  let lastLog = -Infinity
  /** Whether the last degradation was logged: only then is the recovery (one line each, however the link flaps). */
  let announced = false
  let latency: number | undefined
  let closed = false
  const resync = resyncPacer({
    everyMs: RESYNC_EVERY_MS,
    now,
    after: (ms, fn) => {
      const t = setTimeout(fn, timerDelay(ms))
      ;(t as { unref?: () => void }).unref?.()
      return () => clearTimeout(t)
    },
    up: () => !closed && state === 'ok',
    resync: () => {
      for (const cb of recovered) cb()
    },
  })

  /** Set while a degradation inside the quiet interval waits to be called an outage. */
  let outageTimer: ReturnType<typeof setTimeout> | undefined
  const announce = (e: unknown): void => {
    lastLog = now()
    announced = true
    log.warn('fleet: Redis unavailable, serving on local state', { redis: url, error: clean(e) })
  }
  const fail = (e: unknown): void => {
    skipUntil = now() + SKIP_AFTER_FAILURE_MS
    if (state === 'degraded' || closed) return
    state = 'degraded'
    if (now() - lastLog >= LOG_EVERY_MS) return announce(e)
    outageTimer = setTimeout(() => {
      outageTimer = undefined
      if (state === 'degraded' && !announced && !closed) announce(e)
    }, OUTAGE_LOG_AFTER_MS)
    ;(outageTimer as { unref?: () => void }).unref?.()
  }
  const succeed = (): void => {
    if (outageTimer !== undefined) clearTimeout(outageTimer)
    outageTimer = undefined
    if (state === 'ok') return
    const was = state
    state = 'ok'
    skipUntil = 0
    if (was === 'degraded') {
      if (announced) log.info('fleet: Redis reachable again, resynchronising', { redis: url })
      announced = false
      resync.recovered()
    }
  }
  cmd.on('error', (e: unknown) => fail(e))
  cmd.on('end', () => fail('connection closed'))
  cmd.on('ready', () => succeed())
  void cmd.connect().catch((e: unknown) => fail(e))

  /** One command within the command timeout; throws on a failure or a timeout. */
  const timed = async <T>(p: Promise<T>): Promise<T> => {
    const r = await within(p, cfg.commandTimeoutMs)
    if ('timedOut' in r) throw new Error('Command timed out')
    return r.value
  }
  const run = async (s: Script, keys: readonly string[], args: readonly Arg[]): Promise<unknown> => {
    if (closed) return undefined
    try {
      try {
        const r = await timed(cmd.evalsha(s.sha, keys.length, ...keys, ...args))
        succeed()
        return r
      } catch (e) {
        if (!String(e instanceof Error ? e.message : e).includes('NOSCRIPT')) throw e
        const r = await timed(cmd.eval(s.lua, keys.length, ...keys, ...args))
        succeed()
        return r
      }
    } catch (e) {
      // Before the first connection, a refused command says nothing: the link's own error does.
      if (state !== 'connecting') fail(e)
      return undefined
    }
  }

  return {
    get state() {
      return state
    },
    url,
    usable: () => !closed && (state !== 'degraded' || now() >= skipUntil),
    latencyMs: () => latency,
    run: async (s, keys, args) => {
      const t0 = now()
      const r = await run(s, keys, args)
      if (r !== undefined) latency = now() - t0
      return r
    },
    publish: async (channel, message) => {
      if (closed) return
      try {
        await timed(cmd.publish(channel, message))
        succeed()
      } catch (e) {
        fail(e)
      }
    },
    subscribe: async (channel, onMessage) => {
      handlers.set(channel, onMessage)
      if (!sub) {
        sub = makeClient(cfg, true)
        sub.on('error', () => {/* the command link reports degradation */})
        sub.on('message', (ch: string, m: string) => handlers.get(ch)?.(m))
        const again = sub
        sub.on('ready', () => {
          for (const ch of handlers.keys()) again.subscribe(ch).catch(() => {/* next 'ready' */})
        })
        void sub.connect().catch(() => {/* retried by the client */})
      }
      // Waited for a short while only: a Redis that is down must not hold up the start (the
      // client subscribes once connected, and again after every reconnect).
      const subscribed = sub.subscribe(channel).then(() => {}, () => {})
      if (state === 'degraded') return
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        subscribed,
        new Promise<void>((r) => {
          timer = setTimeout(r, SUBSCRIBE_WAIT_MS)
        }),
      ])
      clearTimeout(timer)
    },
    // Connected, known to be down (the first connection error), or `ms` passed: whichever comes first.
    ready: (ms) =>
      new Promise<void>((resolve) => {
        if (state !== 'connecting') return resolve()
        const timer = setTimeout(done, timerDelay(ms))
        function done() {
          clearTimeout(timer)
          cmd.off('ready', done)
          cmd.off('error', done)
          resolve()
        }
        cmd.once('ready', done)
        cmd.once('error', done)
      }),
    onRecovered: (cb) => {
      recovered.push(cb)
    },
    close: async () => {
      closed = true
      resync.stop()
      if (outageTimer !== undefined) clearTimeout(outageTimer)
      cmd.disconnect()
      sub?.disconnect()
    },
  }
}
