/**
 * The rows of `GET /v1/latencies`: per target the EWMA latency, TTFT, tokens/s, error rate,
 * in-flight count, breaker state, sample count and current rank. Pure: snapshots in, rows out.
 */
import type { RouterConfig } from '../config/types.ts'
import { breakerAllows, breakerRetryInMs } from '../resilience/breaker.ts'
import { normalisersOf, scoreWithConfig } from './score.ts'
import type { TargetSnapshot } from './types.ts'

export interface LatencyRow {
  readonly target: string
  /** 1 = the target the scores favour now; demoted targets rank after the others. */
  readonly rank: number
  readonly score: number
  readonly demoted: boolean
  readonly reason?: string
  readonly latencyMs?: number
  readonly ttftMs?: number
  readonly tokensPerSec?: number
  readonly errorRate?: number
  readonly inFlight: number
  readonly continued: number
  readonly breaker: 'closed' | 'open' | 'half_open'
  readonly breakerRetryInMs: number
  readonly samples: number
}

/**
 * One row per known target, best rank first (ties keep first-seen order).
 * @example latencyReport(stats.all(now), config.router, { now })[0]?.target
 */
export function latencyReport(
  snaps: ReadonlyMap<string, TargetSnapshot>,
  cfg: RouterConfig,
  at: { now: number; prices?: ReadonlyMap<string, number> },
): LatencyRow[] {
  const { now, prices = new Map<string, number>() } = at
  const list = [...snaps.values()]
  const best = normalisersOf(list, list.map((s) => prices.get(s.key)))
  const rows = list.map((s) => {
    const r = scoreWithConfig(s, cfg, { best, pricePerMTok: prices.get(s.key) })
    const breaker = breakerAllows(s.breaker, now, cfg.breaker).state
    return {
      target: s.key,
      rank: 0,
      score: r.score,
      demoted: r.demoted,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      ...pick(s),
      inFlight: s.inFlight,
      continued: s.continued ?? 0,
      breaker: breaker.kind,
      breakerRetryInMs: breakerRetryInMs(breaker, now),
      samples: s.samples,
    }
  })
  const order = rows.map((row, i) => ({ row, i }))
    .sort((a, b) => Number(a.row.demoted) - Number(b.row.demoted) || b.row.score - a.row.score || a.i - b.i)
  return order.map(({ row }, i) => ({ ...row, rank: i + 1 }))
}

function pick(s: TargetSnapshot): Pick<LatencyRow, 'latencyMs' | 'ttftMs' | 'tokensPerSec' | 'errorRate'> {
  return {
    ...(s.latencyMs === undefined ? {} : { latencyMs: s.latencyMs }),
    ...(s.ttftMs === undefined ? {} : { ttftMs: s.ttftMs }),
    ...(s.tokensPerSec === undefined ? {} : { tokensPerSec: s.tokensPerSec }),
    ...(s.errorRate === undefined ? {} : { errorRate: s.errorRate }),
  }
}
