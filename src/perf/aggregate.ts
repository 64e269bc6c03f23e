/**
 * The per-target aggregate kept by the performance store, computed from a target's run
 * history. Pure: the store hands in the runs, newest first.
 */
import { splitTarget as parseTargetSyntax } from '../config/target-syntax.ts'
import { summarize } from './run-stats.ts'
import type { RunRecord, TestType } from './types.ts'

/** Aggregate figures for one `provider,model`, as served by GET /performance/metrics. */
export interface TargetMetrics {
  readonly target: string
  readonly provider: string
  readonly model: string
  readonly avgLatencyMs?: number
  readonly p95LatencyMs?: number
  readonly p99LatencyMs?: number
  readonly avgTtftMs?: number
  readonly p95TtftMs?: number
  readonly tokensPerSec?: number
  readonly successRate: number
  readonly errorRate: number
  /** Epoch ms of the newest run. */
  readonly lastTested: number
  /** Runs in the window the figures come from. */
  readonly testCount: number
}

/** Only the newest runs count, so the aggregate follows the target as it changes. */
export const AGGREGATE_WINDOW = 200

/** `"provider,model"` split by the config's one parser; a bare name is all model. */
export function splitTarget(target: string): { provider: string; model: string } {
  return parseTargetSyntax(target) ?? { provider: '', model: target }
}

/** Values of successful runs of the preferred types, or of every successful run when none. */
function prefer(
  runs: readonly RunRecord[],
  types: readonly TestType[],
  f: (r: RunRecord) => number | undefined,
): number[] {
  const of = (rs: readonly RunRecord[]): number[] =>
    rs.filter((r) => r.ok).map(f).filter((x): x is number => x !== undefined)
  const chosen = of(runs.filter((r) => types.includes(r.type)))
  return chosen.length > 0 ? chosen : of(runs)
}

/**
 * Aggregate a target's runs (newest first; only the first AGGREGATE_WINDOW count). Latency and
 * TTFT come from latency tests (unloaded, comparable), tokens/s from throughput tests; each
 * falls back to every successful run when that test type has not run. Undefined for no runs.
 */
export function aggregateRuns(target: string, newestFirst: readonly RunRecord[]): TargetMetrics | undefined {
  const runs = newestFirst.slice(0, AGGREGATE_WINDOW)
  const first = runs[0]
  if (!first) return undefined
  const lat = summarize(prefer(runs, ['latency', 'health'], (r) => r.totalMs))
  const ttft = summarize(prefer(runs, ['latency'], (r) => r.ttftMs))
  const tps = summarize(prefer(runs, ['throughput'], (r) => r.tokensPerSec))
  const okCount = runs.filter((r) => r.ok).length
  const successRate = okCount / runs.length
  return {
    target,
    ...splitTarget(target),
    ...(lat ? { avgLatencyMs: lat.mean, p95LatencyMs: lat.p95, p99LatencyMs: lat.p99 } : {}),
    ...(ttft ? { avgTtftMs: ttft.mean, p95TtftMs: ttft.p95 } : {}),
    ...(tps ? { tokensPerSec: tps.mean } : {}),
    successRate,
    errorRate: 1 - successRate,
    lastTested: Math.max(...runs.map((r) => r.at)),
    testCount: runs.length,
  }
}
