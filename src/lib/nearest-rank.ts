/**
 * Nearest-rank percentile of an ascending array, `q` in [0, 1] (clamped): always a value that
 * was observed, so p99 of three samples is the largest. Undefined for an empty array.
 * @example nearestRank([1, 2, 3, 4], 0.5) // 2
 */
export function nearestRank(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)))
  return sorted[rank - 1]
}
