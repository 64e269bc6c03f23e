/**
 * The Switchyard metric set under ccr-rust's names, so existing ccr-rust dashboards work.
 * `ccr_ttft_seconds` is a histogram (a gauge would keep only the last value, and TTFT is
 * exactly what you want percentiles of); `ccr_tier_ewma_latency_seconds`,
 * `ccr_output_tokens_per_second`, `ccr_token_drift_pct` and `ccr_circuit_state` are gauges,
 * the routing-state ones best set at scrape time through `registry.onCollect`.
 */
import { CONTENT_TYPE } from './exposition.ts'
import { Registry } from './registry.ts'
import type { Counter, CounterHandle, Gauge, GaugeHandle, Histogram, HistogramHandle } from './registry.ts'

export { CONTENT_TYPE }

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]

/** Circuit breaker states as ccr-rust exports them. */
export const CIRCUIT_STATE = { closed: 0, half_open: 1, open: 2 } as const

/** Handles for one tier, resolved once so the hot path only calls `inc`/`observe`/`set`. */
export interface TierMetrics {
  readonly requests: CounterHandle
  readonly duration: HistogramHandle
  readonly inputTokens: CounterHandle
  readonly outputTokens: CounterHandle
  readonly ttft: HistogramHandle
  readonly ewmaLatency: GaugeHandle
  readonly outputTokensPerSecond: GaugeHandle
  readonly preRequestTokens: CounterHandle
  readonly drift: GaugeHandle
  readonly rateLimitHits: CounterHandle
  readonly retries: CounterHandle
  readonly costUsd: CounterHandle
}

export interface SwitchyardMetrics {
  readonly registry: Registry
  readonly requests: Counter
  readonly requestDuration: Histogram
  readonly failures: Counter
  readonly activeStreams: GaugeHandle
  readonly peakActiveStreams: GaugeHandle
  readonly inputTokens: Counter
  readonly outputTokens: Counter
  readonly cacheReadTokens: CounterHandle
  readonly cacheCreationTokens: CounterHandle
  readonly ewmaLatency: Gauge
  readonly ttft: Histogram
  readonly outputTokensPerSecond: Gauge
  readonly preRequestTokens: Counter
  readonly tokenDrift: Gauge
  readonly driftAlerts: Counter
  readonly backpressure: CounterHandle
  readonly rateLimitHits: Counter
  readonly retries: Counter
  readonly circuitState: Gauge
  readonly costUsd: Counter
  readonly rejectedStreams: CounterHandle
  /** WebSockets open (the Responses API's WebSocket mode). */
  readonly openSockets: GaugeHandle
  /** Streams broken after the commit point, by what continuation made of them. */
  readonly streamContinuations: Counter
  /** Cached per-tier handles. */
  tier(id: string): TierMetrics
  /** A stream started: bumps active streams and the peak. */
  streamOpened(): void
  streamClosed(): void
  render(): string
}

export interface SwitchyardMetricsOptions {
  readonly version?: string
  readonly runtime?: string
  /** Distinct values per label before `other`; default 64. */
  readonly maxLabelValues?: number
}

/** Register every ccr_* metric plus switchyard_build_info on a fresh registry. */
export function createSwitchyardMetrics(options: SwitchyardMetricsOptions = {}): SwitchyardMetrics {
  const r = new Registry()
  const cap = { maxLabelValues: options.maxLabelValues ?? 64 }
  const tierOpt = { ...cap, labelNames: ['tier'] }
  const f = {
    requests: r.counter('ccr_requests_total', 'Requests served, by tier that answered', tierOpt),
    requestDuration: r.histogram(
      'ccr_request_duration_seconds',
      'Request duration from arrival to last byte',
      DURATION_BUCKETS,
      tierOpt,
    ),
    failures: r.counter('ccr_failures_total', 'Failed upstream attempts by reason', {
      ...cap,
      labelNames: ['tier', 'reason'],
    }),
    inputTokens: r.counter('ccr_input_tokens_total', 'Input tokens reported by upstreams', tierOpt),
    outputTokens: r.counter('ccr_output_tokens_total', 'Output tokens reported by upstreams', tierOpt),
    ewmaLatency: r.gauge('ccr_tier_ewma_latency_seconds', 'EWMA latency per tier', tierOpt),
    ttft: r.histogram('ccr_ttft_seconds', 'Time to first token', TTFT_BUCKETS, tierOpt),
    outputTokensPerSecond: r.gauge(
      'ccr_output_tokens_per_second',
      'Output tokens per second of the last stream',
      tierOpt,
    ),
    preRequestTokens: r.counter('ccr_pre_request_tokens_total', 'Pre-request token estimates (cl100k_base)', tierOpt),
    tokenDrift: r.gauge(
      'ccr_token_drift_pct',
      'Last drift between estimate and reported input tokens, percent',
      tierOpt,
    ),
    driftAlerts: r.counter('ccr_token_drift_alerts_total', 'Token drift alerts by level', {
      ...cap,
      labelNames: ['tier', 'level'],
    }),
    rateLimitHits: r.counter('ccr_rate_limit_hits_total', 'Upstream 429 answers', tierOpt),
    retries: r.counter('ccr_retries_total', 'Retries of the same target', tierOpt),
    circuitState: r.gauge('ccr_circuit_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open', {
      ...cap,
      labelNames: ['target'],
    }),
    costUsd: r.counter('ccr_cost_usd_total', 'Cost in USD of requests with a known price', tierOpt),
    streamContinuations: r.counter(
      'ccr_stream_continuations_total',
      'Streams broken after the commit point: completed or failed after a continuation, or refused one',
      { ...cap, labelNames: ['outcome'] },
    ),
  }
  const g = {
    activeStreams: r.gauge('ccr_active_streams', 'Streams in flight').unlabelled,
    peakActiveStreams: r.gauge('ccr_peak_active_streams', 'Most streams in flight at once since start').unlabelled,
    cacheReadTokens: r.counter('ccr_cache_read_tokens_total', 'Cache-read input tokens').unlabelled,
    cacheCreationTokens: r.counter('ccr_cache_creation_tokens_total', 'Cache-creation input tokens').unlabelled,
    backpressure: r.counter('ccr_stream_backpressure_total', 'Times a client was slower than its upstream').unlabelled,
    rejectedStreams: r.counter('ccr_rejected_streams_total', 'Streams rejected at the max-streams limit').unlabelled,
    openSockets: r.gauge('switchyard_websockets_open', 'WebSocket connections open (the Responses API WebSocket mode)')
      .unlabelled,
  }
  r.gauge('switchyard_build_info', 'Build information', { labelNames: ['version', 'runtime'] })
    .labels(options.version ?? 'dev', options.runtime ?? 'unknown').set(1)
  return { registry: r, ...f, ...g, ...streamsAndTiers(f, g), render: () => r.render() }
}

type Families = {
  requests: Counter
  requestDuration: Histogram
  inputTokens: Counter
  outputTokens: Counter
  ttft: Histogram
  ewmaLatency: Gauge
  outputTokensPerSecond: Gauge
  preRequestTokens: Counter
  tokenDrift: Gauge
  rateLimitHits: Counter
  retries: Counter
  costUsd: Counter
}

function streamsAndTiers(f: Families, g: { activeStreams: GaugeHandle; peakActiveStreams: GaugeHandle }) {
  const tiers = new Map<string, TierMetrics>()
  let active = 0
  let peak = 0
  return {
    tier(id: string): TierMetrics {
      let t = tiers.get(id)
      if (t === undefined) {
        t = {
          requests: f.requests.labels(id),
          duration: f.requestDuration.labels(id),
          inputTokens: f.inputTokens.labels(id),
          outputTokens: f.outputTokens.labels(id),
          ttft: f.ttft.labels(id),
          ewmaLatency: f.ewmaLatency.labels(id),
          outputTokensPerSecond: f.outputTokensPerSecond.labels(id),
          preRequestTokens: f.preRequestTokens.labels(id),
          drift: f.tokenDrift.labels(id),
          rateLimitHits: f.rateLimitHits.labels(id),
          retries: f.retries.labels(id),
          costUsd: f.costUsd.labels(id),
        }
        // Bounded like the labels: past the cap, ids share the `other` handles and are not cached.
        if (tiers.size < 1024) tiers.set(id, t)
      }
      return t
    },
    streamOpened(): void {
      active++
      g.activeStreams.set(active)
      if (active > peak) g.peakActiveStreams.set(peak = active)
    },
    streamClosed(): void {
      active = Math.max(0, active - 1)
      g.activeStreams.set(active)
    },
  }
}
