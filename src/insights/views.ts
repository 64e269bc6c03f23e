/**
 * The JSON views of `GET /v1/trends` and `GET /v1/recommendations`, computed on request from
 * the live series (series.ts) and the active-test history. Plain data in, plain data out.
 */
import { type Candidate, paretoFrontier, suggest, type Suggestion } from '../analysis/pareto.ts'
import {
  type ChangePoint,
  changePoints,
  hourOfWeekLabel,
  type Point,
  slopePerHour,
  slowHours,
} from '../analysis/trends.ts'
import { type Agg, emptyAgg, figures, type SeriesBook } from './series.ts'

export const TREND_WINDOWS = {
  '1h': { spanMs: 3_600_000, stepMs: 60_000 },
  '24h': { spanMs: 86_400_000, stepMs: 900_000 },
  '7d': { spanMs: 604_800_000, stepMs: 3_600_000 },
} as const
export type TrendWindow = keyof typeof TREND_WINDOWS

export const TREND_METRICS = ['latency_ms', 'ttft_ms', 'tokens_per_sec', 'success_rate', 'cost_per_1k_tokens'] as const
type Metric = (typeof TREND_METRICS)[number]

export interface TrendPoint {
  readonly t: number
  readonly requests: number
  readonly latency_ms?: number
  readonly ttft_ms?: number
  readonly tokens_per_sec?: number
  readonly success_rate?: number
  readonly cost_per_1k_tokens?: number
}

export interface MetricTrend {
  readonly slope_per_hour?: number
  readonly change_points: ChangePoint[]
}

export interface ActiveRun {
  readonly at: number
  readonly ok: boolean
  readonly totalMs: number
  readonly ttftMs?: number
  readonly tokensPerSec?: number
}

export interface TargetTrend {
  readonly target: string
  readonly window: TrendWindow
  readonly step_ms: number
  readonly live: TrendPoint[]
  readonly active: TrendPoint[]
  readonly trends: Record<Metric, MetricTrend>
  readonly baseline_ratio: { readonly latency?: number; readonly ttft?: number }
  readonly hour_of_week: { hour: number; label: string; latency_ms: number; requests: number }[]
  readonly slow_hours: { hour: number; label: string; latency_ms: number; requests: number }[]
}

function point(t: number, a: Agg): TrendPoint {
  const f = figures(a)
  return {
    t,
    requests: f.requests,
    ...(f.latencyMs !== undefined ? { latency_ms: f.latencyMs } : {}),
    ...(f.ttftMs !== undefined ? { ttft_ms: f.ttftMs } : {}),
    ...(f.tokensPerSec !== undefined ? { tokens_per_sec: f.tokensPerSec } : {}),
    ...(f.successRate !== undefined ? { success_rate: f.successRate } : {}),
    ...(f.costPer1k !== undefined ? { cost_per_1k_tokens: f.costPer1k } : {}),
  }
}

/** Active-test runs bucketed like the live series. */
function activePoints(runs: readonly ActiveRun[], stepMs: number): TrendPoint[] {
  const by = new Map<number, Agg>()
  for (const r of runs) {
    const t = Math.floor(r.at / stepMs) * stepMs
    const a = by.get(t) ?? by.set(t, emptyAgg()).get(t)!
    a.requests++
    if (!r.ok) continue
    a.ok++
    a.latencySum += r.totalMs
    a.latencyN++
    if (r.ttftMs !== undefined) {
      a.ttftSum += r.ttftMs
      a.ttftN++
    }
    // Tokens/s of a run is already a rate: sum it as tokens over one second of generation.
    if (r.tokensPerSec !== undefined) {
      a.genTokens += r.tokensPerSec
      a.genMs += 1000
    }
  }
  return [...by].sort((x, y) => x[0] - y[0]).map(([t, a]) => point(t, a))
}

export function targetTrend(q: {
  target: string
  window: TrendWindow
  now: number
  series: SeriesBook
  active: readonly ActiveRun[]
  baseline: { latency?: number; ttft?: number }
}): TargetTrend {
  const { spanMs, stepMs } = TREND_WINDOWS[q.window]
  const live = q.series.series(q.target, { from: q.now - spanMs + 1, to: q.now + 1, stepMs }).map((b) =>
    point(b.start, b.agg)
  )
  const trends = Object.fromEntries(TREND_METRICS.map((m) => {
    const pts: Point[] = live.flatMap((p) => (p[m] === undefined ? [] : [{ t: p.t, v: p[m]! }]))
    const slope = slopePerHour(pts)
    return [m, { ...(slope === undefined ? {} : { slope_per_hour: slope }), change_points: changePoints(pts) }]
  })) as Record<Metric, MetricTrend>
  const profile = q.series.profile(q.target).flatMap((a, hour) => {
    const f = figures(a)
    return f.latencyMs === undefined
      ? []
      : [{ hour, label: hourOfWeekLabel(hour), latency_ms: f.latencyMs, requests: f.requests }]
  })
  const slow = new Set(
    slowHours(profile.map((p) => ({ hour: p.hour, mean: p.latency_ms, samples: p.requests }))).map((b) => b.hour),
  )
  return {
    target: q.target,
    window: q.window,
    step_ms: stepMs,
    live,
    active: activePoints(q.active, stepMs),
    trends,
    baseline_ratio: q.baseline,
    hour_of_week: profile,
    slow_hours: profile.filter((p) => slow.has(p.hour)),
  }
}

export interface ScenarioRecommendation {
  readonly scenario: string
  /** The scenario's target in the Router now. */
  readonly current?: string
  readonly window: string
  readonly candidates: (Candidate & { readonly pareto: boolean })[]
  readonly suggestion?: Suggestion
}

/** Per scenario, the frontier of the targets that served it over the last 7 days, and a suggestion. */
export function recommendations(
  q: { now: number; series: SeriesBook; current: (scenario: string) => string | undefined },
): ScenarioRecommendation[] {
  const span = TREND_WINDOWS['7d'].spanMs
  const by = new Map<string, Candidate[]>()
  for (const key of q.series.keys()) {
    const bar = key.indexOf('|')
    if (bar < 0) continue
    const scenario = key.slice(0, bar)
    const target = key.slice(bar + 1)
    const f = figures(q.series.total(key, { from: q.now - span, to: q.now + 1 }))
    if (f.requests === 0 || f.latencyMs === undefined) continue
    const c: Candidate = {
      target,
      latencyMs: f.latencyMs,
      successRate: f.successRate ?? 0,
      requests: f.requests,
      ...(f.tokensPerSec !== undefined ? { tokensPerSec: f.tokensPerSec } : {}),
      ...(f.costPer1k !== undefined ? { costPer1k: f.costPer1k } : {}),
    }
    by.set(scenario, [...(by.get(scenario) ?? []), c])
  }
  return [...by].sort((a, b) => a[0].localeCompare(b[0])).map(([scenario, cs]) => {
    const frontier = paretoFrontier(cs)
    const current = q.current(scenario)
    const s = current ? suggest(frontier, cs, { scenario, current, windowLabel: '7 days' }) : undefined
    return {
      scenario,
      ...(current ? { current } : {}),
      window: '7d',
      candidates: cs.map((c) => ({ ...c, pareto: frontier.includes(c) })),
      ...(s ? { suggestion: s } : {}),
    }
  })
}
