/**
 * Pure statistics over the runs of a test: nearest-rank percentiles and a summary. No clock,
 * no randomness; property-tested in stats.test.ts.
 */
import { nearestRank } from '../lib/nearest-rank.ts'
import type { Distribution, RunRecord } from './types.ts'

/**
 * The nearest-rank percentile `p` (0–100) of a sample; undefined for an empty sample.
 * Nearest-rank always returns a value that was observed, so p99 of 3 runs is the slowest run.
 * @example percentile([5, 1, 3], 50) // 3
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  return nearestRank([...values].sort((a, b) => a - b), p / 100)
}

/** Count, mean, min, max and p50/p95/p99 of a sample; undefined when it has no finite value. */
export function summarize(values: readonly number[]): Distribution | undefined {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (xs.length === 0) return undefined
  const at = (p: number): number => nearestRank(xs, p / 100) ?? 0
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  return { count: xs.length, mean, min: xs[0] ?? 0, max: xs[xs.length - 1] ?? 0, p50: at(50), p95: at(95), p99: at(99) }
}

/**
 * Output tokens per second of one run. With a TTFT the rate covers generation only: the first
 * token marks the end of the wait, and the other n − 1 tokens took `totalMs − ttftMs`.
 * Without one (or with a single token) it is tokens over total time; undefined for no output.
 * @example tokensPerSecond({ totalMs: 1100, ttftMs: 100, outputTokens: 51 }) // 50
 */
export function tokensPerSecond(
  o: { readonly totalMs: number; readonly ttftMs?: number; readonly outputTokens: number },
): number | undefined {
  if (o.outputTokens <= 0) return undefined
  if (o.ttftMs !== undefined && o.outputTokens > 1 && o.totalMs > o.ttftMs) {
    return ((o.outputTokens - 1) * 1000) / (o.totalMs - o.ttftMs)
  }
  return o.totalMs > 0 ? (o.outputTokens * 1000) / o.totalMs : undefined
}

/** Statistics of a set of runs: latency and TTFT over successful runs, and the success rate. */
export function summarizeRuns(runs: readonly RunRecord[]): {
  latencyMs?: Distribution
  ttftMs?: Distribution
  tokensPerSec?: Distribution
  successRate: number
} {
  const good = runs.filter((r) => r.ok)
  const pick = (f: (r: RunRecord) => number | undefined): number[] =>
    good.map(f).filter((x): x is number => x !== undefined)
  const out: { latencyMs?: Distribution; ttftMs?: Distribution; tokensPerSec?: Distribution; successRate: number } = {
    successRate: runs.length === 0 ? 0 : good.length / runs.length,
  }
  const latency = summarize(pick((r) => r.totalMs))
  const ttft = summarize(pick((r) => r.ttftMs))
  const tps = summarize(pick((r) => r.tokensPerSec))
  if (latency) out.latencyMs = latency
  if (ttft) out.ttftMs = ttft
  if (tps) out.tokensPerSec = tps
  return out
}
