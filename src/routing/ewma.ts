/**
 * Exponentially weighted moving averages, as immutable values. A fresh average has no value
 * yet (so "no data" is distinguishable from "zero"); the first sample seeds it as it is,
 * which avoids the start-up bias of seeding with an arbitrary prior such as 100 ms.
 */
export type Ewma =
  | { readonly kind: 'empty' }
  | { readonly kind: 'seeded'; readonly value: number; readonly samples: number }

/** The average before any sample. */
export const EMPTY_EWMA: Ewma = Object.freeze({ kind: 'empty' })

/**
 * Blends one sample into an average: `value' = α·sample + (1 − α)·value`.
 * `alpha` is clamped to [0, 1]; non-finite samples are ignored.
 * @example ewma(ewma(EMPTY_EWMA, 100, 0.3), 200, 0.3) // { kind: 'seeded', value: 130, samples: 2 }
 */
export function ewma(prev: Ewma, sample: number, alpha: number): Ewma {
  if (!Number.isFinite(sample)) return prev
  if (prev.kind === 'empty') return { kind: 'seeded', value: sample, samples: 1 }
  const a = Math.min(1, Math.max(0, alpha))
  // Written as prev + a·(sample − prev) so the result stays between the two even with rounding.
  const value = clampBetween(prev.value + a * (sample - prev.value), prev.value, sample)
  return { kind: 'seeded', value, samples: prev.samples + 1 }
}

/**
 * Records a failure: it counts as a sample of `factor × current value` (ccr-rust's 2× rule),
 * never as the length of the timeout that ended it, so one hung call cannot pin a tier at
 * 600 s. With the default `alpha = 1` the value is simply multiplied by `factor`. An empty
 * average stays empty: there is no latency to penalise yet (reliability covers the failure).
 * @example penalise({ kind: 'seeded', value: 100, samples: 3 }, 2, 0.5) // value 150
 */
export function penalise(prev: Ewma, factor: number, alpha = 1): Ewma {
  if (prev.kind === 'empty') return prev
  return ewma(prev, prev.value * Math.max(0, factor), alpha)
}

/**
 * Limits how much worse than the current average one sample may count: a latency sample
 * (`worse: 'higher'`) above `maxRatio × value` counts as `maxRatio × value`; a throughput
 * sample (`worse: 'lower'`) below `value / maxRatio` counts as that. Improvements pass as
 * they are. One spike then moves the average by at most α·(maxRatio − 1), while a lasting
 * step still gets through in a few samples, compounding by that factor each time.
 * @example dampen({ kind: 'seeded', value: 200, samples: 9 }, 1_000, { maxRatio: 1.5, worse: 'higher' }) // 300
 */
export function dampen(prev: Ewma, sample: number, bound: { maxRatio: number; worse: 'higher' | 'lower' }): number {
  const { maxRatio, worse } = bound
  if (prev.kind === 'empty' || !(maxRatio >= 1)) return sample
  return worse === 'higher' ? Math.min(sample, prev.value * maxRatio) : Math.max(sample, prev.value / maxRatio)
}

/** The current value, or undefined before the first sample. */
export function ewmaValue(e: Ewma): number | undefined {
  return e.kind === 'seeded' ? e.value : undefined
}

function clampBetween(x: number, a: number, b: number): number {
  return Math.min(Math.max(x, Math.min(a, b)), Math.max(a, b))
}
