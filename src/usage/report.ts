/**
 * The body of `GET /v1/usage`: Switchyard's own totals (`total`, `by_tier`, `targets`) plus the
 * fields ccr-rust's tooling reads (`total_requests`, `total_failures`, `active_streams`, and
 * `tiers` as a list of per-tier rows), so scripts written for either work against it.
 */
import type { UsageSnapshot, UsageTotals } from './ledger.ts'

export interface TierUsageRow {
  readonly tier: string
  readonly requests: number
  readonly failures: number
  readonly input_tokens: number
  readonly output_tokens: number
  /** Switchyard: reasoning (thinking) tokens among the output tokens, as upstreams reported them. */
  readonly reasoning_tokens: number
  readonly cache_read_tokens: number
  readonly cache_creation_tokens: number
  readonly cost_usd: number
  readonly avg_duration_seconds: number
  /** Switchyard: requests billed from the token estimate (the upstream reported no usage). */
  readonly estimated_requests: number
  /** Switchyard: failed attempts by reason. */
  readonly failure_reasons: Readonly<Record<string, number>>
}

export interface UsageReport {
  readonly total_requests: number
  readonly total_failures: number
  readonly total_input_tokens: number
  readonly total_output_tokens: number
  readonly total_cost_usd: number
  readonly active_streams: number
  readonly active_requests: number
  readonly tiers: TierUsageRow[]
  readonly total: UsageTotals
  readonly by_tier: Readonly<Record<string, UsageTotals>>
  readonly targets: Readonly<Record<string, UsageTotals>>
}

export interface LiveFigures {
  readonly activeStreams: number
  readonly activeRequests: number
  /** Seconds summed and requests counted per tier, for the average duration. */
  readonly durations: ReadonlyMap<string, { readonly sum: number; readonly count: number }>
}

const failuresOf = (t: UsageTotals) => Object.values(t.failures).reduce((a, b) => a + b, 0)

export function usageReport(s: UsageSnapshot, live: LiveFigures): UsageReport {
  const tiers = Object.entries(s.tiers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(
    ([tier, t]): TierUsageRow => {
      const d = live.durations.get(tier)
      return {
        tier,
        requests: t.requests,
        failures: failuresOf(t),
        input_tokens: t.inputTokens,
        output_tokens: t.outputTokens,
        reasoning_tokens: t.reasoningTokens ?? 0,
        cache_read_tokens: t.cacheReadTokens,
        cache_creation_tokens: t.cacheCreationTokens,
        cost_usd: t.costUsd,
        avg_duration_seconds: d && d.count > 0 ? d.sum / d.count : 0,
        estimated_requests: t.estimatedRequests ?? 0,
        failure_reasons: t.failures,
      }
    },
  )
  return {
    total_requests: s.total.requests,
    total_failures: failuresOf(s.total),
    total_input_tokens: s.total.inputTokens,
    total_output_tokens: s.total.outputTokens,
    total_cost_usd: s.total.costUsd,
    active_streams: live.activeStreams,
    active_requests: live.activeRequests,
    tiers,
    total: s.total,
    by_tier: s.tiers,
    targets: s.targets,
  }
}
