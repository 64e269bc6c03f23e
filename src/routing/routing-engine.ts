/**
 * The pipeline's view of adaptive routing (the RoutingEngine of contract.ts): it joins what
 * routing decides (decide.ts: plan, admission, the next step) to what it records (record.ts:
 * attempt outcomes in the stats table, Retry-After holds, the retry budget) and the clock.
 * Planning changes no record; a request is counted in the retry budget when the pipeline
 * starts it, and a retry is charged when one is chosen.
 */
import type { ProviderConfig, RouterConfig, Scenario } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import { tierOf } from './candidates.ts'
import type { Admission, AttemptTimer, NextStep, PlannedTarget, RoutingEngine } from './contract.ts'
import {
  admit,
  configuredPrices,
  explainPlan,
  isContextOverflow,
  MAX_MEMOISED_CANDIDATES,
  nextStep,
  routerFor,
  type RoutingParts,
} from './decide.ts'
import { RoutingRecord } from './record.ts'
import { RetryAfterHolds } from './retry-after-holds.ts'
import { parseTarget } from './target.ts'
import type { FirstEventHistory } from '../resilience/attempt-budget.ts'

// Kept here too, so importers of the engine need not know the split.
export { configuredPrices, explainPlan, isContextOverflow, routerFor, UNKNOWN_TARGET_EXPECTED_MS } from './decide.ts'
export type { PlanQuery, RoutingParts } from './decide.ts'
export { failureReasonOf } from './record.ts'

/** The routing engine over `p`: one per app instance, holding the retry budget, holds and last-try times. */
export function createRoutingEngine(p: RoutingParts): RoutingEngine {
  return new AdaptiveRouting(p)
}

class AdaptiveRouting implements RoutingEngine {
  readonly #p: RoutingParts
  readonly #record: RoutingRecord
  /** What `admit` is handed: the parts and the holds, put together once rather than spread per try. */
  readonly #admitParts: RoutingParts & { readonly holds: RetryAfterHolds }
  readonly #plannedMemo = new Map<string, PlannedTarget[]>()
  readonly #providers: ReadonlyMap<string, ProviderConfig>

  constructor(p: RoutingParts) {
    const prices = configuredPrices(p.config)
    this.#p = { ...p, pricePerMTok: p.pricePerMTok ?? (() => prices) }
    this.#providers = new Map(p.config.providers.map((x) => [x.name, x]))
    this.#record = new RoutingRecord({
      stats: p.stats,
      now: p.now,
      retryBudgetRatio: p.config.router.retryBudgetRatio,
      holds: p.holds ?? new RetryAfterHolds({ maxMs: p.config.router.maxRetryAfterMs }),
    })
    this.#admitParts = { ...this.#p, holds: this.#record.holds }
  }

  plan(
    scenario: Scenario,
    target: string,
    preset?: string,
    estimatedTokens = 0,
    router?: RouterConfig,
  ): readonly PlannedTarget[] {
    const plan = explainPlan(this.#p, { scenario, target, preset, estimatedTokens, router })
    // One target (a lone client-chosen one): its memoised entry is the plan, shared read-only like the memo.
    const only = plan.targets.length === 1 ? plan.targets[0]! : undefined
    if (only) return this.#record.holds.last(this.#planned(only.target, only.tier, only.source), this.#p.now())
    const planned: PlannedTarget[] = []
    // A loop, not push(...entry): a spread call costs an arguments array per target.
    for (const t of plan.targets) for (const e of this.#planned(t.target, t.tier, t.source)) planned.push(e)
    return this.#record.holds.last(planned, this.#p.now())
  }

  started(): void {
    this.#record.request(this.#p.now())
  }

  admit(t: PlannedTarget, estimatedTokens: number): Admission | Promise<Admission> {
    return admit(this.#admitParts, t, estimatedTokens)
  }

  begin(t: PlannedTarget): AttemptTimer {
    return this.#record.begin(t)
  }

  continued(t: PlannedTarget): void {
    this.#p.stats.noteContinued(t.key, this.#p.now())
  }

  hedge(): boolean {
    return this.#record.spendRetry(this.#p.now())
  }

  /** The target's snapshot is the history (it has the three fields): no copy per streamed try. */
  firstEventHistory(t: PlannedTarget): FirstEventHistory {
    return this.#p.stats.snapshot(t.key, this.#p.now())
  }

  decide(err: ProxyError, attempt: number, t: PlannedTarget, deadlineLeftMs: number, next?: PlannedTarget): NextStep {
    const now = this.#p.now()
    this.#record.failed(t, err, now)
    const expect = {
      expectedMs: (key: string) => this.#record.expectedMs(key, now),
      firstTokenMs: (key: string) => this.#record.firstTokenMs(key, now),
    }
    const step = nextStep(this.#p, { err, attempt, target: t, deadlineLeftMs, ...(next ? { next } : {}) }, expect)
    if (step.action !== 'retry') return step
    // The retry is chosen: charge it. Over the global retry budget, fail over instead of adding load to a struggling target.
    return this.#record.spendRetry(now) ? step : { action: 'failover' }
  }

  reroute(
    err: ProxyError,
    remaining: readonly PlannedTarget[],
    tried: readonly string[],
    preset?: string,
  ): readonly PlannedTarget[] {
    const router = routerFor(this.#p.config, preset)
    const lc = router.longContext
    if (!isContextOverflow(err) || lc === undefined || tried.includes(lc)) return remaining
    const found = remaining.find((r) => r.key === lc)
    return [
      ...(found ? [found] : this.#planned(lc, tierOf(lc, router), 'tier')),
      ...remaining.filter((r) => r.key !== lc),
    ]
  }

  /** A plan entry for `key`, or none when its provider is not configured. */
  #planned(key: string, tier: string, source: PlannedTarget['source']): PlannedTarget[] {
    const memoKey = `${key}\u0000${tier}\u0000${source}`
    let entry = this.#plannedMemo.get(memoKey)
    if (!entry) {
      const parsed = parseTarget(key)
      const provider = parsed && this.#providers.get(parsed.provider)
      entry = provider && parsed ? [{ key, provider, model: parsed.model, tier, source }] : []
      if (this.#plannedMemo.size >= MAX_MEMOISED_CANDIDATES) this.#plannedMemo.clear()
      this.#plannedMemo.set(memoKey, entry)
    }
    return entry
  }
}
