/**
 * Token drift: how far our pre-request estimate is from the input tokens the upstream reports.
 * Pure; the caller feeds it numbers and reads snapshots for `GET /v1/token-drift`.
 */
import type { DriftThresholds } from '../config/types.ts'
import type { Usage } from '../formats/types.ts'
import { nearestRank } from '../lib/nearest-rank.ts'

export type DriftLevel = 'ok' | 'warning' | 'critical'

/** The upstream's total input: Anthropic splits cached tokens out of `input_tokens`. */
export function reportedInputTokens(usage: Usage): number {
  return usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens
}

/**
 * Signed drift in percent of the reported figure: positive when we over-estimate.
 * Undefined when the upstream reported 0 and we estimated more (no meaningful ratio).
 * @example driftPct(110, 100) // 10
 */
export function driftPct(estimated: number, reported: number): number | undefined {
  if (reported <= 0) return estimated <= 0 ? 0 : undefined
  return ((estimated - reported) / reported) * 100
}

/** Alert level of a drift, by its magnitude: at or above `criticalPct`, else at or above `warnPct`. */
export function classify(pct: number, thresholds: DriftThresholds): DriftLevel {
  const abs = Math.abs(pct)
  if (abs >= thresholds.criticalPct) return 'critical'
  if (abs >= thresholds.warnPct) return 'warning'
  return 'ok'
}

export interface TierDrift {
  readonly samples: number
  /** Mean signed drift (bias: positive means we over-estimate). */
  readonly meanPct: number
  readonly meanAbsPct: number
  /** 95th percentile of |drift| over the last `window` samples. */
  readonly p95AbsPct: number
  readonly maxAbsPct: number
  readonly lastPct: number
  readonly alerts: { readonly warning: number; readonly critical: number }
}

export interface DriftSample {
  readonly pct: number
  readonly level: DriftLevel
}

interface TierState {
  samples: number
  sum: number
  sumAbs: number
  maxAbs: number
  last: number
  warning: number
  critical: number
  /** Ring of the last `window` |drift| values, for the percentile. */
  ring: Float64Array
}

/** Cumulative drift per tier; memory is fixed per tier (a ring of `window` samples). */
export class DriftTracker {
  readonly #tiers = new Map<string, TierState>()
  readonly #thresholds: DriftThresholds
  readonly #window: number

  constructor(thresholds: DriftThresholds, window = 1024) {
    this.#thresholds = thresholds
    this.#window = Math.max(1, window)
  }

  /** Record one comparison; returns its drift and level, or undefined when no ratio exists. */
  record(tier: string, estimated: number, reported: number): DriftSample | undefined {
    const pct = driftPct(estimated, reported)
    if (pct === undefined) return undefined
    const s = this.#state(tier)
    const abs = Math.abs(pct)
    s.ring[s.samples % this.#window] = abs
    s.samples++
    s.sum += pct
    s.sumAbs += abs
    s.maxAbs = Math.max(s.maxAbs, abs)
    s.last = pct
    const level = classify(pct, this.#thresholds)
    if (level === 'warning') s.warning++
    else if (level === 'critical') s.critical++
    return { pct, level }
  }

  #state(tier: string): TierState {
    let s = this.#tiers.get(tier)
    if (s === undefined) {
      s = {
        samples: 0,
        sum: 0,
        sumAbs: 0,
        maxAbs: 0,
        last: 0,
        warning: 0,
        critical: 0,
        ring: new Float64Array(this.#window),
      }
      this.#tiers.set(tier, s)
    }
    return s
  }

  /** Per-tier statistics, tiers in first-seen order. */
  snapshot(): Record<string, TierDrift> {
    const out: Record<string, TierDrift> = {}
    for (const [tier, s] of this.#tiers) {
      const n = Math.min(s.samples, this.#window)
      const sorted = Array.from(s.ring.subarray(0, n)).sort((a, b) => a - b)
      out[tier] = {
        samples: s.samples,
        meanPct: s.samples === 0 ? 0 : s.sum / s.samples,
        meanAbsPct: s.samples === 0 ? 0 : s.sumAbs / s.samples,
        p95AbsPct: percentile(sorted, 0.95),
        maxAbsPct: s.maxAbs,
        lastPct: s.last,
        alerts: { warning: s.warning, critical: s.critical },
      }
    }
    return out
  }
}

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  return nearestRank(sorted, q) ?? 0
}
