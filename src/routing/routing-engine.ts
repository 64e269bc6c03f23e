/**
 * The pipeline's view of adaptive routing: it joins the pure planner, breakers, rate limits
 * and retry policy (routing/, resilience/) to the one mutable stats table and the clock.
 */
import type { Config, ProviderConfig, RouterConfig, Scenario } from '../config/types.ts'
import type { Admission, AttemptTimer, NextStep, PlannedTarget, RoutingEngine } from './contract.ts'
import type { ProxyError } from '../errors.ts'
import { buildCandidates, planRoute, type Candidate, type Plan, type PlanView } from './plan.ts'
import { providerOf, tierOf } from './candidates.ts'
import { MAX_TARGETS, type RoutingStats } from './stats.ts'
import type { FailureReason } from './types.ts'
import { decideNext } from '../resilience/policy.ts'
import type { ProviderLimiter } from '../resilience/limiter.ts'
import { budgetRequest, budgetTryRetry, emptyRetryBudget, retryBudgetParams, type RetryBudget, type RetryBudgetParams } from '../resilience/retry-budget.ts'
import { parseTarget } from './target.ts'
import { priceFor } from '../tokens/pricing.ts'
import { RetryAfterHolds } from './holds.ts'
import type { PerformanceScore } from '../perf/score.ts'
import type { TargetSnapshot } from './types.ts'

export interface RoutingParts {
  readonly config: Config
  readonly stats: RoutingStats
  readonly limiter: ProviderLimiter
  readonly now: () => number
  readonly random: () => number
  /** Target → blended USD per million tokens; computed from the config's prices when absent. */
  readonly pricePerMTok?: () => ReadonlyMap<string, number>
  /** Targets an upstream asked us to leave alone (`Retry-After`); one is made when absent. */
  readonly holds?: RetryAfterHolds
  /** Active test results blended with the passive snapshot into one performance score. */
  readonly performance?: (target: string, passive: TargetSnapshot | undefined, now: number) => PerformanceScore | undefined
}

/**
 * What a failover target is assumed to take when it has no measurements yet: a Retry-After
 * up to this long is waited out, a longer one fails over (a typical first token arrives well
 * inside it, and a client prefers an answer from another tier to a long silence).
 */
export const UNKNOWN_TARGET_EXPECTED_MS = 5_000

/** How a failure counts against the target's health (the request's own faults do not). */
export function failureReasonOf(e: ProxyError | undefined): FailureReason {
  switch (e?.kind) {
    case 'timeout': return 'timeout'
    case 'rate_limited': return 'rate_limited'
    case 'upstream_network': return 'network'
    case 'stream_broken': return 'stream_broken'
    case 'upstream_status':
      if (e.status === 429) return 'rate_limited'
      return e.status >= 500 ? 'server_error' : 'client_error'
    case undefined: return 'abandoned'
    default: return 'client_error'
  }
}

export function routerFor(config: Config, preset?: string): RouterConfig {
  return (preset === undefined ? undefined : config.presets[preset]?.router) ?? config.router
}

/**
 * Blended USD per million tokens of every configured `provider,model`, weighing input 3:1
 * over output because agent traffic resends long contexts for short answers.
 */
export function configuredPrices(config: Config): ReadonlyMap<string, number> {
  const out = new Map<string, number>()
  for (const p of config.providers) {
    for (const m of p.models) {
      const price = priceFor(p, m)
      if (price) out.set(`${p.name},${m}`, (3 * price.inputPerMillion + price.outputPerMillion) / 4)
    }
  }
  return out
}

/** The plan with its scores, as `GET /v1/routing/plan` shows it (rate limits included). */
export function explainPlan(p: RoutingParts, scenario: Scenario, target: string, preset?: string, estimatedTokens = 0): Plan {
  const router = routerFor(p.config, preset)
  const now = p.now()
  const candidates = candidatesOf(target, scenario, router)
  // Only the candidates' rows: the plan never needs the rest of the table.
  const stats = new Map(candidates.map((c) => [c.target, p.stats.snapshot(c.target, now)]))
  const view: PlanView = {
    stats,
    ...(p.limiter.limited ? { limited: p.limiter.blocked(new Set(candidates.map((c) => providerOf(c.target))), estimatedTokens, now) } : {}),
    pricePerMTok: p.pricePerMTok ? p.pricePerMTok() : configuredPrices(p.config),
    ...(p.performance ? { performance: performanceView(p, candidates.map((c) => c.target), stats, now) } : {}),
  }
  return planRoute(candidates, view, router, now, p.random)
}

/**
 * Candidates depend only on the config, the scenario and the target, so each list is built
 * once. Targets come from clients (`provider,model`), so the memo is bounded.
 */
const candidateMemo = new WeakMap<RouterConfig, Map<string, readonly Candidate[]>>()
const MAX_MEMOISED_CANDIDATES = 1_024

function candidatesOf(target: string, scenario: Scenario, router: RouterConfig): readonly Candidate[] {
  let byKey = candidateMemo.get(router)
  if (!byKey) candidateMemo.set(router, (byKey = new Map()))
  const key = `${scenario}\u0000${target}`
  let list = byKey.get(key)
  if (!list) {
    if (byKey.size >= MAX_MEMOISED_CANDIDATES) byKey.clear()
    list = buildCandidates(target, scenario, router)
    byKey.set(key, list)
  }
  return list
}

function performanceView(p: RoutingParts, targets: readonly string[], stats: ReadonlyMap<string, TargetSnapshot>, now: number): ReadonlyMap<string, PerformanceScore> {
  const out = new Map<string, PerformanceScore>()
  for (const t of targets) {
    const s = p.performance?.(t, stats.get(t), now)
    if (s) out.set(t, s)
  }
  return out
}

/** The routing engine over `p`: one per app instance, holding the retry budget, holds and last-try times. */
export function createRoutingEngine(p: RoutingParts): RoutingEngine {
  return new AdaptiveRouting(p)
}

class AdaptiveRouting implements RoutingEngine {
  readonly #p: RoutingParts
  readonly #plannedMemo = new Map<string, PlannedTarget[]>()
  readonly #providers: ReadonlyMap<string, ProviderConfig>
  readonly #holds: RetryAfterHolds
  /**
   * How long the last try of each target took, success or not: the expected duration of a
   * target whose EWMA is still empty (failures only penalise an existing EWMA).
   */
  readonly #lastTryMs = new Map<string, number>()
  readonly #budgetParams: RetryBudgetParams
  #budget: RetryBudget = emptyRetryBudget()

  constructor(p: RoutingParts) {
    const prices = configuredPrices(p.config)
    this.#p = { ...p, pricePerMTok: p.pricePerMTok ?? (() => prices) }
    this.#providers = new Map(p.config.providers.map((x) => [x.name, x]))
    this.#holds = p.holds ?? new RetryAfterHolds()
    this.#budgetParams = retryBudgetParams(p.config.router.retryBudgetRatio)
  }

  plan(scenario: Scenario, target: string, preset?: string, estimatedTokens = 0): readonly PlannedTarget[] {
    this.#budget = budgetRequest(this.#budget, this.#p.now(), this.#budgetParams)
    const plan = explainPlan(this.#p, scenario, target, preset, estimatedTokens)
    return this.#holds.last(plan.targets.flatMap((t) => this.#planned(t.target, t.tier, t.source)), this.#p.now())
  }

  admit(t: PlannedTarget, estimatedTokens: number): Admission {
    return admit(this.#p, this.#holds, t, estimatedTokens)
  }

  begin(t: PlannedTarget): AttemptTimer {
    return beginAttempt(this.#p, t, (ms) => {
      // Keyed by client-chosen targets too: bounded like the stats table.
      if (this.#lastTryMs.size >= MAX_TARGETS && !this.#lastTryMs.has(t.key)) this.#lastTryMs.clear()
      this.#lastTryMs.set(t.key, ms)
    })
  }

  decide(err: ProxyError, attempt: number, t: PlannedTarget, deadlineLeftMs: number, next?: PlannedTarget): NextStep {
    const now = this.#p.now()
    this.#holds.note(t.key, err, now)
    const router = this.#p.config.router
    const ewmaMs = this.#expectedMs(t.key, now)
    const nextMs = next && (this.#expectedMs(next.key, now) ?? UNKNOWN_TARGET_EXPECTED_MS)
    const ctx = {
      policy: router.tierRetries[t.tier] ?? router.defaultRetry, deadlineMs: deadlineLeftMs,
      ...(ewmaMs === undefined ? {} : { ewmaMs }), ...(nextMs === undefined ? {} : { nextTargetExpectedMs: nextMs }),
    }
    const decided = decideNext(err, attempt, ctx, this.#p.random)
    if (decided.action !== 'retry') return decided
    const tried = budgetTryRetry(this.#budget, now, this.#budgetParams)
    this.#budget = tried.budget
    // Over the global retry budget: fail over instead of adding load to a struggling target.
    return tried.allowed ? decided : { action: 'failover' }
  }

  reroute(err: ProxyError, remaining: readonly PlannedTarget[], tried: readonly string[], preset?: string): readonly PlannedTarget[] {
    const router = routerFor(this.#p.config, preset)
    const lc = router.longContext
    if (!isContextOverflow(err) || lc === undefined || tried.includes(lc)) return remaining
    const found = remaining.find((r) => r.key === lc)
    return [...(found ? [found] : this.#planned(lc, tierOf(lc, router), 'tier')), ...remaining.filter((r) => r.key !== lc)]
  }

  #expectedMs(key: string, now: number): number | undefined {
    return this.#p.stats.snapshot(key, now).latencyMs ?? this.#lastTryMs.get(key)
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

/** The prompt did not fit the model: a longer-context target may take it. */
export function isContextOverflow(e: ProxyError): boolean {
  return e.kind === 'upstream_status' && e.code === 'context_length_exceeded'
}

/** Breaker, upstream Retry-After and provider limits, in that order; a refusal is a value. */
function admit(p: RoutingParts, holds: RetryAfterHolds, t: PlannedTarget, estimatedTokens: number): Admission {
  const now = p.now()
  const br = p.stats.allows(t.key, now)
  if (!br.allowed) return { ok: false, error: { kind: 'circuit_open', target: t.key, retryInMs: br.retryInMs } }
  const heldMs = holds.remaining(t.key, now)
  if (heldMs > 0) return { ok: false, error: { kind: 'rate_limited', target: t.key, retryAfterMs: heldMs, message: `Upstream ${t.key} asked for a pause: retry in ${Math.ceil(heldMs)} ms` } }
  const got = p.limiter.tryAcquire(t.provider.name, estimatedTokens, now)
  if (!got.ok) return { ok: false, error: { kind: 'rate_limited', target: t.key, retryAfterMs: got.retryInMs, message: `Local ${got.reason} limit of provider ${t.provider.name} reached: retry in ${Math.ceil(got.retryInMs)} ms` } }
  return { ok: true, release: (usage) => got.release(usage ? usage.inputTokens + usage.cacheCreationTokens + usage.outputTokens : undefined) }
}

function beginAttempt(p: RoutingParts, t: PlannedTarget, took: (ms: number) => void): AttemptTimer {
  const a = p.stats.begin(t.key, p.now())
  return {
    firstToken: () => a.firstToken(p.now()),
    finish: (r) => {
      took(p.now() - a.startedAt)
      if (r.ok) a.succeed(p.now(), r.outputTokens === undefined ? undefined : { outputTokens: r.outputTokens })
      else a.fail(p.now(), failureReasonOf(r.error))
    },
  }
}
