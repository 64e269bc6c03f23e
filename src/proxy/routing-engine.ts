/**
 * The pipeline's view of adaptive routing: it joins the pure planner, breakers, rate limits
 * and retry policy (routing/, resilience/) to the one mutable stats table and the clock.
 */
import type { Config, ProviderConfig, RouterConfig, Scenario } from '../config/types.ts'
import type { Admission, AttemptTimer, NextStep, RoutingEngine } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import { buildCandidates, planRoute, type Plan, type PlanView } from '../routing/plan.ts'
import { providerOf, tierOf } from '../routing/candidates.ts'
import type { RoutingStats } from '../routing/stats.ts'
import type { FailureReason } from '../routing/types.ts'
import { decideNext } from '../resilience/policy.ts'
import type { ProviderLimiter } from '../resilience/limiter.ts'
import { budgetRequest, budgetTryRetry, emptyRetryBudget, retryBudgetParams, type RetryBudget } from '../resilience/retry-budget.ts'
import { parseTarget } from '../routing/target.ts'
import { priceFor } from '../tokens/pricing.ts'
import { RetryAfterHolds } from './holds.ts'
import type { PlannedTarget } from './types.ts'

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
  const candidates = buildCandidates(target, scenario, router)
  const view: PlanView = {
    stats: p.stats.all(now),
    limited: p.limiter.blocked(new Set(candidates.map((c) => providerOf(c.target))), estimatedTokens, now),
    pricePerMTok: p.pricePerMTok ? p.pricePerMTok() : configuredPrices(p.config),
  }
  return planRoute(candidates, view, router, now, p.random)
}

export function createRoutingEngine(p: RoutingParts): RoutingEngine {
  const providers = new Map<string, ProviderConfig>(p.config.providers.map((x) => [x.name, x]))
  const prices = configuredPrices(p.config)
  const parts: RoutingParts = { ...p, pricePerMTok: p.pricePerMTok ?? (() => prices) }
  const holds = p.holds ?? new RetryAfterHolds()
  // How long the last try of each target took, success or not: the expected duration of a
  // target whose EWMA is still empty (failures only penalise an existing EWMA).
  const lastTryMs = new Map<string, number>()
  const expectedMs = (key: string, now: number) => p.stats.snapshot(key, now).latencyMs ?? lastTryMs.get(key)
  const budgetParams = retryBudgetParams(p.config.router.retryBudgetRatio)
  let budget: RetryBudget = emptyRetryBudget()
  const toPlanned = (key: string, tier: string, source: PlannedTarget['source']): PlannedTarget[] => {
    const parsed = parseTarget(key)
    const provider = parsed && providers.get(parsed.provider)
    return provider && parsed ? [{ key, provider, model: parsed.model, tier, source }] : []
  }
  return {
    plan(scenario, target, preset, estimatedTokens = 0) {
      budget = budgetRequest(budget, p.now(), budgetParams)
      const plan = explainPlan(parts, scenario, target, preset, estimatedTokens)
      const planned = plan.targets.flatMap((t) => toPlanned(t.target, t.tier, t.source))
      return holds.last(planned, p.now())
    },
    admit: (t, estimatedTokens) => admit(p, holds, t, estimatedTokens),
    begin: (t) => beginAttempt(p, t, (ms) => lastTryMs.set(t.key, ms)),
    decide(err, attempt, t, deadlineLeftMs, next): NextStep {
      const now = p.now()
      holds.note(t.key, err, now)
      const policy = p.config.router.tierRetries[t.tier] ?? p.config.router.defaultRetry
      const ewmaMs = expectedMs(t.key, now)
      const nextMs = next && (expectedMs(next.key, now) ?? UNKNOWN_TARGET_EXPECTED_MS)
      const ctx = { policy, deadlineMs: deadlineLeftMs, ...(ewmaMs === undefined ? {} : { ewmaMs }), ...(nextMs === undefined ? {} : { nextTargetExpectedMs: nextMs }) }
      const decided = decideNext(err, attempt, ctx, p.random)
      if (decided.action !== 'retry') return decided
      const tried = budgetTryRetry(budget, now, budgetParams)
      budget = tried.budget
      // Over the global retry budget: fail over instead of adding load to a struggling target.
      return tried.allowed ? decided : { action: 'failover' }
    },
    reroute(err, remaining, tried, preset) {
      const lc = routerFor(p.config, preset).longContext
      if (!isContextOverflow(err) || lc === undefined || tried.includes(lc)) return remaining
      const found = remaining.find((r) => r.key === lc)
      const first = found ? [found] : toPlanned(lc, tierOf(lc, routerFor(p.config, preset)), 'tier')
      return [...first, ...remaining.filter((r) => r.key !== lc)]
    },
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
