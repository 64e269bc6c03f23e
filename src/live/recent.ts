/**
 * What the dashboard plots and lists, kept in memory and bounded: the last N finished requests
 * (ids, routes, timings, counts and cost; never prompt text or keys), a timeline in two
 * resolutions (10 s over 15 minutes, 5 min over 24 hours) and usage per UTC day, tier and
 * target for the last 31 days (seeded from and written to the store by the composition root).
 * Pure: every call takes `now`.
 */
import type { RequestTrace } from '../proxy/types.ts'

/** One finished request, as `GET /v1/requests` serves it. */
export interface RecentRequest {
  readonly id: string
  readonly at: number
  readonly format: string
  readonly scenario: string
  readonly target: string | null
  readonly tier: string | null
  readonly attempts: number
  readonly fallbacks: number
  /** How often a broken stream was continued on another try (null: never). */
  readonly continued: number | null
  /** Response cache outcome, when the cache applied. */
  readonly cache: 'hit' | 'miss' | null
  readonly status: number
  readonly stream: boolean
  readonly ttfb_ms: number | null
  readonly duration_ms: number | null
  readonly est_input_tokens: number
  readonly input_tokens: number | null
  readonly output_tokens: number | null
  readonly cost_usd: number | null
  readonly failure: string | null
  /** The agent session (Claude Code's, a Codex thread), when the request named one. */
  readonly session: string | null
}

/** A fixed-size ring, newest first on read. */
export class RecentRequests {
  readonly #ring: (RecentRequest | undefined)[]
  #next = 0

  constructor(readonly size = 500) {
    this.#ring = new Array<RecentRequest | undefined>(Math.max(1, size))
  }

  add(r: RecentRequest): void {
    this.#ring[this.#next] = r
    this.#next = (this.#next + 1) % this.#ring.length
  }

  /** Up to `limit` requests, newest first. */
  list(limit = this.#ring.length): RecentRequest[] {
    const out: RecentRequest[] = []
    for (let i = 1; i <= this.#ring.length && out.length < limit; i++) {
      const r = this.#ring[(this.#next - i + this.#ring.length) % this.#ring.length]
      if (r) out.push(r)
    }
    return out
  }
}

const round1 = (n: number | undefined) => (n === undefined ? null : Math.round(n * 10) / 10)

/** The row kept for a finished trace: ids, counts and timings only (never prompt text). */
export function recentOf(trace: RequestTrace, at: number): RecentRequest {
  const u = trace.usage
  return {
    id: trace.id,
    at,
    format: trace.format,
    scenario: trace.scenario,
    target: trace.target ?? null,
    tier: trace.tier ?? null,
    attempts: trace.attempts,
    fallbacks: trace.fallbacks,
    continued: trace.continued !== undefined && trace.continued > 0 ? trace.continued : null,
    cache: trace.cache ?? null,
    status: trace.status,
    stream: trace.stream,
    ttfb_ms: round1(trace.ttfbMs),
    duration_ms: round1(trace.durationMs),
    est_input_tokens: trace.estimatedInputTokens,
    input_tokens: u ? u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens : null,
    output_tokens: u ? u.outputTokens : null,
    cost_usd: trace.costUsd ?? null,
    failure: trace.failure ?? null,
    session: trace.session ?? null,
  }
}

/** A request is an error for the dashboard when it did not end in a 2xx answer. */
const isError = (r: RecentRequest) => r.status < 200 || r.status >= 300 || r.failure !== null

interface Bucket {
  t: number
  requests: number
  errors: number
  costUsd: number
  inputTokens: number
  outputTokens: number
  activeMax: number
  /** Active streams when the slot's last event happened. */
  activeEnd: number
  ttft: number[]
}

/** TTFT samples kept per bucket for its percentiles (the first ones: enough for p50/p95 on a chart). */
const TTFT_SAMPLES = 256

/** One slot of a timeline series as the store keeps it (`stepMs` names the series). */
export type TimelineBucket = Readonly<Omit<Bucket, 'ttft'>> & {
  readonly stepMs: number
  readonly ttft: readonly number[]
}

/** Buckets of `stepMs`, at most `count` of them, oldest dropped first. */
class Series {
  readonly buckets: Bucket[] = []
  /** Buckets changed since the last `takeChanged` (what the store has to write). */
  readonly changed = new Set<Bucket>()
  constructor(readonly stepMs: number, readonly count: number) {}

  at(now: number, active: number): Bucket {
    const t = Math.floor(now / this.stepMs) * this.stepMs
    const last = this.buckets[this.buckets.length - 1]
    if (last && last.t === t) {
      this.changed.add(last)
      return last
    }
    const b: Bucket = {
      t,
      requests: 0,
      errors: 0,
      costUsd: 0,
      inputTokens: 0,
      outputTokens: 0,
      activeMax: active,
      activeEnd: active,
      ttft: [],
    }
    this.buckets.push(b)
    this.changed.add(b)
    this.#dropBefore(t)
    return b
  }

  /** Puts stored buckets in (oldest first, only those still in the window at `now`, never over newer ones). */
  seed(rows: readonly TimelineBucket[], now: number): void {
    const first = this.buckets[0]?.t ?? Infinity
    const keep = rows.filter((r) => r.t < first && r.t > now - this.stepMs * this.count && r.t % this.stepMs === 0)
      .sort((a, b) => a.t - b.t)
    const seen = new Set<number>()
    const olds: Bucket[] = []
    for (const r of keep) {
      if (seen.has(r.t)) continue
      seen.add(r.t)
      olds.push({
        t: r.t,
        requests: r.requests,
        errors: r.errors,
        costUsd: r.costUsd,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        activeMax: r.activeMax,
        activeEnd: r.activeEnd,
        ttft: r.ttft.slice(0, TTFT_SAMPLES),
      })
    }
    this.buckets.unshift(...olds)
  }

  #dropBefore(t: number): void {
    while (this.buckets.length > 0 && this.buckets[0]!.t <= t - this.stepMs * this.count) {
      this.changed.delete(this.buckets.shift()!)
    }
  }
}

function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** One window of the timeline, as `GET /v1/timeline` serves it: parallel arrays, one slot per step. */
export interface TimelineWindow {
  readonly step_s: number
  /** Slot start times (epoch ms), oldest first, every slot of the window present. */
  readonly t: number[]
  readonly requests_per_s: number[]
  readonly error_rate: (number | null)[]
  readonly ttft_p50_ms: (number | null)[]
  readonly ttft_p95_ms: (number | null)[]
  readonly active_streams: number[]
  readonly cost_usd: number[]
  readonly tokens: number[]
}

/** Usage of one UTC day, tier and target. */
export interface DailyUsage {
  readonly day: string
  readonly tier: string
  readonly target: string
  requests: number
  errors: number
  inputTokens: number
  outputTokens: number
  costUsd: number
}

/** Adds `delta`'s counts and cost to `d` (same day, tier and target). */
function addUsage(d: DailyUsage, delta: Readonly<DailyUsage>): void {
  d.requests += delta.requests
  d.errors += delta.errors
  d.inputTokens += delta.inputTokens
  d.outputTokens += delta.outputTokens
  d.costUsd += delta.costUsd
}

/** Requests and cost of one UTC day over every tier and target. */
export function dayTotals(rows: readonly Readonly<DailyUsage>[], day: string): { requests: number; costUsd: number } {
  let requests = 0
  let costUsd = 0
  for (const r of rows) {
    if (r.day === day) {
      requests += r.requests
      costUsd += r.costUsd
    }
  }
  return { requests, costUsd }
}

/** The timeline's series: 10 s slots over 15 minutes, 5 min slots over 24 hours (the store keeps no older slot). */
export const TIMELINE_SERIES = [{ stepMs: 10_000, count: 90 }, { stepMs: 300_000, count: 288 }] as const

/** Days of the per-day table kept (in memory and in the store). */
export const DAYS_KEPT = 31

export class Timeline {
  readonly #fine = new Series(TIMELINE_SERIES[0].stepMs, TIMELINE_SERIES[0].count)
  readonly #coarse = new Series(TIMELINE_SERIES[1].stepMs, TIMELINE_SERIES[1].count)
  /** Both series, built once (every request and stream event walks them). */
  readonly #series = [this.#fine, this.#coarse] as const
  readonly #days = new Map<string, DailyUsage>()
  #active = 0
  #seeded = false
  #day = { start: NaN, day: '' }
  #seededBuckets = false
  /** Receives each request's contribution to its day (the daily usage store's batched writer). */
  onDay: ((delta: Readonly<DailyUsage>) => void) | undefined
  /**
   * The day-total row a request's target is counted under (the composition root sets the usage
   * ledger's keyer). Targets come from clients (`provider,<any model>`), so without this fold
   * every invented model name would add a row per day, here and in the store.
   */
  accountAs: (target: string) => string = (target) => target

  /** Adds persisted days once (later calls, e.g. after a reload, change nothing). */
  seedDays(rows: readonly Readonly<DailyUsage>[]): void {
    if (this.#seeded) return
    this.#seeded = true
    for (const r of rows) {
      const key = `${r.day}|${r.tier}|${r.target}`
      const d = this.#days.get(key)
      if (!d) {
        this.#days.set(key, { ...r })
        continue
      }
      addUsage(d, r)
    }
  }

  /** `YYYY-MM-DD` (UTC) of `now`, formatted once per day rather than once per request. */
  #dayOf(now: number): string {
    const c = this.#day
    if (now >= c.start && now < c.start + 86_400_000) return c.day
    const start = Math.floor(now / 86_400_000) * 86_400_000
    this.#day = { start, day: new Date(now).toISOString().slice(0, 10) }
    return this.#day.day
  }

  /** Adds stored timeline slots once (later calls, e.g. after a reload, change nothing); slots outside the windows are ignored. */
  seedBuckets(rows: readonly TimelineBucket[], now: number): void {
    if (this.#seededBuckets) return
    this.#seededBuckets = true
    for (const s of this.#series) s.seed(rows.filter((r) => r.stepMs === s.stepMs), now)
  }

  /** The slots changed since the last call, as the store writes them (absolute values: a rewrite is harmless). */
  takeChanged(): TimelineBucket[] {
    const out: TimelineBucket[] = []
    for (const s of this.#series) {
      for (const b of s.changed) out.push({ stepMs: s.stepMs, ...b, ttft: [...b.ttft] })
      s.changed.clear()
    }
    return out
  }

  record(r: RecentRequest, now: number): void {
    const err = isError(r)
    for (const s of this.#series) {
      const b = s.at(now, this.#active)
      b.requests++
      if (err) b.errors++
      b.costUsd += r.cost_usd ?? 0
      b.inputTokens += r.input_tokens ?? 0
      b.outputTokens += r.output_tokens ?? 0
      if (r.stream && r.ttfb_ms !== null && !err && b.ttft.length < TTFT_SAMPLES) b.ttft.push(r.ttfb_ms)
    }
    if (!r.target) return
    const target = this.accountAs(r.target)
    const day = this.#dayOf(now)
    const key = `${day}|${r.tier ?? 'none'}|${target}`
    let d = this.#days.get(key)
    if (!d) {
      d = {
        day,
        tier: r.tier ?? 'none',
        target,
        requests: 0,
        errors: 0,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
      }
      this.#days.set(key, d)
      this.#forgetOldDays(day)
    }
    const delta: DailyUsage = {
      day,
      tier: d.tier,
      target,
      requests: 1,
      errors: err ? 1 : 0,
      inputTokens: r.input_tokens ?? 0,
      outputTokens: r.output_tokens ?? 0,
      costUsd: r.cost_usd ?? 0,
    }
    addUsage(d, delta)
    this.onDay?.(delta)
  }

  /** Active streams changed (the peak per slot is what the chart shows). */
  active(n: number, now: number): void {
    this.#active = n
    for (const s of this.#series) {
      const b = s.at(now, n)
      if (n > b.activeMax) b.activeMax = n
      b.activeEnd = n
    }
  }

  window(which: '15m' | '24h', now: number): TimelineWindow {
    const s = which === '15m' ? this.#fine : this.#coarse
    const end = Math.floor(now / s.stepMs) * s.stepMs
    const byT = new Map(s.buckets.map((b) => [b.t, b]))
    const out: TimelineWindow = {
      step_s: s.stepMs / 1000,
      t: [],
      requests_per_s: [],
      error_rate: [],
      ttft_p50_ms: [],
      ttft_p95_ms: [],
      active_streams: [],
      cost_usd: [],
      tokens: [],
    }
    // A slot with no event kept the level the slot before it ended at.
    let level = 0
    const lastT = s.buckets[s.buckets.length - 1]?.t ?? -Infinity
    for (let t = end - s.stepMs * (s.count - 1); t <= end; t += s.stepMs) {
      const b = byT.get(t)
      const active = b ? b.activeMax : t > lastT ? this.#active : level
      if (b) level = b.activeEnd
      const sorted = b ? [...b.ttft].sort((x, y) => x - y) : []
      const span = t === end ? Math.max(1, now - t) : s.stepMs
      out.t.push(t)
      out.requests_per_s.push(b ? Math.round((b.requests / (span / 1000)) * 1000) / 1000 : 0)
      out.error_rate.push(b && b.requests > 0 ? b.errors / b.requests : null)
      out.ttft_p50_ms.push(percentile(sorted, 0.5))
      out.ttft_p95_ms.push(percentile(sorted, 0.95))
      out.active_streams.push(active)
      out.cost_usd.push(b ? b.costUsd : 0)
      out.tokens.push(b ? b.inputTokens + b.outputTokens : 0)
    }
    return out
  }

  /** Per UTC day, tier and target, newest day first. */
  days(): DailyUsage[] {
    return [...this.#days.values()].map((d) => ({ ...d })).sort((
      a,
      b,
    ) => (a.day < b.day ? 1 : a.day > b.day ? -1 : a.tier.localeCompare(b.tier) || a.target.localeCompare(b.target)))
  }

  #forgetOldDays(today: string): void {
    const days = [...new Set([...this.#days.values()].map((d) => d.day))].sort()
    if (days.length <= DAYS_KEPT) return
    const cutoff = days[days.length - DAYS_KEPT]!
    for (const [k, d] of this.#days) if (d.day < cutoff && d.day !== today) this.#days.delete(k)
  }
}

/** The recorder the app wires in as a trace observer. */
export interface LiveRecorder {
  readonly requests: RecentRequests
  readonly timeline: Timeline
  readonly observer: {
    request(trace: RequestTrace): void
    streamOpened(active: number): void
    streamClosed(active: number): void
  }
}

export function createLiveRecorder(now: () => number, size = 500): LiveRecorder {
  const requests = new RecentRequests(size)
  const timeline = new Timeline()
  return {
    requests,
    timeline,
    observer: {
      request(trace) {
        const t = now()
        const r = recentOf(trace, t)
        requests.add(r)
        timeline.record(r, t)
      },
      streamOpened: (n) => timeline.active(n, now()),
      streamClosed: (n) => timeline.active(n, now()),
    },
  }
}
