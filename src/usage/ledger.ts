/**
 * In-memory usage and cost ledger behind `GET /v1/usage`. One record per (tier, target) pair;
 * per-tier and per-target views are sums over pairs at snapshot time (pairs are few).
 * Only the attempt that answered is billed; failed attempts add to `failures` only.
 */
import type { Usage } from '../formats/types.ts'

/** Totals for one (tier, `provider,model`) pair; also the delta unit the store persists. */
export interface PairTotals {
  readonly tier: string
  readonly target: string
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheReadTokens: number
  readonly cacheCreationTokens: number
  /** Sum over requests whose cost was known. */
  readonly costUsd: number
  /** Billed requests whose price was unknown (their cost is not in `costUsd`). */
  readonly unknownCostRequests: number
  /**
   * Billed requests whose upstream reported no usage: their tokens are Switchyard's estimate
   * (input from the pre-request count, output from the characters streamed). Optional in a
   * delta (absent = 0), always present in totals.
   */
  readonly estimatedRequests?: number
  /** Reasoning (thinking) tokens among the output tokens, as upstreams reported them. Optional in a delta (absent = 0), always present in totals. */
  readonly reasoningTokens?: number
  readonly failures: Readonly<Record<string, number>>
}

/** Totals as reported: every count present. */
export type UsageTotals = Omit<PairTotals, 'tier' | 'target' | 'estimatedRequests' | 'reasoningTokens'> & {
  readonly estimatedRequests: number
  readonly reasoningTokens: number
}

export interface UsageSnapshot {
  readonly total: UsageTotals
  readonly tiers: Record<string, UsageTotals>
  /** Keyed `provider,model`. */
  readonly targets: Record<string, UsageTotals>
}

export interface BilledRequest {
  readonly tier: string
  /** The `provider,model` that answered, after any failover. */
  readonly target: string
  readonly usage: Usage
  /** Undefined when the price is unknown. */
  readonly costUsd: number | undefined
  /** The usage is an estimate: the upstream reported none. */
  readonly estimated?: boolean
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
/** Totals that `addTotals` can add into. */
export type MutableTotals = Mutable<UsageTotals> & {
  estimatedRequests: number
  reasoningTokens: number
  failures: Record<string, number>
}

/** All-zero totals. */
export const emptyTotals = (): MutableTotals => ({
  requests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  costUsd: 0,
  unknownCostRequests: 0,
  estimatedRequests: 0,
  reasoningTokens: 0,
  failures: {},
})

/** Add `d` into `into` (failures merged by reason). */
export function addTotals(into: MutableTotals, d: Omit<PairTotals, 'tier' | 'target'>): void {
  into.requests += d.requests
  into.inputTokens += d.inputTokens
  into.outputTokens += d.outputTokens
  into.cacheReadTokens += d.cacheReadTokens
  into.cacheCreationTokens += d.cacheCreationTokens
  into.costUsd += d.costUsd
  into.unknownCostRequests += d.unknownCostRequests
  into.estimatedRequests += d.estimatedRequests ?? 0
  into.reasoningTokens += d.reasoningTokens ?? 0
  // for-in, not Object.entries: no pair arrays per delta (failures are plain records, nothing inherited).
  for (const reason in d.failures) into.failures[reason] = (into.failures[reason] ?? 0) + d.failures[reason]!
}

/** Totals keyed by (tier, target) that deltas add into: the ledger's table and the store's pending batch. */
export class PairTotalsMap
  extends Map<string, { readonly tier: string; readonly target: string; readonly totals: MutableTotals }> {
  /** Adds `delta` into its pair, creating the pair at zero first. */
  add(delta: PairTotals): void {
    const key = `${delta.tier}\u0000${delta.target}`
    let pair = this.get(key)
    if (pair === undefined) {
      pair = { tier: delta.tier, target: delta.target, totals: emptyTotals() }
      this.set(key, pair)
    }
    addTotals(pair.totals, delta)
  }
}

/** A billed request's failures: none. Shared and frozen (deltas are read, never written), not an object per request. */
const NO_FAILURES: Readonly<Record<string, number>> = Object.freeze({})

export class UsageLedger {
  readonly #pairs = new PairTotalsMap()
  readonly #onDelta: ((delta: PairTotals) => void) | undefined

  /** `onDelta` receives every change, e.g. `store.enqueue`, so persistence stays off the hot path. */
  constructor(onDelta?: (delta: PairTotals) => void) {
    this.#onDelta = onDelta
  }

  /** Bill one answered request to the target that answered it. */
  record(req: BilledRequest): void {
    const u = req.usage
    // The optional part is set on the object rather than spread into it (a spread is an object per request).
    const delta: { -readonly [K in keyof PairTotals]: PairTotals[K] } = {
      tier: req.tier,
      target: req.target,
      requests: 1,
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      cacheReadTokens: u.cacheReadTokens,
      cacheCreationTokens: u.cacheCreationTokens,
      costUsd: req.costUsd ?? 0,
      unknownCostRequests: req.costUsd === undefined ? 1 : 0,
      estimatedRequests: req.estimated ? 1 : 0,
      failures: NO_FAILURES,
    }
    if (u.reasoningTokens) delta.reasoningTokens = u.reasoningTokens
    this.#apply(delta, true)
  }

  /** Count a failed attempt by reason (a ProxyError kind, say); nothing is billed. */
  recordFailure(tier: string, target: string, reason: string): void {
    this.#apply({ ...emptyTotals(), tier, target, failures: { [reason]: 1 } }, true)
  }

  /** Add persisted totals at start-up; not echoed to `onDelta`. */
  seed(rows: readonly PairTotals[]): void {
    for (const row of rows) this.#apply(row, false)
  }

  /**
   * Replaces the totals with persisted ones; not echoed. For a process whose instances share one
   * store: once a replaced instance has written its last, the current one reads the whole again.
   */
  reseed(rows: readonly PairTotals[]): void {
    this.#pairs.clear()
    this.seed(rows)
  }

  #apply(delta: PairTotals, emit: boolean): void {
    this.#pairs.add(delta)
    if (emit) this.#onDelta?.(delta)
  }

  /** A deep copy of the totals: overall, per tier and per `provider,model`. */
  snapshot(): UsageSnapshot {
    const total = emptyTotals()
    const tiers: Record<string, MutableTotals> = {}
    const targets: Record<string, MutableTotals> = {}
    for (const { tier, target, totals } of this.#pairs.values()) {
      addTotals(total, totals)
      addTotals(tiers[tier] ??= emptyTotals(), totals)
      addTotals(targets[target] ??= emptyTotals(), totals)
    }
    return { total, tiers, targets }
  }

  /** Every pair's totals, e.g. for tests or a full export. */
  pairs(): PairTotals[] {
    return [...this.#pairs.values()].map(({ tier, target, totals }) => {
      const copy = emptyTotals()
      addTotals(copy, totals)
      return { tier, target, ...copy }
    })
  }
}
