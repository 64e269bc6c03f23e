/**
 * Live time series of finished requests, per target and per (scenario, target): minute buckets
 * for the last 24 hours, hour buckets for the last 7 days, and an hour-of-week profile. Memory
 * is bounded: at most `MAX_KEYS` keys, each with a fixed number of buckets.
 */

/** Sums over the requests of one bucket; every derived figure is a ratio of two of them. */
export type Agg = {
  requests: number
  ok: number
  latencySum: number
  latencyN: number
  ttftSum: number
  ttftN: number
  /** Output tokens and generation milliseconds (after the first token) of streamed successes. */
  genTokens: number
  genMs: number
  /** Cost and tokens (input + output) of requests with a known price. */
  costUsd: number
  costTokens: number
}

export const emptyAgg = (): Agg => ({
  requests: 0,
  ok: 0,
  latencySum: 0,
  latencyN: 0,
  ttftSum: 0,
  ttftN: 0,
  genTokens: 0,
  genMs: 0,
  costUsd: 0,
  costTokens: 0,
})

export function mergeAgg(into: Agg, a: Agg): Agg {
  for (const k of Object.keys(into) as (keyof Agg)[]) into[k] += a[k]
  return into
}

/** One finished request, as the series see it. */
export interface Sample {
  readonly at: number
  readonly ok: boolean
  readonly latencyMs?: number
  readonly ttftMs?: number
  readonly outputTokens?: number
  readonly inputTokens?: number
  readonly costUsd?: number
}

function add(a: Agg, s: Sample): void {
  a.requests++
  if (!s.ok) return
  a.ok++
  if (s.latencyMs !== undefined) {
    a.latencySum += s.latencyMs
    a.latencyN++
  }
  if (s.ttftMs !== undefined) {
    a.ttftSum += s.ttftMs
    a.ttftN++
    const gen = (s.latencyMs ?? 0) - s.ttftMs
    if (s.outputTokens !== undefined && s.outputTokens > 1 && gen > 0) {
      a.genTokens += s.outputTokens - 1
      a.genMs += gen
    }
  }
  if (s.costUsd !== undefined) {
    a.costUsd += s.costUsd
    a.costTokens += (s.inputTokens ?? 0) + (s.outputTokens ?? 0)
  }
}

/** Figures of an aggregate; undefined where there is nothing to divide. */
export interface Figures {
  readonly requests: number
  readonly latencyMs?: number
  readonly ttftMs?: number
  readonly tokensPerSec?: number
  readonly successRate?: number
  readonly costPer1k?: number
}

export function figures(a: Agg): Figures {
  return {
    requests: a.requests,
    ...(a.latencyN > 0 ? { latencyMs: a.latencySum / a.latencyN } : {}),
    ...(a.ttftN > 0 ? { ttftMs: a.ttftSum / a.ttftN } : {}),
    ...(a.genMs > 0 ? { tokensPerSec: (a.genTokens / a.genMs) * 1000 } : {}),
    ...(a.requests > 0 ? { successRate: a.ok / a.requests } : {}),
    ...(a.costTokens > 0 ? { costPer1k: (a.costUsd / a.costTokens) * 1000 } : {}),
  }
}

/** Fixed-width buckets keyed by start time, the oldest dropped past `capacity`. */
class Buckets {
  readonly #map = new Map<number, Agg>()
  constructor(readonly widthMs: number, readonly capacity: number) {}

  /** The bucket `at` falls in (created, and the oldest dropped, when new), with its start. */
  bucket(at: number): { start: number; agg: Agg } {
    const start = this.startOf(at)
    return { start, agg: this.#agg(start) }
  }

  startOf(at: number): number {
    return Math.floor(at / this.widthMs) * this.widthMs
  }

  #agg(start: number): Agg {
    let a = this.#map.get(start)
    if (!a) {
      a = emptyAgg()
      this.#map.set(start, a)
      const oldest = start - this.capacity * this.widthMs
      for (const k of this.#map.keys()) if (k <= oldest) this.#map.delete(k)
    }
    return a
  }

  /** Adds `s` to its bucket and returns the bucket's start (no `{ start, agg }` pair: this runs per request). */
  add(s: Sample): number {
    const start = this.startOf(s.at)
    add(this.#agg(start), s)
    return start
  }

  /** Buckets with `from <= start < to`, oldest first. */
  range(from: number, to: number): { start: number; agg: Agg }[] {
    return [...this.#map].filter(([k]) => k >= from && k < to).sort((x, y) => x[0] - y[0]).map(([start, agg]) => ({
      start,
      agg,
    }))
  }
}

const MINUTE = 60_000
const HOUR = 3_600_000

class KeySeries {
  readonly minutes = new Buckets(MINUTE, 24 * 60)
  readonly hours = new Buckets(HOUR, 7 * 24)
  readonly profile: Agg[] = Array.from({ length: 168 }, emptyAgg)
  /** The hour bucket this key last marked dirty since the last `takeDirty` (saves a key string per request). */
  dirtyHour: number | undefined
}

/** Keys (targets plus scenario/target pairs) kept at most; later keys are not recorded. */
export const MAX_KEYS = 512

export interface Bucket {
  readonly start: number
  readonly agg: Agg
}

export class SeriesBook {
  readonly #keys = new Map<string, KeySeries>()
  /** Hour buckets changed since the last `takeDirty` (`key` NUL `start`). */
  readonly #dirty = new Set<string>()

  #series(key: string): KeySeries | undefined {
    let k = this.#keys.get(key)
    if (!k) {
      if (this.#keys.size >= MAX_KEYS) return undefined
      k = new KeySeries()
      this.#keys.set(key, k)
    }
    return k
  }

  /** Records a sample under `key` (a target, or `scenario|target`). */
  record(key: string, s: Sample, hourOfWeek: number): void {
    const k = this.#series(key)
    if (!k) return
    k.minutes.add(s)
    const hour = k.hours.add(s)
    if (k.dirtyHour !== hour) {
      this.#dirty.add(`${key}\u0000${hour}`)
      k.dirtyHour = hour
    }
    add(k.profile[hourOfWeek]!, s)
  }

  /** Hour buckets recorded before (from the store): into the hour series and the profile. */
  seed(
    rows: readonly { key: string; start: number; agg: Readonly<Record<string, number>> }[],
    hourOfWeek: (t: number) => number,
  ): void {
    for (const r of rows) {
      const k = this.#series(r.key)
      if (!k) continue
      const a = emptyAgg()
      for (const f of Object.keys(a) as (keyof Agg)[]) a[f] = Number.isFinite(r.agg[f]) ? r.agg[f]! : 0
      mergeAgg(k.hours.bucket(r.start).agg, a)
      mergeAgg(k.profile[hourOfWeek(r.start)]!, a)
    }
  }

  /** The hour buckets changed since the last call, with their whole sums (for the store). */
  takeDirty(): { key: string; start: number; agg: Agg }[] {
    const out = [...this.#dirty].flatMap((d) => {
      const i = d.indexOf('\u0000')
      const key = d.slice(0, i)
      const start = Number(d.slice(i + 1))
      const agg = this.#keys.get(key)?.hours.range(start, start + 1)[0]?.agg
      return agg ? [{ key, start, agg: { ...agg } }] : []
    })
    this.#dirty.clear()
    for (const k of this.#keys.values()) k.dirtyHour = undefined
    return out
  }

  keys(): string[] {
    return [...this.#keys.keys()]
  }

  /**
   * Buckets of `stepMs` (a multiple of a minute, or of an hour past 24 h) covering
   * `[from, to)`, from minute buckets when the range is within the last 24 hours of `to`.
   */
  series(key: string, q: { from: number; to: number; stepMs: number }): Bucket[] {
    const k = this.#keys.get(key)
    if (!k) return []
    const src = q.to - q.from <= 24 * HOUR && q.stepMs < HOUR ? k.minutes : k.hours
    const out = new Map<number, Agg>()
    for (const b of src.range(Math.floor(q.from / src.widthMs) * src.widthMs, q.to)) {
      const start = Math.floor(b.start / q.stepMs) * q.stepMs
      mergeAgg(out.get(start) ?? out.set(start, emptyAgg()).get(start)!, b.agg)
    }
    return [...out].sort((a, b) => a[0] - b[0]).map(([start, agg]) => ({ start, agg }))
  }

  /** The sum over `[from, to)`. */
  total(key: string, q: { from: number; to: number }): Agg {
    return this.series(key, { ...q, stepMs: q.to - q.from <= 24 * HOUR ? MINUTE : HOUR }).reduce(
      (acc, b) => mergeAgg(acc, b.agg),
      emptyAgg(),
    )
  }

  /** The hour-of-week profile of a key since it was first seen. */
  profile(key: string): readonly Agg[] {
    return this.#keys.get(key)?.profile ?? []
  }
}
