/**
 * 95 % confidence intervals for experiment arms, from running sums (so an arm's state is a
 * few numbers however much traffic it gets): a normal interval for a mean, Wilson's interval
 * for a proportion. `clearlyWorse` is the stop rule: the arms' intervals do not overlap.
 */

const Z95 = 1.959963984540054

export interface Moments {
  readonly n: number
  readonly sum: number
  readonly sumSq: number
}

export const NO_MOMENTS: Moments = { n: 0, sum: 0, sumSq: 0 }

export function addSample(m: Moments, x: number): Moments {
  return Number.isFinite(x) ? { n: m.n + 1, sum: m.sum + x, sumSq: m.sumSq + x * x } : m
}

export interface Interval {
  readonly mean: number
  readonly low: number
  readonly high: number
  readonly n: number
}

/** Mean ± z·s/√n; undefined with fewer than 2 samples. */
export function meanInterval(m: Moments): Interval | undefined {
  if (m.n < 2) return undefined
  const mean = m.sum / m.n
  const variance = Math.max(0, (m.sumSq - m.n * mean * mean) / (m.n - 1))
  const half = Z95 * Math.sqrt(variance / m.n)
  return { mean, low: mean - half, high: mean + half, n: m.n }
}

/** Wilson score interval of `k` successes in `n` trials; undefined for n = 0. */
export function wilson(k: number, n: number): Interval | undefined {
  if (n <= 0) return undefined
  const p = k / n
  const z2 = Z95 * Z95
  const den = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / den
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den
  return { mean: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), n }
}

/**
 * `a` is clearly worse than `b` when both have at least `minSamples` and a's interval lies
 * wholly on the bad side of b's (`higherIsWorse`: a.low > b.high).
 */
export function clearlyWorse(
  a: Interval | undefined,
  b: Interval | undefined,
  opts: { higherIsWorse: boolean; minSamples: number },
): boolean {
  if (!a || !b || a.n < opts.minSamples || b.n < opts.minSamples) return false
  return opts.higherIsWorse ? a.low > b.high : a.high < b.low
}
