/** Pure summary statistics for the stress run and the benchmark. */
import { nearestRank } from '../../src/lib/nearest-rank.ts'

/**
 * Nearest-rank percentile of `values` (q in [0, 1]); NaN for an empty list.
 * @example percentile([1, 2, 3, 4], 0.5) // 2
 */
export function percentile(values: readonly number[], q: number): number {
  return nearestRank([...values].sort((a, b) => a - b), q) ?? Number.NaN
}

export interface Summary {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** p50/p95/p99/max/mean of a sample (NaN fields when empty). */
export function summarise(values: readonly number[]): Summary {
  const mean = values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length
  // Sorted once: up to 5,000 streams' timings per summary.
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => nearestRank(sorted, q) ?? Number.NaN
  return { count: values.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1), mean }
}

/** Format a number for a table: fixed decimals, `-` for NaN. */
export function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-'
}

/** A GitHub-flavoured markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
