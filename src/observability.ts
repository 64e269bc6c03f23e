/**
 * The observer that turns finished requests into metrics, billed usage, drift samples and
 * audit entries. Hot-path work is a handful of counter increments on cached handles; the
 * token breakdown for the audit is the one routing made (carried on the request context).
 */
import type { Config, ProviderConfig } from './config/types.ts'
import type { ProxyError } from './errors.ts'
import type { Usage } from './formats/types.ts'
import type { Logger } from './log.ts'
import { createSwitchyardMetrics, type SwitchyardMetrics } from './metrics/prometheus.ts'
import type { PlannedTarget, RequestTrace } from './proxy/types.ts'
import { failureReasonOf } from './routing/routing-engine.ts'
import type { TraceObserver } from './telemetry.ts'
import { TokenAudit } from './tokens/audit.ts'
import { DriftTracker, reportedInputTokens } from './tokens/drift.ts'
import type { TokenEstimate } from './tokens/estimate.ts'
import { costUsd, priceFor } from './tokens/pricing.ts'
import { type PairTotals, UsageLedger, type UsageSnapshot } from './usage/ledger.ts'
import { type UsageReport, usageReport } from './usage/report.ts'

/** The server's metrics outlive each instance a reload builds: the composition root makes them. */
export { createSwitchyardMetrics, type SwitchyardMetrics }

export interface Observability {
  readonly observer: TraceObserver & { attemptFailed(t: PlannedTarget, e: ProxyError): void }
  readonly metrics: SwitchyardMetrics
  readonly ledger: UsageLedger
  readonly drift: DriftTracker
  readonly audit: TokenAudit
  /** The price of a finished request's usage, when its target's price is known (telemetry.ts writes it on the trace). */
  readonly costOf: (trace: RequestTrace) => number | undefined
  /**
   * The body of `GET /v1/usage` (ledger totals, average durations per tier, and the live figures
   * given); `totals` replaces the ledger's own (the fleet's, in fleet mode).
   */
  usageReport(
    live: { readonly activeStreams: number; readonly activeRequests: number },
    totals?: UsageSnapshot,
  ): UsageReport
}

function estimatedUsage(trace: RequestTrace): Usage {
  return {
    inputTokens: trace.estimatedInputTokens,
    outputTokens: trace.estimatedOutputTokens ?? 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
  }
}

const MAX_MEMOISED_PRICES = 1_024

/** The usage row of a target that no config names: one per provider, whatever model a client asked for. */
export const OTHER_MODEL = '(other)'

/**
 * The usage key of a target: itself when the config names it (a provider's model, a Router,
 * fallback or preset target), else `provider,(other)`. Explicit `provider,model` ids come from
 * clients, so without this 5,000 invented model names made 5,000 rows in memory, in SQLite and in
 * `GET /v1/usage`; now the rows are bounded by the config.
 */
export function usageKeyer(config: Config): (target: string) => string {
  const known = new Set(config.providers.flatMap((p) => p.models.map((m) => `${p.name},${m}`)))
  const named = (r: { readonly [k: string]: unknown }) => {
    for (const v of Object.values(r)) if (typeof v === 'string' && v.includes(',')) known.add(v)
  }
  named(config.router as unknown as Record<string, unknown>)
  for (const list of Object.values(config.router.fallback)) for (const t of list ?? []) known.add(t)
  for (const p of Object.values(config.presets)) named(p as unknown as Record<string, unknown>)
  const providers = new Set(config.providers.map((p) => p.name))
  return (target) => {
    if (known.has(target)) return target
    const provider = target.slice(0, Math.max(0, target.indexOf(',')))
    return `${providers.has(provider) ? provider : OTHER_MODEL},${OTHER_MODEL}`
  }
}

export function createObservability(
  config: Config,
  opts: {
    log: Logger
    now: () => number
    version: string
    runtime: string
    onUsageDelta?: (d: PairTotals) => void
    /** The metrics to count on (a reload's successor goes on with its predecessor's); new ones when absent. */
    metrics?: SwitchyardMetrics
  },
): Observability {
  const metrics = opts.metrics ?? createSwitchyardMetrics({ version: opts.version, runtime: opts.runtime })
  const ledger = new UsageLedger(opts.onUsageDelta)
  const drift = new DriftTracker(config.drift)
  const audit = new TokenAudit(config.tokenAuditSize)
  const providers = new Map<string, ProviderConfig>(config.providers.map((p) => [p.name, p]))
  const usageKey = usageKeyer(config)
  const durations = new Map<string, { sum: number; count: number }>()

  // A target's price is fixed by the config: looked up once, not split into two strings per request.
  const prices = new Map<string, ReturnType<typeof priceFor>>()
  const priceOf = (target: string) => {
    if (prices.has(target)) return prices.get(target)
    const comma = target.indexOf(',')
    const price = priceFor(providers.get(target.slice(0, comma)), target.slice(comma + 1))
    // Targets come from clients, so the memo is bounded.
    if (prices.size >= MAX_MEMOISED_PRICES) prices.clear()
    prices.set(target, price)
    return price
  }

  function costOf(trace: RequestTrace): number | undefined {
    if (!trace.usage || !trace.target) return undefined
    return costUsd(trace.usage, priceOf(trace.target))
  }

  function request(trace: RequestTrace, tokens: TokenEstimate | undefined): void {
    const tier = trace.tier ?? 'none'
    const m = metrics.tier(tier)
    m.requests.inc()
    if (trace.durationMs !== undefined) {
      m.duration.observe(trace.durationMs / 1000)
      const d = durations.get(tier)
      if (d) {
        d.sum += trace.durationMs / 1000
        d.count++
      } else durations.set(tier, { sum: trace.durationMs / 1000, count: 1 })
    }
    if (trace.stream && trace.ttfbMs !== undefined && trace.status === 200) m.ttft.observe(trace.ttfbMs / 1000)
    m.preRequestTokens.inc(trace.estimatedInputTokens)
    if (trace.failure && trace.target) ledger.recordFailure(tier, usageKey(trace.target), trace.failure)
    // An answered request is always counted: when the upstream reported no usage, its tokens
    // are Switchyard's estimate, marked as such in /v1/usage.
    const estimated = !trace.usage && trace.target !== undefined && trace.status === 200
    const u = trace.usage ?? (estimated ? estimatedUsage(trace) : undefined)
    if (!u || !trace.target) return
    m.inputTokens.inc(u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens)
    m.outputTokens.inc(u.outputTokens)
    metrics.cacheReadTokens.inc(u.cacheReadTokens)
    metrics.cacheCreationTokens.inc(u.cacheCreationTokens)
    // An estimate is priced like reported usage (telemetry only prices what the upstream reported).
    const cost = estimated ? costUsd(u, priceOf(trace.target)) : trace.costUsd
    if (cost !== undefined) m.costUsd.inc(cost)
    ledger.record({ tier, target: usageKey(trace.target), usage: u, costUsd: cost, estimated })
    // Usage is only reported after routing, which always leaves its estimate.
    if (!estimated && tokens) verifyDrift(trace, tier, tokens)
  }

  function verifyDrift(trace: RequestTrace, tier: string, estimate: TokenEstimate): void {
    // A continued stream's usage sums every try, whose prompts after the first carry the
    // prefill: only what the committed try reported is the client's own prompt.
    const prompt = trace.continued ? trace.promptUsage : trace.usage
    const reported = prompt ? reportedInputTokens(prompt) : 0
    audit.add({ id: trace.id, at: opts.now(), tier, target: trace.target!, estimate })
    if (reported <= 0) return
    const sample = drift.record(tier, trace.estimatedInputTokens, reported)
    if (!sample) return
    metrics.tier(tier).drift.set(sample.pct)
    audit.complete(trace.id, { reported, driftPct: sample.pct, level: sample.level })
    if (sample.level !== 'ok') {
      metrics.driftAlerts.labels(tier, sample.level).inc()
      opts.log.warn('token drift', {
        id: trace.id,
        tier,
        target: trace.target,
        estimated: trace.estimatedInputTokens,
        reported,
        drift_pct: Math.round(sample.pct * 10) / 10,
        level: sample.level,
      })
    }
  }

  const observer = {
    request,
    retried: (t: PlannedTarget) => metrics.tier(t.tier).retries.inc(),
    streamOpened: () => metrics.streamOpened(),
    streamClosed: () => metrics.streamClosed(),
    socketsOpen: (open: number) => metrics.openSockets.set(open),
    backpressure: () => metrics.backpressure.inc(),
    rejected: () => metrics.rejectedStreams.inc(),
    continued: (outcome: string) => metrics.streamContinuations.labels(outcome).inc(),
    attemptFailed(t: PlannedTarget, e: ProxyError) {
      metrics.failures.labels(
        t.tier,
        e.kind === 'upstream_status' ? `status_${e.status}` : e.kind === 'timeout' ? `timeout_${e.phase}` : e.kind,
      ).inc()
      if (failureReasonOf(e) === 'rate_limited') metrics.tier(t.tier).rateLimitHits.inc()
    },
  }
  return {
    observer,
    metrics,
    ledger,
    drift,
    audit,
    costOf,
    usageReport: (live, totals) => usageReport(totals ?? ledger.snapshot(), { ...live, durations }),
  }
}
