/**
 * One performance score per target from active test results and passive EWMA stats. Pure:
 * `now` comes in as an argument. The formula is documented in docs/performance.md.
 */
import type { PerformanceConfig } from '../config/types.ts'

/** What the engine measured for a target (a subset of the store's TargetMetrics). */
export interface ActiveSample {
  readonly avgLatencyMs?: number
  readonly avgTtftMs?: number
  readonly tokensPerSec?: number
  readonly successRate: number
  readonly lastTested: number
  readonly testCount: number
}

/** What live traffic taught the router about a target (adapted from routing/target-stats.ts). */
export interface PassiveSample {
  readonly ewmaLatencyMs?: number
  readonly ewmaTtftMs?: number
  readonly tokensPerSec?: number
  readonly successRate?: number
  readonly samples: number
  readonly lastAt?: number
}

export interface ScoreOptions {
  readonly weights: PerformanceConfig['weights']
  readonly thresholds: PerformanceConfig['thresholds']
  /** Runs needed for full confidence in active data (config minTestCount). */
  readonly minTestCount: number
  /** Samples needed for full confidence in passive data (default 3). */
  readonly minSamples?: number
  /** Age at which a source's weight halves (default one hour). */
  readonly halfLifeMs?: number
  /** How much more a passive sample counts than an active one of the same age (default 2). */
  readonly passiveBoost?: number
  /** Latency that scores 0.5 (default 1000 ms). */
  readonly latencyRefMs?: number
  /** Throughput that scores 0.5 (default 50 tokens/s). */
  readonly throughputRef?: number
}

/** The score of one target, with the blended metrics and weights it used. */
export interface PerformanceScore {
  /** In [0, 1]; higher is better. */
  readonly performance_score: number
  readonly demoted: boolean
  readonly reasons: readonly string[]
  readonly metrics: {
    readonly latencyMs?: number
    readonly tokensPerSec?: number
    readonly successRate?: number
    readonly activeWeight: number
    readonly passiveWeight: number
  }
  readonly components: { readonly latency?: number; readonly throughput?: number; readonly reliability?: number }
}

const decay = (ageMs: number, halfLifeMs: number): number => Math.pow(0.5, Math.max(0, ageMs) / halfLifeMs)

/** Weight-average of the values present; undefined when neither source has the metric. */
function blend(a: number | undefined, wa: number, p: number | undefined, wp: number): number | undefined {
  const parts = ([[a, wa], [p, wp]] as const).filter((x): x is readonly [number, number] =>
    x[0] !== undefined && Number.isFinite(x[0]) && x[1] > 0
  )
  const w = parts.reduce((s, [, pw]) => s + pw, 0)
  return w > 0 ? parts.reduce((s, [v, pw]) => s + v * pw, 0) / w : undefined
}

/** Confidence weights of the two sources: sample sufficiency times age decay (passive boosted). */
export function sourceWeights(
  sources: { active: ActiveSample | undefined; passive: PassiveSample | undefined },
  now: number,
  o: ScoreOptions,
): { activeWeight: number; passiveWeight: number } {
  const { active, passive } = sources
  const half = o.halfLifeMs ?? 3_600_000
  const activeWeight = active && active.testCount > 0
    ? Math.min(1, active.testCount / Math.max(1, o.minTestCount)) * decay(now - active.lastTested, half)
    : 0
  const passiveWeight = passive && passive.samples > 0
    ? (o.passiveBoost ?? 2) * Math.min(1, passive.samples / Math.max(1, o.minSamples ?? 3)) *
      decay(now - (passive.lastAt ?? now), half)
    : 0
  return { activeWeight, passiveWeight }
}

function thresholdReasons(m: PerformanceScore['metrics'], t: ScoreOptions['thresholds']): string[] {
  const out: string[] = []
  if (t.maxLatencyMs !== undefined && m.latencyMs !== undefined && m.latencyMs > t.maxLatencyMs) {
    out.push(`latency ${Math.round(m.latencyMs)} ms > ${t.maxLatencyMs} ms`)
  }
  if (
    t.minThroughputTokensPerSec !== undefined && m.tokensPerSec !== undefined &&
    m.tokensPerSec < t.minThroughputTokensPerSec
  ) out.push(`throughput ${m.tokensPerSec.toFixed(1)} tokens/s < ${t.minThroughputTokensPerSec}`)
  if (t.minSuccessRate !== undefined && m.successRate !== undefined && m.successRate < t.minSuccessRate) {
    out.push(`success rate ${m.successRate.toFixed(3)} < ${t.minSuccessRate}`)
  }
  return out
}

/**
 * The performance score of one target, or undefined with no usable data (the caller keeps
 * config order). Latency prefers TTFT (comparable across prompt sizes), else total latency.
 * @example performanceScore({ active: { avgTtftMs: 1000, successRate: 1, lastTested: 0, testCount: 5 } }, 0, opts)
 */
export function performanceScore(
  input: { readonly active?: ActiveSample; readonly passive?: PassiveSample },
  now: number,
  o: ScoreOptions,
): PerformanceScore | undefined {
  const { active: a, passive: p } = input
  const { activeWeight: wa, passiveWeight: wp } = sourceWeights({ active: a, passive: p }, now, o)
  if (wa + wp <= 0) return undefined
  const latencyMs = blend(a?.avgTtftMs ?? a?.avgLatencyMs, wa, p?.ewmaTtftMs ?? p?.ewmaLatencyMs, wp)
  const tokensPerSec = blend(a?.tokensPerSec, wa, p?.tokensPerSec, wp)
  const successRate = blend(a?.successRate, wa, p?.successRate, wp)
  const lref = o.latencyRefMs ?? 1000
  const tref = o.throughputRef ?? 50
  const components = {
    ...(latencyMs !== undefined ? { latency: lref / (lref + Math.max(0, latencyMs)) } : {}),
    ...(tokensPerSec !== undefined
      ? { throughput: Math.max(0, tokensPerSec) / (tref + Math.max(0, tokensPerSec)) }
      : {}),
    ...(successRate !== undefined ? { reliability: Math.min(1, Math.max(0, successRate)) } : {}),
  }
  const parts: [number | undefined, number][] = [
    [components.latency, o.weights.latency],
    [components.throughput, o.weights.throughput],
    [components.reliability, o.weights.reliability],
  ]
  const used = parts.filter((x): x is [number, number] => x[0] !== undefined && x[1] > 0)
  const wsum = used.reduce((s, [, w]) => s + w, 0)
  if (wsum <= 0) return undefined
  const metrics = {
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(tokensPerSec !== undefined ? { tokensPerSec } : {}),
    ...(successRate !== undefined ? { successRate } : {}),
    activeWeight: wa,
    passiveWeight: wp,
  }
  const reasons = thresholdReasons(metrics, o.thresholds)
  const performance_score = used.reduce((s, [c, w]) => s + c * w, 0) / wsum
  return { performance_score, demoted: reasons.length > 0, reasons, metrics, components }
}

/**
 * Order targets for routing: when every target has a score, non-demoted first by score
 * (ties keep config order); otherwise config order with demoted targets moved last.
 */
export function orderByPerformance<T extends { readonly score?: PerformanceScore }>(targets: readonly T[]): T[] {
  const idx = new Map(targets.map((t, i) => [t, i]))
  const allScored = targets.every((t) => t.score !== undefined)
  return [...targets].sort((x, y) => {
    const d = Number(x.score?.demoted ?? false) - Number(y.score?.demoted ?? false)
    if (d !== 0) return d
    if (allScored) {
      const s = (y.score?.performance_score ?? 0) - (x.score?.performance_score ?? 0)
      if (s !== 0) return s
    }
    return (idx.get(x) ?? 0) - (idx.get(y) ?? 0)
  })
}
