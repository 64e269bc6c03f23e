/**
 * Where a finished request goes: the access log line, metrics, the usage ledger, token drift
 * and the audit ring. One `request()` call per request, after its last byte.
 */
import type { Telemetry } from './deps.ts'
import type { Logger } from './log.ts'
import type { PlannedTarget, RequestTrace, TokenEstimate } from './proxy/types.ts'
import type { ProxyError } from './errors.ts'

export interface TelemetrySinks {
  readonly log: Logger
  /** Extra observers (metrics, ledger, drift), each called with the finished trace. */
  readonly observers?: readonly TraceObserver[]
  /** The price of a finished request (observability.ts); the log line and every observer see the same `costUsd`. */
  readonly costOf?: (trace: RequestTrace) => number | undefined
}

export interface TraceObserver {
  request?(trace: RequestTrace, tokens: TokenEstimate | undefined): void
  retried?(t: PlannedTarget): void
  attemptFailed?(t: PlannedTarget, e: ProxyError): void
  streamOpened?(active: number): void
  streamClosed?(active: number): void
  /** WebSockets open now, after one opened or closed. */
  socketsOpen?(open: number): void
  backpressure?(): void
  rejected?(): void
  continued?(outcome: 'completed' | 'failed' | 'refused'): void
}

export interface LiveTelemetry extends Telemetry {
  readonly activeStreams: () => number
  readonly peakStreams: () => number
}

export function createTelemetry(s: TelemetrySinks): LiveTelemetry {
  const obs = s.observers ?? []
  let active = 0
  let peak = 0
  let sockets = 0
  return {
    activeStreams: () => active,
    peakStreams: () => peak,
    streamOpened() {
      active++
      if (active > peak) peak = active
      for (const o of obs) o.streamOpened?.(active)
    },
    streamClosed() {
      active = Math.max(0, active - 1)
      for (const o of obs) o.streamClosed?.(active)
    },
    socketOpened() {
      sockets++
      for (const o of obs) o.socketsOpen?.(sockets)
    },
    socketClosed() {
      sockets = Math.max(0, sockets - 1)
      for (const o of obs) o.socketsOpen?.(sockets)
    },
    backpressure() {
      for (const o of obs) o.backpressure?.()
    },
    rejected() {
      for (const o of obs) o.rejected?.()
    },
    retried(t) {
      for (const o of obs) o.retried?.(t)
    },
    attemptFailed(t, e) {
      for (const o of obs) o.attemptFailed?.(t, e)
    },
    continued(outcome) {
      for (const o of obs) o.continued?.(outcome)
    },
    request(finished, tokens) {
      // Telemetry owns `costUsd`: it is set once here, so no observer's order changes what another sees.
      const cost = s.costOf?.(finished)
      const trace: RequestTrace = cost === undefined ? finished : { ...finished, costUsd: cost }
      for (const o of obs) o.request?.(trace, tokens)
      if (!s.log.enabled('info')) return
      const u = trace.usage
      // Ids, routes, timings and counts only: never message content or keys.
      s.log.info('request', {
        id: trace.id,
        format: trace.format,
        scenario: trace.scenario,
        target: trace.target,
        tier: trace.tier,
        attempts: trace.attempts,
        fallbacks: trace.fallbacks,
        status: trace.status,
        stream: trace.stream,
        ttfb_ms: round(trace.ttfbMs),
        duration_ms: round(trace.durationMs),
        est_input_tokens: trace.estimatedInputTokens,
        input_tokens: u?.inputTokens,
        output_tokens: u?.outputTokens,
        reasoning_tokens: u?.reasoningTokens,
        cache_read_tokens: u?.cacheReadTokens,
        cost_usd: trace.costUsd,
        failure: trace.failure,
        continued: trace.continued,
        rule: trace.rule,
        skipped: trace.skipped,
        cache: trace.cache,
        key_name: trace.apiKey,
        experiment: trace.experiment,
        session: trace.session,
      })
    },
  }
}

const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n * 10) / 10)
