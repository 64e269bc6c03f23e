/**
 * The one mutable table of routing measurements: per target (`"provider,model"`), the
 * in-flight count, EWMAs of latency / time to first token / output tokens per second, a
 * sliding success/error window and the circuit breaker. Every update goes through the pure
 * functions of ewma.ts, window.ts and resilience/breaker.ts; this class only holds the values.
 *
 * One sample per ATTEMPT, not per request: a retried request gives two samples, so a tier's
 * numbers describe the tier, not the retry policy.
 */
import type { BreakerPolicy } from '../config/types.ts'
import { breakerAllows, breakerInitial, breakerNext, breakerRetryInMs } from '../resilience/breaker.ts'
import type { BreakerEvent, BreakerState } from '../resilience/breaker.ts'
import { dampen, EMPTY_EWMA, ewma, ewmaValue, penalise } from './ewma.ts'
import type { Ewma } from './ewma.ts'
import type { FailureReason, TargetSnapshot } from './types.ts'
import { providerOf } from './candidates.ts'
import { emptyWindow, windowAdd, windowSum } from '../lib/window.ts'
import type { SlidingWindow, WindowParams } from '../lib/window.ts'

export interface StatsOptions {
  readonly ewmaAlpha: number
  /** A failure counts as `failurePenalty × current EWMA` (default 2 in config). */
  readonly failurePenalty: number
  readonly breaker: BreakerPolicy
  /** The success/error window; default 60 s in 12 slots. */
  readonly window?: WindowParams
  /** A successful sample counts as at most this many times worse than the EWMA (see `dampen`); default 1.5. */
  readonly spikeRatio?: number
  /** Measurements to go on from (a reload's previous table's); none when absent. */
  readonly measurements?: TargetMeasurements
}

/**
 * A scoped timer for one upstream attempt. Call exactly one of `succeed` / `fail`; later calls
 * are ignored. Call `abandon(now)` in a `finally`: when neither was called (an exception, a
 * forgotten path) it records a failure, so no attempt leaves the in-flight count stuck.
 */
export interface Attempt {
  readonly key: string
  readonly startedAt: number
  /** The first *content* token arrived (not headers, not a ping). Only the first call counts. */
  firstToken(now: number): void
  succeed(now: number, info?: { readonly outputTokens?: number }): void
  fail(now: number, reason: FailureReason): void
  abandon(now: number): void
}

interface TargetRecord {
  inFlight: number
  /**
   * Attempts in flight that already delivered content: evidence the target is up, so the
   * breaker's error rate counts them with the successes (in a burst the failures finish first).
   */
  streaming: number
  /** Streams of this target that broke after the commit point and were continued elsewhere or again. */
  continued: number
  samples: number
  latency: Ewma
  ttft: Ewma
  /** Mean absolute deviation of time to first token: with `ttft`, the spread the adaptive first-event timeout reads. */
  ttftDev: Ewma
  tps: Ewma
  window: SlidingWindow<'ok' | 'err'>
  breaker: BreakerState
  lastFinishedAt?: number
}

/**
 * What a stats table has measured, by target: handed from one table to the next, so a config
 * reload keeps each target's averages, windows and breaker (the targets are the same upstreams).
 * Opaque outside this module.
 */
export class TargetMeasurements {
  /** @internal */
  readonly records = new Map<string, TargetRecord>()
  /** Each provider's upstream URL when the records were last kept. */
  #upstreams = new Map<string, string>()

  /**
   * Keeps the records of providers that still reach the same upstream (`name → URL` of the new
   * config) and forgets the rest: a provider removed, or pointed elsewhere, starts afresh.
   * Attempts still in flight on a forgotten record settle on it unseen. Returns the providers
   * the previous config had that now are gone or reach another upstream (what else a reload
   * carries per provider forgets them too).
   */
  retain(upstreams: ReadonlyMap<string, string>): ReadonlySet<string> {
    const changed = new Set<string>()
    for (const [provider, url] of this.#upstreams) if (upstreams.get(provider) !== url) changed.add(provider)
    for (const key of this.records.keys()) {
      const provider = providerOf(key)
      if (upstreams.get(provider) !== this.#upstreams.get(provider)) this.records.delete(key)
    }
    this.#upstreams = new Map(upstreams)
    return changed
  }
}

/** Records kept at most (see #evictIdle). */
export const MAX_TARGETS = 4_096

const DEFAULT_WINDOW: WindowParams = { windowMs: 60_000, buckets: 12 }
/** 1.5 keeps a single 5× spike inside the default select band while a lasting ×5 step leaves it in ~3 samples. */
const DEFAULT_SPIKE_RATIO = 1.5
type SpikeBound = Parameters<typeof dampen>[2]
const ATTEMPT: BreakerEvent = { type: 'attempt' }
const SUCCESS: BreakerEvent = { type: 'success' }

/** Per-target measurements and breakers, read through `snapshot` / `all`. */
export class RoutingStats {
  readonly #opts: StatsOptions
  readonly #window: WindowParams
  readonly #targets: Map<string, TargetRecord>
  /** The spike bounds of `dampen`, made once rather than per sample. */
  readonly #spike: { readonly higher: SpikeBound; readonly lower: SpikeBound }

  constructor(opts: StatsOptions) {
    this.#opts = opts
    this.#targets = opts.measurements?.records ?? new Map()
    this.#window = opts.window ?? DEFAULT_WINDOW
    const maxRatio = opts.spikeRatio ?? DEFAULT_SPIKE_RATIO
    this.#spike = { higher: { maxRatio, worse: 'higher' }, lower: { maxRatio, worse: 'lower' } }
  }

  /** Starts timing an attempt on `key` at `now` (takes a half-open probe slot when relevant). */
  begin(key: string, now: number): Attempt {
    const rec = this.#record(key, now)
    rec.inFlight += 1
    // A closed breaker (nearly always) is left as it is by an attempt: nothing to compute or build.
    if (rec.breaker.kind !== 'closed') {
      rec.breaker = breakerNext(
        breakerAllows(rec.breaker, now, this.#opts.breaker).state,
        ATTEMPT,
        now,
        this.#opts.breaker,
      )
    }
    return new TrackedAttempt(this, rec, key, now)
  }

  /** A stream of `key` broke after the commit point and was continued (shown in /v1/latencies). */
  noteContinued(key: string, now: number): void {
    this.#record(key, now).continued += 1
  }

  /** Whether the breaker lets a request through to `key` now, and when it will if not. */
  allows(key: string, now: number): { allowed: boolean; retryInMs: number } {
    const rec = this.#targets.get(key)
    if (!rec) return { allowed: true, retryInMs: 0 }
    const { allowed, state } = breakerAllows(rec.breaker, now, this.#opts.breaker)
    return { allowed, retryInMs: allowed ? 0 : Math.max(1, breakerRetryInMs(state, now)) }
  }

  /** The breaker of `key` at `now`: the part of `snapshot` a caller often needs alone, without the window sums. */
  breakerState(key: string, now: number): BreakerState {
    const rec = this.#targets.get(key)
    return rec ? breakerAllows(rec.breaker, now, this.#opts.breaker).state : breakerInitial(now)
  }

  /** What is known about `key` at `now` (an empty snapshot for an unknown target). */
  snapshot(key: string, now: number): TargetSnapshot {
    const rec = this.#targets.get(key)
    if (!rec) return emptySnapshot(key, now)
    const successes = windowSum(rec.window, 'ok', now, this.#window)
    const errors = windowSum(rec.window, 'err', now, this.#window)
    // Built field by field (the plan reads a snapshot of each candidate on every request); the
    // optional fields are absent, not undefined, in the same order as before.
    const snap: Mutable<TargetSnapshot> = { key, samples: rec.samples, successes, errors, inFlight: rec.inFlight }
    if (rec.continued > 0) snap.continued = rec.continued
    snap.breaker = breakerAllows(rec.breaker, now, this.#opts.breaker).state
    setDefined(snap, 'latencyMs', ewmaValue(rec.latency))
    setDefined(snap, 'ttftMs', ewmaValue(rec.ttft))
    setDefined(snap, 'ttftDevMs', ewmaValue(rec.ttftDev))
    setDefined(snap, 'tokensPerSec', ewmaValue(rec.tps))
    setDefined(snap, 'errorRate', successes + errors > 0 ? errors / (successes + errors) : undefined)
    setDefined(snap, 'lastFinishedAt', rec.lastFinishedAt)
    return snap as TargetSnapshot
  }

  /** Snapshots of every target seen so far, in first-seen order. */
  all(now: number): ReadonlyMap<string, TargetSnapshot> {
    return new Map([...this.#targets.keys()].map((k) => [k, this.snapshot(k, now)]))
  }

  #record(key: string, now: number): TargetRecord {
    let rec = this.#targets.get(key)
    if (!rec) {
      if (this.#targets.size >= MAX_TARGETS) this.#evictIdle()
      rec = { ...freshMeasurements(), inFlight: 0, streaming: 0, continued: 0, breaker: breakerInitial(now) }
      this.#targets.set(key, rec)
    }
    return rec
  }

  /**
   * Explicit `provider,model` targets come from clients, so the table is bounded: the oldest
   * record with nothing in flight makes room (configured tiers are seen first and kept busy).
   */
  #evictIdle(): void {
    for (const [key, rec] of this.#targets) {
      if (rec.inFlight === 0) {
        this.#targets.delete(key)
        return
      }
    }
  }

  /** An attempt ended well (`TrackedAttempt` only). */
  settleSuccess(
    rec: TargetRecord,
    start: number,
    firstAt: number | undefined,
    end: number,
    outputTokens?: number,
  ): void {
    const a = this.#opts.ewmaAlpha
    const wasProbing = rec.breaker.kind === 'half_open'
    this.#breakerEvent(rec, SUCCESS, end)
    // A recovered target starts its measurements afresh: its pre-outage penalties say nothing now.
    if (wasProbing && rec.breaker.kind === 'closed') Object.assign(rec, freshMeasurements())
    const { higher, lower } = this.#spike
    rec.latency = ewma(rec.latency, dampen(rec.latency, end - start, higher), a)
    if (firstAt !== undefined) {
      const sample = dampen(rec.ttft, firstAt - start, higher)
      const mean = ewmaValue(rec.ttft)
      if (mean !== undefined) rec.ttftDev = ewma(rec.ttftDev, Math.abs(sample - mean), a)
      rec.ttft = ewma(rec.ttft, sample, a)
      const secs = (end - firstAt) / 1_000
      if (outputTokens !== undefined && outputTokens > 0 && secs > 0) {
        rec.tps = ewma(rec.tps, dampen(rec.tps, outputTokens / secs, lower), a)
      }
    }
    this.#count(rec, 'ok', end)
  }

  /** An attempt failed (`TrackedAttempt` only). */
  settleFailure(rec: TargetRecord, firstAt: number | undefined, end: number, reason: FailureReason): void {
    if (reason === 'client_error') {
      this.#breakerEvent(rec, { type: 'release' }, end)
      return
    }
    const { ewmaAlpha: a, failurePenalty: f } = this.#opts
    rec.latency = penalise(rec.latency, f, a)
    if (firstAt === undefined) rec.ttft = penalise(rec.ttft, f, a)
    this.#count(rec, 'err', end)
    const ok = windowSum(rec.window, 'ok', end, this.#window) + rec.streaming
    const err = windowSum(rec.window, 'err', end, this.#window)
    // A stream the target cut after answering 2xx: up but flaky (see BreakerEvent).
    const partial = reason === 'stream_broken'
    this.#breakerEvent(rec, {
      type: 'failure',
      errorRate: err / (ok + err),
      requests: ok + err,
      ...(partial ? { partial } : {}),
    }, end)
  }

  #count(rec: TargetRecord, outcome: 'ok' | 'err', now: number): void {
    rec.window = windowAdd(rec.window, outcome, 1, now, this.#window)
    rec.samples += 1
    rec.lastFinishedAt = now
  }

  #breakerEvent(rec: TargetRecord, ev: BreakerEvent, now: number): void {
    // A closed breaker needs no time-driven move first (breakerAllows would hand back the same state).
    const s = rec.breaker.kind === 'closed' ? rec.breaker : breakerAllows(rec.breaker, now, this.#opts.breaker).state
    rec.breaker = breakerNext(s, ev, now, this.#opts.breaker)
  }
}

function freshMeasurements(): Pick<TargetRecord, 'samples' | 'latency' | 'ttft' | 'ttftDev' | 'tps' | 'window'> {
  return {
    samples: 0,
    latency: EMPTY_EWMA,
    ttft: EMPTY_EWMA,
    ttftDev: EMPTY_EWMA,
    tps: EMPTY_EWMA,
    window: emptyWindow(),
  }
}

function emptySnapshot(key: string, now: number): TargetSnapshot {
  return { key, samples: 0, successes: 0, errors: 0, inFlight: 0, breaker: breakerInitial(now) }
}

type Mutable<T> = { -readonly [K in keyof T]?: T[K] }

function setDefined<K extends keyof TargetSnapshot>(o: Mutable<TargetSnapshot>, k: K, v: TargetSnapshot[K]): void {
  if (v !== undefined) o[k] = v
}

/** One attempt in flight on a target: an object with methods rather than five closures per try. */
class TrackedAttempt implements Attempt {
  readonly key: string
  readonly startedAt: number
  readonly #stats: RoutingStats
  readonly #rec: TargetRecord
  #firstAt: number | undefined
  #done = false

  constructor(stats: RoutingStats, rec: TargetRecord, key: string, startedAt: number) {
    this.#stats = stats
    this.#rec = rec
    this.key = key
    this.startedAt = startedAt
  }

  firstToken(t: number): void {
    if (!this.#done && this.#firstAt === undefined) {
      this.#firstAt = t
      this.#rec.streaming += 1
    }
  }

  succeed(t: number, info?: { readonly outputTokens?: number }): void {
    if (this.#finish()) this.#stats.settleSuccess(this.#rec, this.startedAt, this.#firstAt, t, info?.outputTokens)
  }

  fail(t: number, reason: FailureReason): void {
    if (this.#finish()) this.#stats.settleFailure(this.#rec, this.#firstAt, t, reason)
  }

  abandon(t: number): void {
    if (this.#finish()) this.#stats.settleFailure(this.#rec, this.#firstAt, t, 'abandoned')
  }

  /** The first end counts; later ones are ignored. */
  #finish(): boolean {
    if (this.#done) return false
    this.#done = true
    const rec = this.#rec
    rec.inFlight = Math.max(0, rec.inFlight - 1)
    if (this.#firstAt !== undefined) rec.streaming = Math.max(0, rec.streaming - 1)
    return true
  }
}
