/**
 * The routing plan for one request: which targets to try, in which order, with the numbers
 * behind the choice (served by `GET /v1/routing/plan`). Pure: measurements, limits, config,
 * `now` and `random` in; a plan out.
 *
 * Order: config order until EVERY usable candidate has ≥ `minSamples` samples (so a cold
 * start and a freshly recovered target behave predictably; cold targets get a capped
 * exploration share once the first one is measured), then by score through `select`
 * (band sharing + capped exploration), demoted targets last; a half-open target with a free
 * probe slot goes first so its probe happens at once. Candidates whose breaker is open
 * or whose provider is over its rate budget are dropped; when that drops all of them, the
 * plan is `exhausted` and still lists them in config order, with the reason and wait, so the
 * caller can answer 503 or 429 with a `retry-after`.
 */
import type { RetryPolicy, RouterConfig } from '../config/types.ts'
import { breakerAllows, breakerRetryInMs } from '../resilience/breaker.ts'
import { providerOf } from './candidates.ts'
import type { Candidate } from './candidates.ts'
import { normalisersOf, scoreWithConfig } from './score.ts'
import { select } from './select.ts'
import type { ScoreComponents, TargetSnapshot } from './types.ts'

export { buildCandidates } from './candidates.ts'
export type { Candidate } from './candidates.ts'

export type SkipReason = 'circuit_open' | 'rate_limited'

export interface PlanTuning {
  /** Score distance within which targets share traffic. */
  readonly band: number
  /** Cap on the share of requests sent first to a new, recovered or stale target. */
  readonly exploreShare: number
  /** A target with no finished attempt for this long is due exploration. */
  readonly staleMs: number
}

export const DEFAULT_TUNING: PlanTuning = { band: 0.1, exploreShare: 0.05, staleMs: 5_000 }

/** What the planner reads; build it from `RoutingStats.all(now)` and `ProviderLimiter.peek`. */
export interface PlanView {
  readonly stats: ReadonlyMap<string, TargetSnapshot>
  /** Provider → why it cannot take a request now (absent: it can). */
  readonly limited?: ReadonlyMap<string, { readonly reason: 'rpm' | 'tpm' | 'concurrency'; readonly retryInMs: number }>
  /** Target → blended USD per million tokens, for the cost component. */
  readonly pricePerMTok?: ReadonlyMap<string, number>
  readonly tuning?: Partial<PlanTuning>
  /**
   * Target → its performance score from active tests blended with live traffic (perf/score.ts).
   * Orders a plan whose targets lack live samples; no entry for a target means no such data.
   */
  readonly performance?: ReadonlyMap<string, { readonly performance_score: number; readonly demoted: boolean }>
}

export interface ScoredTarget extends Candidate {
  readonly provider: string
  readonly retry: RetryPolicy
  readonly samples: number
  readonly latencyMs?: number
  readonly score: number
  readonly components: ScoreComponents
  readonly demoted: boolean
  readonly reason?: string
  readonly skip?: { readonly reason: SkipReason; readonly retryInMs: number }
  /** The blended active + passive performance score, when active tests have measured the target. */
  readonly performanceScore?: number
}

export type Plan =
  | {
    readonly kind: 'ready'
    readonly ordering: 'config' | 'score' | 'performance'
    readonly targets: readonly ScoredTarget[]
    readonly dropped: readonly ScoredTarget[]
  }
  | {
    readonly kind: 'exhausted'
    readonly reason: SkipReason
    readonly retryInMs: number
    readonly targets: readonly ScoredTarget[]
  }

function emptySnap(key: string): TargetSnapshot {
  return {
    key,
    samples: 0,
    successes: 0,
    errors: 0,
    inFlight: 0,
    breaker: { kind: 'closed', consecutiveFailures: 0, trips: 0, since: 0 },
  }
}

function skipOf(
  snap: TargetSnapshot,
  provider: string,
  view: PlanView,
  cfg: RouterConfig,
  now: number,
): ScoredTarget['skip'] {
  // A closed breaker allows (breakerAllows would say so through an object per candidate).
  const br = snap.breaker.kind === 'closed' ? undefined : breakerAllows(snap.breaker, now, cfg.breaker)
  if (br && !br.allowed) return { reason: 'circuit_open', retryInMs: Math.max(1, breakerRetryInMs(br.state, now)) }
  const lim = view.limited?.get(provider)
  return lim ? { reason: 'rate_limited', retryInMs: lim.retryInMs } : undefined
}

/**
 * Scores every candidate against the best values among them. Loops rather than map callbacks:
 * this runs per request, and callbacks reading its locals would cost a closure each and a scope.
 */
function annotate(cands: readonly Candidate[], view: PlanView, cfg: RouterConfig, now: number): ScoredTarget[] {
  const snaps: TargetSnapshot[] = []
  const prices: (number | undefined)[] = []
  for (const c of cands) {
    snaps.push(view.stats.get(c.target) ?? emptySnap(c.target))
    prices.push(view.pricePerMTok?.get(c.target))
  }
  const best = normalisersOf(snaps, prices)
  const out: ScoredTarget[] = []
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i]!
    const snap = snaps[i]!
    const s = scoreWithConfig(snap, cfg, { best, pricePerMTok: prices[i] })
    const provider = providerOf(c.target)
    const skip = skipOf(snap, provider, view, cfg, now)
    const perf = view.performance?.get(c.target)
    // Field by field rather than spread (every candidate of every request); same fields, same order.
    const t: Mutable<ScoredTarget> = { target: c.target, tier: c.tier, source: c.source }
    if (c.pinned !== undefined) t.pinned = c.pinned
    t.provider = provider
    t.retry = cfg.tierRetries[c.tier] ?? cfg.defaultRetry
    t.samples = snap.samples
    if (snap.latencyMs !== undefined) t.latencyMs = snap.latencyMs
    t.score = s.score
    t.components = s.components
    t.demoted = s.demoted
    if (s.reason !== undefined) t.reason = s.reason
    if (skip) t.skip = skip
    if (perf !== undefined) t.performanceScore = perf.performance_score
    out.push(t as ScoredTarget)
  }
  return out
}

type Mutable<T> = { -readonly [K in keyof T]?: T[K] }

function byScore(usable: readonly ScoredTarget[], view: PlanView, now: number, random: () => number): ScoredTarget[] {
  const t = { ...DEFAULT_TUNING, ...view.tuning }
  const explore = (p: ScoredTarget) => {
    const last = view.stats.get(p.target)?.lastFinishedAt
    return last === undefined || now - last >= t.staleMs
  }
  const head = usable.filter((p) => !p.demoted)
  const tail = usable.filter((p) => p.demoted).sort((a, b) => b.score - a.score)
  const scored = head.map((p) => ({
    key: p.target,
    score: p.score,
    inFlight: view.stats.get(p.target)?.inFlight ?? 0,
    explore: explore(p),
  }))
  const order = select(scored, { band: t.band, exploreShare: t.exploreShare }, random)
  const byKey = new Map(head.map((p) => [p.target, p]))
  return [...order.map((s) => byKey.get(s.key)).filter((p): p is ScoredTarget => p !== undefined), ...tail]
}

/**
 * A half-open target with a free probe slot goes first: its probe is how it gets back into
 * rotation, and waiting for exploration or a failover to reach it would stretch the outage.
 */
function probesFirst(
  order: readonly ScoredTarget[],
  view: PlanView,
  cfg: RouterConfig,
  now: number,
): readonly ScoredTarget[] {
  // Checked before filtering, in a loop: almost every plan has no half-open target, and then no
  // array, closure or scope is made (the reordering is a function of its own).
  let any = false
  for (const p of order) if (halfOpen(p, view, cfg, now)) any = true
  return any ? halfOpenFirst(order, { view, cfg, now }) : order
}

function halfOpenFirst(
  order: readonly ScoredTarget[],
  { view, cfg, now }: { view: PlanView; cfg: RouterConfig; now: number },
): ScoredTarget[] {
  const probing = order.filter((p) => halfOpen(p, view, cfg, now))
  return [...probing, ...order.filter((p) => !probing.includes(p))]
}

/**
 * Config order, except that once the first target is measured, a capped share of requests
 * goes first to a cold target: without it a fallback that never fails over would stay cold
 * forever and the plan would never leave config order. With no data at all nothing moves.
 */
function warmUp(
  usable: readonly ScoredTarget[],
  view: PlanView,
  cfg: RouterConfig,
  random: () => number,
): readonly ScoredTarget[] {
  const min = Math.max(1, cfg.minSamples)
  // With the first target unmeasured nothing moves: return before building the cold list.
  if ((usable[0]?.samples ?? 0) < min) return usable
  // Counted before the list is built: most requests draw past the share and need no list.
  let coldCount = 0
  for (const p of usable) if (p.samples < min) coldCount++
  const share = view.tuning?.exploreShare ?? DEFAULT_TUNING.exploreShare
  if (coldCount === 0 || random() >= share) return usable
  return coldFirst(usable, min, random)
}

/** One cold target (fewer than `min` samples), drawn at random, first (a function of its own: see probesFirst). */
function coldFirst(usable: readonly ScoredTarget[], min: number, random: () => number): readonly ScoredTarget[] {
  const cold = usable.filter((p) => p.samples < min)
  const pick = cold[Math.min(cold.length - 1, Math.floor(random() * cold.length))]
  return pick ? [pick, ...usable.filter((p) => p !== pick)] : usable
}

/**
 * Plans the route for one request (see the module comment for the rules).
 * @example planRoute(buildCandidates('a,x', 'default', cfg), { stats: stats.all(now) }, { cfg, now, random })
 */
export function planRoute(
  candidates: readonly Candidate[],
  view: PlanView,
  at: { cfg: RouterConfig; now: number; random: () => number },
): Plan {
  const { cfg, now, random } = at
  const all = annotate(candidates, view, cfg, now)
  const usable: ScoredTarget[] = []
  const dropped: ScoredTarget[] = []
  for (const p of all) (p.skip ? dropped : usable).push(p)
  if (usable.length === 0) {
    const soonest = [...dropped].sort((a, b) => (a.skip?.retryInMs ?? 0) - (b.skip?.retryInMs ?? 0))[0]
    return {
      kind: 'exhausted',
      reason: soonest?.skip?.reason ?? 'circuit_open',
      retryInMs: soonest?.skip?.retryInMs ?? 0,
      targets: all,
    }
  }
  // A target the client chose stays first while usable; only the rest is reordered. Only the
  // client-chosen primary is pinned, and it is the first candidate (candidates.ts), so the rest
  // is `usable` itself or all of it but its first; when its order stands, `usable` is the plan,
  // with no copies. Loops, not filter/every with closures (this runs per request).
  const pinned = usable[0]!.pinned === true
  const rest = pinned ? usable.slice(1) : usable
  const min = Math.max(1, cfg.minSamples)
  let warm = true
  let measured = rest.length > 0
  for (const p of rest) {
    if (p.samples < min) warm = false
    if (p.performanceScore === undefined) measured = false
  }
  // Without enough live samples, active test results (when every target has them) beat config order.
  const tested = !warm && measured
  // Nothing to order (a client-chosen target alone): byScore of no targets is no targets and draws no random number.
  const ordered = rest.length === 0
    ? rest
    : warm
    ? byScore(rest, view, now, random)
    : tested
    ? byPerformance(rest, view)
    : warmUp(rest, view, cfg, random)
  const ordering = warm ? 'score' : tested ? 'performance' : 'config'
  const probed = probesFirst(ordered, view, cfg, now)
  const targets = probed === rest ? usable : pinned ? [usable[0]!, ...probed] : probed
  return { kind: 'ready', ordering, targets, dropped }
}

/** Whether `p`'s breaker is half-open with a free probe slot now. */
function halfOpen(p: ScoredTarget, view: PlanView, cfg: RouterConfig, now: number): boolean {
  const b = view.stats.get(p.target)?.breaker
  return b !== undefined && b.kind !== 'closed' && breakerAllows(b, now, cfg.breaker).state.kind === 'half_open'
}

/** Best performance score first; targets failing the performance thresholds last (stable). */
function byPerformance(usable: readonly ScoredTarget[], view: PlanView): ScoredTarget[] {
  const demoted = (p: ScoredTarget) => view.performance?.get(p.target)?.demoted === true
  return [...usable].sort((a, b) =>
    Number(demoted(a)) - Number(demoted(b)) || (b.performanceScore ?? 0) - (a.performanceScore ?? 0)
  )
}
