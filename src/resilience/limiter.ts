/**
 * Per-provider rate limits (`rpm`, `tpm`, `maxConcurrent`): the one small mutable wrapper
 * around the pure buckets. A provider with no limits always admits. The pipeline skips a
 * target whose provider is over budget rather than waiting on it while another can serve.
 */
import type { ProviderLimits } from '../config/types.ts'
import { bucketFull, bucketRefill, bucketSettle, bucketTake, perMinute } from './bucket.ts'
import type { Bucket } from './bucket.ts'

export type LimitReason = 'rpm' | 'tpm' | 'concurrency'

export type Acquired =
  | { readonly ok: true; release(actualTokens?: number): void }
  /** `fleet`: the limit is the whole fleet's (fleet mode), not this instance's alone. */
  | { readonly ok: false; readonly retryInMs: number; readonly reason: LimitReason; readonly fleet?: boolean }

/** The admission of a provider without limits: nothing to release, so one shared object for every call. */
export const UNLIMITED: Acquired = Object.freeze({ ok: true, release: () => {} })

/** An admission whose `release` does its work once; later calls are ignored. */
export function grant(release: (actualTokens?: number) => void): Acquired {
  let released = false
  return {
    ok: true,
    release: (actualTokens) => {
      if (!released) {
        released = true
        release(actualTokens)
      }
    },
  }
}

/**
 * What the routing engine needs of a limiter: the local `ProviderLimiter` below, or a
 * fleet-wide one (src/fleet/limiter.ts) whose `tryAcquire` takes one Redis round trip.
 */
export interface RateLimiter {
  readonly limited: boolean
  tryAcquire(provider: string, estTokens: number, now: number): Acquired | Promise<Acquired>
  blocked(
    providers: Iterable<string>,
    estTokens: number,
    now: number,
  ): ReadonlyMap<string, { reason: LimitReason; retryInMs: number }>
  inFlight(provider: string): number
  /** What is left of each limit now (`GET /v1/rate-budgets`); a limiter that cannot tell cheaply (fleet mode, in Redis) has none. */
  budget?(provider: string, now: number): ProviderBudget | undefined
}

/** Per limit: its size per minute (or concurrent requests) and what is left now. */
export interface ProviderBudget {
  readonly rpm?: { readonly limit: number; readonly left: number }
  readonly tpm?: { readonly limit: number; readonly left: number }
  readonly concurrency?: { readonly limit: number; readonly left: number }
}

/** One provider's buckets and in-flight count; an admission's release writes to the object it was taken from. */
export interface ProviderState {
  rpm?: Bucket
  tpm?: Bucket
  inFlight: number
}

/** Holds the buckets and in-flight counts of every provider that has limits. */
export class ProviderLimiter implements RateLimiter {
  readonly #limits: ReadonlyMap<string, ProviderLimits>
  readonly #state: Map<string, ProviderState>

  /**
   * `limits`: provider name → its limits (from `ProviderConfig.limits`). `state`: the buckets and
   * counts to start from and write to: a reload's successor keeps its predecessor's, so neither
   * a burst right after a reload nor the streams still open on the old instance go past a limit.
   */
  constructor(
    limits: ReadonlyMap<string, ProviderLimits> | Readonly<Record<string, ProviderLimits>>,
    state: Map<string, ProviderState> = new Map(),
  ) {
    this.#limits = limits instanceof Map ? limits : new Map(Object.entries(limits))
    this.#state = state
  }

  /**
   * Reserves one request and `estTokens` tokens for `provider` at `now`, or says why not and
   * when to look again. Call `release(actualTokens)` exactly once when the attempt ends (extra
   * calls are ignored); it frees the concurrency slot and settles TPM with the reported usage.
   */
  tryAcquire(provider: string, estTokens: number, now: number): Acquired {
    const denied = this.peek(provider, estTokens, now)
    if (denied) return denied
    const lim = this.#limits.get(provider)
    if (!lim) return UNLIMITED
    const st = this.#stateOf(provider, lim, now)
    if (lim.rpm !== undefined && st.rpm) st.rpm = bucketTake(st.rpm, 1, now, perMinute(lim.rpm)).bucket
    const reserved = Math.max(0, estTokens)
    if (lim.tpm !== undefined && st.tpm) st.tpm = bucketTake(st.tpm, reserved, now, perMinute(lim.tpm)).bucket
    st.inFlight += 1
    return grant((actualTokens) => {
      st.inFlight = Math.max(0, st.inFlight - 1)
      if (lim.tpm !== undefined && st.tpm && actualTokens !== undefined) {
        st.tpm = bucketSettle(st.tpm, Math.min(reserved, lim.tpm), actualTokens, perMinute(lim.tpm))
      }
    })
  }

  /** The refusal `tryAcquire` would give now, without taking anything; undefined when it would admit. */
  peek(provider: string, estTokens: number, now: number): Extract<Acquired, { ok: false }> | undefined {
    const lim = this.#limits.get(provider)
    if (!lim) return undefined
    const st = this.#stateOf(provider, lim, now)
    if (lim.maxConcurrent !== undefined && st.inFlight >= lim.maxConcurrent) {
      // No clock tells when a slot frees; a short hint keeps callers from spinning.
      return { ok: false, retryInMs: 50, reason: 'concurrency' }
    }
    if (lim.rpm !== undefined && st.rpm) {
      const t = bucketTake(st.rpm, 1, now, perMinute(lim.rpm))
      if (!t.ok) return { ok: false, retryInMs: t.waitMs, reason: 'rpm' }
    }
    if (lim.tpm !== undefined && st.tpm) {
      const t = bucketTake(st.tpm, estTokens, now, perMinute(lim.tpm))
      if (!t.ok) return { ok: false, retryInMs: t.waitMs, reason: 'tpm' }
    }
    return undefined
  }

  /**
   * The providers among `providers` that would refuse a request of `estTokens` now, with why
   * and for how long: what `PlanView.limited` wants, so the plan skips them up front.
   */
  blocked(
    providers: Iterable<string>,
    estTokens: number,
    now: number,
  ): ReadonlyMap<string, { reason: LimitReason; retryInMs: number }> {
    const out = new Map<string, { reason: LimitReason; retryInMs: number }>()
    if (!this.limited) return out
    for (const name of providers) {
      const d = this.peek(name, estTokens, now)
      if (d) out.set(name, { reason: d.reason, retryInMs: d.retryInMs })
    }
    return out
  }

  /** Whether any provider has a limit at all (most configs have none: nothing to check). */
  get limited(): boolean {
    for (const l of this.#limits.values()) {
      if (l.rpm !== undefined || l.tpm !== undefined || l.maxConcurrent !== undefined) return true
    }
    return false
  }

  /** What is left of each limit a provider has at `now` (for `/v1/rate-budgets`); undefined when it has none. */
  budget(provider: string, now: number): ProviderBudget | undefined {
    const lim = this.#limits.get(provider)
    if (!lim || (lim.rpm === undefined && lim.tpm === undefined && lim.maxConcurrent === undefined)) return undefined
    const st = this.#stateOf(provider, lim, now)
    const left = (b: Bucket | undefined, limit: number) =>
      Math.floor(b ? bucketRefill(b, now, perMinute(limit)).tokens : limit)
    return {
      ...(lim.rpm !== undefined ? { rpm: { limit: lim.rpm, left: left(st.rpm, lim.rpm) } } : {}),
      ...(lim.tpm !== undefined ? { tpm: { limit: lim.tpm, left: left(st.tpm, lim.tpm) } } : {}),
      ...(lim.maxConcurrent !== undefined
        ? { concurrency: { limit: lim.maxConcurrent, left: Math.max(0, lim.maxConcurrent - st.inFlight) } }
        : {}),
    }
  }

  /** In-flight requests for a provider (for `/v1/latencies`). */
  inFlight(provider: string): number {
    return this.#state.get(provider)?.inFlight ?? 0
  }

  #stateOf(provider: string, lim: ProviderLimits, now: number): ProviderState {
    let st = this.#state.get(provider)
    if (!st) {
      st = { inFlight: 0 }
      this.#state.set(provider, st)
    }
    // A limit the kept state had no bucket for (new in a reloaded config) starts full; a smaller
    // one clamps what is left on the next refill.
    if (lim.rpm !== undefined && !st.rpm) st.rpm = bucketFull(now, perMinute(lim.rpm))
    if (lim.tpm !== undefined && !st.tpm) st.tpm = bucketFull(now, perMinute(lim.tpm))
    return st
  }
}
