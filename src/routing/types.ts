/**
 * Shapes shared by the routing modules: what the stats table reports about one target, and
 * what a scored target looks like. Plain readonly data, so `/v1/latencies` can serialise it.
 */
import type { BreakerState } from '../resilience/breaker.ts'

/** Why an attempt failed, as far as the target's health is concerned. */
export type FailureReason =
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'network'
  | 'stream_broken'
  /** The request's own fault (400, 413…) or the client went away: not held against the target. */
  | 'client_error'
  /** The attempt ended without succeed() or fail(): a bug or an exception in the caller. */
  | 'abandoned'

/** What the stats table knows about one target (`"provider,model"`) at a moment. */
export interface TargetSnapshot {
  readonly key: string
  /** Finished attempts that produced a latency sample (successes, and penalised failures). */
  readonly samples: number
  readonly latencyMs?: number
  /** Time to the first content token of streamed attempts. */
  readonly ttftMs?: number
  /** Mean absolute deviation of that time (the spread behind the adaptive first-event timeout). */
  readonly ttftDevMs?: number
  /** Output tokens per second after the first token, for streams. */
  readonly tokensPerSec?: number
  /** Successes and errors inside the sliding window. */
  readonly successes: number
  readonly errors: number
  /** errors / (successes + errors) in the window; undefined with no outcome in the window. */
  readonly errorRate?: number
  readonly inFlight: number
  /** Streams that broke after the commit point and were continued (absent: none). */
  readonly continued?: number
  readonly breaker: BreakerState
  /** When the last attempt finished, for staleness. */
  readonly lastFinishedAt?: number
}

/** The normalised components of a score, each in [0, 1] where 1 is best. */
export interface ScoreComponents {
  readonly latency: number
  readonly throughput: number
  readonly reliability: number
  readonly cost: number
}

export interface ScoreResult {
  /** Weighted mean of the components, in [0, 1]. */
  readonly score: number
  readonly components: ScoreComponents
  /** A threshold was crossed: the target goes after the others whatever its score. */
  readonly demoted: boolean
  readonly reason?: string
}

/** What `select` orders: a target with its score, load and whether it is due exploration. */
export interface Scored {
  readonly key: string
  readonly score: number
  readonly inFlight: number
  /** New, recovered or stale: gets a capped share of traffic to refresh its measurements. */
  readonly explore: boolean
}
