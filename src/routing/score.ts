/**
 * Scoring a target from its live measurements.
 *
 * Each component is normalised to [0, 1] against the best value among the candidates, 1 best:
 *   latency     = min(1, best.latencyMs / latencyMs)           (faster → higher)
 *   throughput  = min(1, tokensPerSec / best.tokensPerSec)     (more tokens/s → higher)
 *   reliability = (successes + 1) / (successes + errors + 2)   (Laplace: 0.5 with no outcomes)
 *   cost        = min(1, best.pricePerMTok / pricePerMTok)     (cheaper → higher; free = 1)
 *   score       = Σ wᵢ·cᵢ / Σ wᵢ   (0.5 when every weight is 0)
 * A component with no data (or no normaliser) is NEUTRAL = 0.5, so missing data neither
 * rewards nor punishes. Holding `best` fixed, the score is monotone: non-increasing in latency
 * and price, non-decreasing in tokens/s and in successes. Thresholds do not change the score;
 * they set `demoted` so the planner puts the target after the undemoted ones.
 */
import type { RoutingThresholds, ScoreWeights } from '../config/types.ts'
import type { ScoreComponents, ScoreResult, TargetSnapshot } from './types.ts'

export type Optimization = 'latency' | 'cost' | 'reliability' | 'balanced'

/** The best values among the candidates, used to normalise each component. */
export interface Normalisers {
  readonly latencyMs?: number
  readonly tokensPerSec?: number
  readonly pricePerMTok?: number
}

export interface ScoreContext {
  readonly weights: ScoreWeights
  readonly optimization: Optimization
  readonly thresholds: RoutingThresholds
  readonly pricePerMTok?: number
  readonly best: Normalisers
}

export const NEUTRAL = 0.5

const PRESETS: Readonly<Record<Exclude<Optimization, 'balanced'>, ScoreWeights>> = {
  latency: { latency: 0.7, throughput: 0.2, reliability: 0.1, cost: 0 },
  cost: { latency: 0.1, throughput: 0, reliability: 0.2, cost: 0.7 },
  reliability: { latency: 0.2, throughput: 0.1, reliability: 0.7, cost: 0 },
}

/** The weights in force: `balanced` uses the configured `Router.weights`, the others a preset. */
export function weightsFor(optimization: Optimization, configured: ScoreWeights): ScoreWeights {
  return optimization === 'balanced' ? configured : PRESETS[optimization]
}

function ratio(num: number | undefined, den: number | undefined): number {
  if (num === undefined || den === undefined || !(num >= 0) || !(den >= 0)) return NEUTRAL
  // A zero denominator means the value is as good as it gets (0 ms latency, free, best is 0 tok/s).
  if (den === 0) return 1
  return Math.min(1, num / den)
}

/** The four normalised components of a target. */
export function componentsOf(s: TargetSnapshot, best: Normalisers, pricePerMTok?: number): ScoreComponents {
  const cost = pricePerMTok === 0 ? 1 : ratio(best.pricePerMTok, pricePerMTok)
  return {
    latency: ratio(best.latencyMs, s.latencyMs),
    throughput: ratio(s.tokensPerSec, best.tokensPerSec),
    reliability: (s.successes + 1) / (s.successes + s.errors + 2),
    cost,
  }
}

function demotion(s: TargetSnapshot, t: RoutingThresholds): string | undefined {
  if (t.maxLatencyMs !== undefined && s.latencyMs !== undefined && s.latencyMs > t.maxLatencyMs) {
    return `latency ${Math.round(s.latencyMs)} ms above maxLatencyMs ${t.maxLatencyMs}`
  }
  if (t.minTokensPerSec !== undefined && s.tokensPerSec !== undefined && s.tokensPerSec < t.minTokensPerSec) {
    return `throughput ${s.tokensPerSec.toFixed(1)} tok/s below minTokensPerSec ${t.minTokensPerSec}`
  }
  const total = s.successes + s.errors
  if (t.minSuccessRate !== undefined && total > 0 && s.successes / total < t.minSuccessRate) {
    return `success rate ${(s.successes / total).toFixed(2)} below minSuccessRate ${t.minSuccessRate}`
  }
  return undefined
}

/**
 * Scores one target (formula in the module comment).
 * @example score(snap, { weights, optimization: 'latency', thresholds: {}, best: { latencyMs: 100 } }).components.latency // 0.5 at 200 ms
 */
export function score(stats: TargetSnapshot, ctx: ScoreContext): ScoreResult {
  const components = componentsOf(stats, ctx.best, ctx.pricePerMTok)
  const w = weightsFor(ctx.optimization, ctx.weights)
  // Written out rather than reduced over the keys (this runs for every candidate of every
  // request); the sums are taken in the same order, so the result is bit for bit the same.
  const wl = Math.max(0, w.latency), wt = Math.max(0, w.throughput)
  const wr = Math.max(0, w.reliability), wc = Math.max(0, w.cost)
  const total = wl + wt + wr + wc
  const value = total > 0
    ? (wl * components.latency + wt * components.throughput + wr * components.reliability + wc * components.cost) /
      total
    : NEUTRAL
  const reason = demotion(stats, ctx.thresholds)
  return reason === undefined
    ? { score: value, components, demoted: false }
    : { score: value, components, demoted: true, reason }
}

/** `score` with the weights, optimisation and thresholds taken from the Router config. */
export function scoreWithConfig(
  stats: TargetSnapshot,
  cfg: Pick<ScoreContext, 'weights' | 'optimization' | 'thresholds'>,
  among: { best: Normalisers; pricePerMTok?: number },
): ScoreResult {
  const { best, pricePerMTok } = among
  const ctx = { weights: cfg.weights, optimization: cfg.optimization, thresholds: cfg.thresholds, best, pricePerMTok }
  return score(stats, ctx)
}

/** The normalisers for a set of candidates: the lowest latency and price, the highest tokens/s. */
export function normalisersOf(
  snaps: readonly TargetSnapshot[],
  prices: readonly (number | undefined)[] = [],
): Normalisers {
  let latencyMs: number | undefined, tokensPerSec: number | undefined, pricePerMTok: number | undefined
  for (const s of snaps) {
    if (usable(s.latencyMs)) latencyMs = latencyMs === undefined ? s.latencyMs : Math.min(latencyMs, s.latencyMs)
    if (usable(s.tokensPerSec)) {
      tokensPerSec = tokensPerSec === undefined ? s.tokensPerSec : Math.max(tokensPerSec, s.tokensPerSec)
    }
  }
  for (const p of prices) if (usable(p)) pricePerMTok = pricePerMTok === undefined ? p : Math.min(pricePerMTok, p)
  const out: { latencyMs?: number; tokensPerSec?: number; pricePerMTok?: number } = {}
  if (latencyMs !== undefined) out.latencyMs = latencyMs
  if (tokensPerSec !== undefined) out.tokensPerSec = tokensPerSec
  if (pricePerMTok !== undefined) out.pricePerMTok = pricePerMTok
  return out
}

function usable(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x) && x >= 0
}
