/**
 * The fleet's view of latency, TTFT, tokens/s and success windows. Every second each instance
 * writes a digest of its own measurements per target (only those that changed; one round
 * trip for all of them, never one per request or SSE event) and reads the others' digests.
 * A snapshot is then this instance's numbers merged with the rest of the fleet's, weighted by
 * sample counts, so a fresh instance routes on what the fleet already knows.
 */
import { timerDelay } from '../lib/clock.ts'
import type { TargetSnapshot } from '../routing/types.ts'
import type { FleetLink } from './keys.ts'
import { script } from './redis.ts'

/** One instance's numbers for one target. */
export interface Digest {
  readonly samples: number
  readonly successes: number
  readonly errors: number
  readonly latencyMs?: number
  readonly ttftMs?: number
  readonly tokensPerSec?: number
}

/** KEYS stats; ARGV instance, maxAgeMs, target, json, …: writes this instance's digests, returns everyone's fresh ones. */
const EXCHANGE = script(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[1] .. '\\0' .. ARGV[i], now .. '\\0' .. ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
local out = {}
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h, 2 do
  local sep = string.find(h[i + 1], '\\0', 1, true)
  local at = tonumber(string.sub(h[i + 1], 1, sep - 1))
  if now - at > tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], h[i])
  else table.insert(out, h[i]); table.insert(out, string.sub(h[i + 1], sep + 1)) end
end
return out
`)

/** A digest older than this (by Redis's clock) no longer counts: its instance is gone or idle. */
const MAX_AGE_MS = 60_000

function weighted(a: number | undefined, wa: number, b: number | undefined, wb: number): number | undefined {
  if (a === undefined || wa <= 0) return b
  if (b === undefined || wb <= 0) return a
  return (a * wa + b * wb) / (wa + wb)
}

/** Sums digests of other instances: means weighted by their sample counts. */
export function combine(digests: readonly Digest[]): Digest | undefined {
  let acc: Digest | undefined
  for (const d of digests) acc = acc ? mergeDigest(acc, d) : d
  return acc
}

function mergeDigest(a: Digest, b: Digest): Digest {
  const opt = (k: 'latencyMs' | 'ttftMs' | 'tokensPerSec') => {
    const v = weighted(a[k], a.samples, b[k], b.samples)
    return v === undefined ? {} : { [k]: v }
  }
  return {
    samples: a.samples + b.samples,
    successes: a.successes + b.successes,
    errors: a.errors + b.errors,
    ...opt('latencyMs'),
    ...opt('ttftMs'),
    ...opt('tokensPerSec'),
  }
}

/** This instance's snapshot with the rest of the fleet's digest merged in (breaker and in-flight stay local). */
export function withFleet(local: TargetSnapshot, fleet: Digest | undefined): TargetSnapshot {
  if (!fleet || fleet.samples <= 0) return local
  const m = mergeDigest(digestOf(local), fleet)
  const outcomes = m.successes + m.errors
  const { latencyMs: _l, ttftMs: _t, tokensPerSec: _s, errorRate: _e, ...rest } = local
  return {
    ...rest,
    samples: m.samples,
    successes: m.successes,
    errors: m.errors,
    ...(m.latencyMs === undefined ? {} : { latencyMs: m.latencyMs }),
    ...(m.ttftMs === undefined ? {} : { ttftMs: m.ttftMs }),
    ...(m.tokensPerSec === undefined ? {} : { tokensPerSec: m.tokensPerSec }),
    ...(outcomes > 0 ? { errorRate: m.errors / outcomes } : {}),
  }
}

export function digestOf(s: TargetSnapshot): Digest {
  return {
    samples: s.samples,
    successes: s.successes,
    errors: s.errors,
    ...(s.latencyMs === undefined ? {} : { latencyMs: s.latencyMs }),
    ...(s.ttftMs === undefined ? {} : { ttftMs: s.ttftMs }),
    ...(s.tokensPerSec === undefined ? {} : { tokensPerSec: s.tokensPerSec }),
  }
}

export interface FleetSamplesOptions extends FleetLink {
  readonly periodMs: number
}

/** Exchanges digests with the fleet on a timer and holds the rest of the fleet's, per target. */
export class FleetSamples {
  readonly #o: FleetSamplesOptions
  #others = new Map<string, Digest>()
  #local: (() => ReadonlyMap<string, TargetSnapshot>) | undefined
  readonly #sent = new Map<string, string>()
  readonly #timer: ReturnType<typeof setInterval>

  constructor(o: FleetSamplesOptions) {
    this.#o = o
    this.#timer = setInterval(() => void this.exchange(), timerDelay(o.periodMs))
    ;(this.#timer as { unref?: () => void }).unref?.()
    o.redis.onRecovered(() => {
      this.#sent.clear()
    })
  }

  /** Where this instance's own measurements come from (the routing table). */
  attach(local: () => ReadonlyMap<string, TargetSnapshot>): void {
    this.#local = local
  }

  /** The rest of the fleet's digest for `target`, as of the last exchange. */
  others(target: string): Digest | undefined {
    return this.#others.get(target)
  }

  /** One round trip: send what changed, read everyone's. */
  async exchange(): Promise<void> {
    if (!this.#o.redis.usable()) return
    const args: (string | number)[] = [this.#o.instanceId, MAX_AGE_MS]
    const changed: [string, string][] = []
    for (const [target, snap] of this.#local?.() ?? []) {
      if (snap.samples === 0 && snap.successes + snap.errors === 0) continue
      const json = JSON.stringify(digestOf(snap))
      if (this.#sent.get(target) === json) continue
      args.push(target, json)
      changed.push([target, json])
    }
    const r = await this.#o.redis.run(EXCHANGE, [this.#o.keys.samples], args)
    if (!Array.isArray(r)) return
    for (const [t, j] of changed) this.#sent.set(t, j)
    const byTarget = new Map<string, Digest[]>()
    const own = `${this.#o.instanceId}\u0000`
    for (let i = 0; i + 1 < r.length; i += 2) {
      const field = String(r[i])
      if (field.startsWith(own)) continue
      const target = field.slice(field.indexOf('\u0000') + 1)
      try {
        const d = JSON.parse(String(r[i + 1])) as Digest
        let list = byTarget.get(target)
        if (!list) byTarget.set(target, list = [])
        list.push(d)
      } catch { /* a damaged digest is skipped */ }
    }
    const next = new Map<string, Digest>()
    for (const [t, list] of byTarget) {
      const c = combine(list)
      if (c) next.set(t, c)
    }
    this.#others = next
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
