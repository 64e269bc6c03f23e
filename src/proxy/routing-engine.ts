/**
 * The pipeline's view of adaptive routing: it joins the pure planner, breakers, rate limits
 * and retry policy (routing/, resilience/) to the one mutable stats table and the clock.
 */
import type { Config, ProviderConfig, RouterConfig, Scenario } from '../config/types.ts'
import type { Admission, AttemptTimer, NextStep, RoutingEngine } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import { buildCandidates, planRoute, type Plan, type PlanView } from '../routing/plan.ts'
import type { RoutingStats } from '../routing/stats.ts'
import type { FailureReason } from '../routing/types.ts'
import { decideNext } from '../resilience/policy.ts'
import type { ProviderLimiter } from '../resilience/limiter.ts'
import { budgetRequest, budgetTryRetry, emptyRetryBudget, retryBudgetParams, type RetryBudget } from '../resilience/retry-budget.ts'
import { parseTarget } from '../routing/target.ts'
import type { PlannedTarget } from './types.ts'

export interface RoutingParts {
  readonly config: Config
  readonly stats: RoutingStats
  readonly limiter: ProviderLimiter
  readonly now: () => number
  readonly random: () => number
  /** Active test results blended into the score, when the performance engine runs. */
  readonly pricePerMTok?: () => ReadonlyMap<string, number>
}

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

/** The plan with its scores, as `GET /v1/routing/plan` shows it. */
export function explainPlan(p: RoutingParts, scenario: Scenario, target: string, preset?: string): Plan {
  const router = routerFor(p.config, preset)
  const now = p.now()
  const view: PlanView = { stats: p.stats.all(now), ...(p.pricePerMTok ? { pricePerMTok: p.pricePerMTok() } : {}) }
  return planRoute(buildCandidates(target, scenario, router), view, router, now, p.random)
}

export function createRoutingEngine(p: RoutingParts): RoutingEngine {
  const providers = new Map<string, ProviderConfig>(p.config.providers.map((x) => [x.name, x]))
  const budgetParams = retryBudgetParams(p.config.router.retryBudgetRatio)
  let budget: RetryBudget = emptyRetryBudget()
  return {
    plan(scenario, target, preset) {
      budget = budgetRequest(budget, p.now(), budgetParams)
      const plan = explainPlan(p, scenario, target, preset)
      return plan.targets.flatMap((t): PlannedTarget[] => {
        const parsed = parseTarget(t.target)
        const provider = parsed && providers.get(parsed.provider)
        return provider && parsed ? [{ key: t.target, provider, model: parsed.model, tier: t.tier, source: t.source }] : []
      })
    },
    admit(t, estimatedTokens): Admission {
      const now = p.now()
      const br = p.stats.allows(t.key, now)
      if (!br.allowed) return { ok: false, error: { kind: 'circuit_open', target: t.key, retryInMs: br.retryInMs } }
      const got = p.limiter.tryAcquire(t.provider.name, estimatedTokens, now)
      if (!got.ok) return { ok: false, error: { kind: 'rate_limited', target: t.key, retryAfterMs: got.retryInMs, message: `Local ${got.reason} limit of provider ${t.provider.name} reached: retry in ${Math.ceil(got.retryInMs)} ms` } }
      return { ok: true, release: (usage) => got.release(usage ? usage.inputTokens + usage.cacheCreationTokens + usage.outputTokens : undefined) }
    },
    begin(t): AttemptTimer {
      const a = p.stats.begin(t.key, p.now())
      return {
        firstToken: () => a.firstToken(p.now()),
        finish: (r) => {
          if (r.ok) a.succeed(p.now(), r.outputTokens === undefined ? undefined : { outputTokens: r.outputTokens })
          else a.fail(p.now(), failureReasonOf(r.error))
        },
      }
    },
    decide(err, attempt, t, deadlineLeftMs): NextStep {
      const router = p.config.router
      const policy = router.tierRetries[t.tier] ?? router.defaultRetry
      const ewmaMs = p.stats.snapshot(t.key, p.now()).latencyMs
      const next = decideNext(err, attempt, { policy, deadlineMs: deadlineLeftMs, ...(ewmaMs === undefined ? {} : { ewmaMs }) }, p.random)
      if (next.action !== 'retry') return next
      const tried = budgetTryRetry(budget, p.now(), budgetParams)
      budget = tried.budget
      // Over the global retry budget: fail over instead of adding load to a struggling target.
      return tried.allowed ? next : { action: 'failover' }
    },
  }
}
