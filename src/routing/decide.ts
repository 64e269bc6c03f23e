/**
 * What the routing engine decides, reading the records (routing/record.ts) and changing
 * none of them: the ordered plan for a scenario target, whether a try may start now
 * (breaker, Retry-After hold, provider limits), and what follows a failed try (retry, fail
 * over, stop). The one write is admission's rate-limit reservation, which is what admitting
 * a try means.
 */
import type { Config, RouterConfig, Scenario } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import { decideNext } from '../resilience/policy.ts'
import { type Acquired, type RateLimiter, UNLIMITED } from '../resilience/limiter.ts'
import { priceFor } from '../tokens/pricing.ts'
import type { PerformanceScore } from '../perf/score.ts'
import { providerOf } from './candidates.ts'
import type { Admission, NextStep, PlannedTarget } from './contract.ts'
import type { RetryAfterHolds } from './retry-after-holds.ts'
import { buildCandidates, type Candidate, type Plan, planRoute, type PlanView } from './plan.ts'
import type { RoutingStats } from './target-stats.ts'
import type { TargetSnapshot } from './types.ts'

export interface RoutingParts {
  readonly config: Config
  readonly stats: RoutingStats
  readonly limiter: RateLimiter
  readonly now: () => number
  readonly random: () => number
  /** Target → blended USD per million tokens; computed from the config's prices when absent. */
  readonly pricePerMTok?: () => ReadonlyMap<string, number>
  /** Targets an upstream asked us to leave alone (`Retry-After`); one is made when absent. */
  readonly holds?: RetryAfterHolds
  /** Active test results blended with the passive snapshot into one performance score. */
  readonly performance?: (
    target: string,
    passive: TargetSnapshot | undefined,
    now: number,
  ) => PerformanceScore | undefined
}

/**
 * What a failover target is assumed to take when it has no measurements yet: a Retry-After
 * up to this long is waited out, a longer one fails over (a typical first token arrives well
 * inside it, and a client prefers an answer from another tier to a long silence).
 */
export const UNKNOWN_TARGET_EXPECTED_MS = 5_000

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

/** What a plan is asked for: a scenario's target, under a preset's Router, for a request of this size. */
export interface PlanQuery {
  readonly scenario: Scenario
  readonly target: string
  readonly preset?: string
  readonly estimatedTokens?: number
  /** Replaces the named Router: a routing rule's own (rules.ts routerForRule). */
  readonly router?: RouterConfig
}

/** The plan with its scores, as `GET /v1/routing/plan` shows it (rate limits included). */
export function explainPlan(p: RoutingParts, q: PlanQuery): Plan {
  const { scenario, target, preset, estimatedTokens = 0 } = q
  const router = q.router ?? routerFor(p.config, preset)
  const now = p.now()
  const candidates = candidatesOf(target, scenario, router)
  // Only the candidates' rows: the plan never needs the rest of the table.
  const stats = new Map<string, TargetSnapshot>()
  for (const c of candidates) stats.set(c.target, p.stats.snapshot(c.target, now))
  const view: { -readonly [K in keyof PlanView]: PlanView[K] } = {
    stats,
    pricePerMTok: p.pricePerMTok ? p.pricePerMTok() : configuredPrices(p.config),
  }
  if (p.limiter.limited) {
    view.limited = p.limiter.blocked(new Set(candidates.map((c) => providerOf(c.target))), estimatedTokens, now)
  }
  if (p.performance) view.performance = performanceView(p, candidates, stats, now)
  return planRoute(candidates, view, { cfg: router, now, random: p.random })
}

/**
 * Candidates depend only on the config, the scenario and the target, so each list is built
 * once. Targets come from clients (`provider,model`), so the memo is bounded.
 */
const candidateMemo = new WeakMap<RouterConfig, Map<string, readonly Candidate[]>>()
export const MAX_MEMOISED_CANDIDATES = 1_024

function candidatesOf(target: string, scenario: Scenario, router: RouterConfig): readonly Candidate[] {
  let byKey = candidateMemo.get(router)
  if (!byKey) candidateMemo.set(router, byKey = new Map())
  const key = `${scenario}\u0000${target}`
  let list = byKey.get(key)
  if (!list) {
    if (byKey.size >= MAX_MEMOISED_CANDIDATES) byKey.clear()
    list = buildCandidates(target, scenario, router)
    byKey.set(key, list)
  }
  return list
}

function performanceView(
  p: RoutingParts,
  candidates: readonly Candidate[],
  stats: ReadonlyMap<string, TargetSnapshot>,
  now: number,
): ReadonlyMap<string, PerformanceScore> {
  const out = new Map<string, PerformanceScore>()
  for (const { target: t } of candidates) {
    const s = p.performance?.(t, stats.get(t), now)
    if (s) out.set(t, s)
  }
  return out
}

/**
 * Breaker, upstream Retry-After and provider limits, in that order; a refusal is a value.
 * A fleet-wide limiter answers through a promise (its one Redis round trip); a local one does not.
 */
export function admit(
  p: RoutingParts & { readonly holds: RetryAfterHolds },
  t: PlannedTarget,
  estimatedTokens: number,
): Admission | Promise<Admission> {
  const now = p.now()
  const br = p.stats.allows(t.key, now)
  if (!br.allowed) return { ok: false, error: { kind: 'circuit_open', target: t.key, retryInMs: br.retryInMs } }
  const heldMs = p.holds.remaining(t.key, now)
  if (heldMs > 0) {
    return {
      ok: false,
      error: {
        kind: 'rate_limited',
        target: t.key,
        retryAfterMs: heldMs,
        message: `Upstream ${t.key} asked for a pause: retry in ${Math.ceil(heldMs)} ms`,
      },
    }
  }
  const got = p.limiter.tryAcquire(t.provider.name, estimatedTokens, now)
  return got instanceof Promise ? got.then((g) => admitted(t, g)) : admitted(t, got)
}

/** The admission of a try that no limit holds: nothing to release (shared, like `UNLIMITED`). */
const FREE: Admission = Object.freeze({ ok: true, release: () => {} })

function admitted(t: PlannedTarget, got: Acquired): Admission {
  if (got === UNLIMITED) return FREE
  if (!got.ok) {
    return {
      ok: false,
      error: {
        kind: 'rate_limited',
        target: t.key,
        retryAfterMs: got.retryInMs,
        message: `${
          got.fleet ? 'Fleet' : 'Local'
        } ${got.reason} limit of provider ${t.provider.name} reached: retry in ${Math.ceil(got.retryInMs)} ms`,
      },
    }
  }
  return {
    ok: true,
    release: (usage) =>
      got.release(usage ? usage.inputTokens + usage.cacheCreationTokens + usage.outputTokens : undefined),
  }
}

/** A failed try, as the next-step decision sees it. */
export interface FailedTry {
  readonly err: ProxyError
  /** Retries of this target already made (0 after the first failure). */
  readonly attempt: number
  readonly target: PlannedTarget
  readonly deadlineLeftMs: number
  /** Where a failover would go. */
  readonly next?: PlannedTarget
}

/** What the records expect of a target: its whole latency, and its time to first token. */
export interface Expectations {
  expectedMs(key: string): number | undefined
  /** Measured on streams; the whole latency otherwise (a JSON answer's first token is its end). */
  firstTokenMs(key: string): number | undefined
}

/**
 * Retry, fail over or stop after a failed try, by the tier's retry policy and what each
 * target is expected to take (from the records). A `Retry-After` is compared by time to
 * first token with the next target (resilience/policy.ts). The global retry budget is not
 * consulted here: the engine charges it when a retry is actually chosen.
 */
export function nextStep(p: Pick<RoutingParts, 'config' | 'random'>, f: FailedTry, expect: Expectations): NextStep {
  const router = p.config.router
  const ewmaMs = expect.expectedMs(f.target.key)
  const nextMs = f.next && (expect.firstTokenMs(f.next.key) ?? UNKNOWN_TARGET_EXPECTED_MS)
  const ownMs = expect.firstTokenMs(f.target.key)
  return decideNext(f.err, {
    attempt: f.attempt,
    policy: router.tierRetries[f.target.tier] ?? router.defaultRetry,
    deadlineMs: f.deadlineLeftMs,
    ...(ewmaMs === undefined ? {} : { ewmaMs }),
    ...(nextMs === undefined ? {} : { nextTargetExpectedMs: nextMs, nextSameModel: f.next?.model === f.target.model }),
    ...(ownMs === undefined ? {} : { expectedFirstTokenMs: ownMs }),
  }, p.random)
}

/** The prompt did not fit the model: a longer-context target may take it. */
export function isContextOverflow(e: ProxyError): boolean {
  return e.kind === 'upstream_status' && e.code === 'context_length_exceeded'
}
