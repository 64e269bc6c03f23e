/**
 * Dedup across the fleet: identical concurrent non-streaming requests (same key: path, API
 * key fingerprint, answer-changing headers, canonical body) share one upstream call even when
 * the load balancer sends them to different instances. Within an instance they share a local
 * flight as before; the first of them claims the fleet's lead (`SET NX PX`, renewed while it
 * runs). The leader runs
 * the request and leaves the answer in Redis for a short while; the others wait for it (a
 * published note, or a look every second), and run the request themselves when the leader
 * is gone without an answer or Redis does not answer.
 */
import { timerDelay } from '../lib/clock.ts'
import { Buffer } from 'node:buffer'
import type { DedupRunner, SharedAnswer } from '../middleware/dedup.ts'
import { Dedup } from '../middleware/dedup.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

/** KEYS lead; ARGV instance, ttlMs: 1 when this instance leads the key. */
const CLAIM = script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`)

/** KEYS answer, lead; ARGV json, ttlMs, channel, key: stores the answer and tells the waiters. */
const STORE = script(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`)

/** KEYS lead; ARGV channel, key: the leader failed; the waiters look again and run the request themselves. */
const RESIGN = script(`
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`)

/** KEYS lead; ARGV instance, ttlMs: keeps this instance's claim alive while its request runs. */
const RENEW = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`)

/** KEYS answer, lead: { answer or false, whether a leader still holds the key }. */
const LOOK = script(`return { redis.call('GET', KEYS[1]) or '', redis.call('EXISTS', KEYS[2]) }`)

/** A leader's claim lives this long unless renewed (it is, every third of it, while the request runs). */
const LEAD_TTL_MS = 5_000
/** How long an answer stays readable for followers. */
const ANSWER_TTL_MS = 30_000
/** A follower looks again this often when no note arrived (the leader may have died). */
const LOOK_EVERY_MS = 1_000

export type FleetDedupOptions = FleetLink

interface Stored {
  readonly status: number
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
}

const encode = (a: SharedAnswer): string =>
  JSON.stringify(
    { status: a.status, headers: a.headers, body: Buffer.from(a.body).toString('base64') } satisfies Stored,
  )

function decode(json: string): SharedAnswer | undefined {
  try {
    const s = JSON.parse(json) as Stored
    return {
      status: s.status,
      headers: [...s.headers.filter(([k]) => k.toLowerCase() !== 'x-switchyard-dedup'), [
        'x-switchyard-dedup',
        'shared',
      ]],
      body: new Uint8Array(Buffer.from(s.body, 'base64')),
    }
  } catch {
    return undefined
  }
}

export class FleetDedup implements DedupRunner {
  readonly #o: FleetDedupOptions
  readonly #local = new Dedup()
  readonly #waiters = new Map<string, Set<() => void>>()
  #subscribed = false

  constructor(o: FleetDedupOptions) {
    this.#o = o
  }

  async run(
    key: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<SharedAnswer>,
  ): Promise<{ answer: SharedAnswer; shared: boolean }> {
    if (!this.#o.redis.usable()) return this.#local.run(key, signal, work)
    return this.#local.run(key, signal, (sig) => this.#fleetWork(key, sig, work))
  }

  async #fleetWork(
    key: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<SharedAnswer>,
  ): Promise<SharedAnswer> {
    const k = this.#o.keys.dedup(key)
    const lead = `${k}:lead`
    const answerKey = `${k}:answer`
    await this.#subscribe()
    const won = await this.#o.redis.run(CLAIM, [lead], [this.#o.instanceId, LEAD_TTL_MS])
    if (won !== 0) {
      // Leading (or Redis did not answer: then nobody waits on us). The claim is short and
      // renewed while the request runs, so a leader that dies, or whose answer never reaches
      // Redis, holds the followers up for a few seconds at most.
      const renew = won === 1
        ? setInterval(
          () => void this.#o.redis.run(RENEW, [lead], [this.#o.instanceId, LEAD_TTL_MS]),
          timerDelay(LEAD_TTL_MS / 3),
        )
        : undefined
      let answer: SharedAnswer
      try {
        answer = await work(signal)
      } catch (e) {
        // No answer to share: the followers run the request themselves.
        if (won === 1) void this.#o.redis.run(RESIGN, [lead], [this.#channel(), key])
        throw e
      } finally {
        clearInterval(renew)
      }
      if (won === 1) {
        void this.#o.redis.run(STORE, [answerKey, lead], [encode(answer), ANSWER_TTL_MS, this.#channel(), key])
      }
      return answer
    }
    for (;;) {
      const r = await this.#o.redis.run(LOOK, [answerKey, lead], [])
      if (!Array.isArray(r)) return work(signal)
      const found = typeof r[0] === 'string' && r[0] !== '' ? decode(r[0]) : undefined
      if (found) return found
      // The leader is gone without an answer: this instance asks the upstream itself.
      if (Number(r[1]) === 0) return work(signal)
      await this.#wait(key, signal)
      if (signal.aborted) return work(signal)
    }
  }

  #channel(): string {
    return this.#o.keys.dedup('done')
  }

  async #subscribe(): Promise<void> {
    if (this.#subscribed) return
    this.#subscribed = true
    await this.#o.redis.subscribe(this.#channel(), (key) => {
      for (const wake of this.#waiters.get(key) ?? []) wake()
    })
  }

  /** Resolves on a note for `key`, after a second, or when `signal` aborts. */
  #wait(key: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(key)
      if (!set) this.#waiters.set(key, set = new Set())
      const waiters = set
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        waiters.delete(done)
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
        resolve()
      }
      const timer = setTimeout(done, LOOK_EVERY_MS)
      signal.addEventListener('abort', done, { once: true })
      waiters.add(done)
    })
  }
}
