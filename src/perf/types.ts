/**
 * Shared shapes of the active performance tester: what a probe sends and gets back, one run's
 * record, and a test's summary. Plain data so the store, the routes and the CLI agree on them.
 */
import type { JsonObject } from '../formats/types.ts'

export type TestType = 'latency' | 'throughput' | 'concurrent' | 'health'

/** Every test type, in the order the engine runs them for one target. */
export const TEST_TYPES: readonly TestType[] = ['health', 'latency', 'throughput', 'concurrent']

/** One request the engine asks the proxy's upstream path to send. */
export interface ProbeRequest {
  /** `"provider,model"`, as in CCR config. */
  readonly target: string
  /** An Anthropic Messages request body (stream true or false). */
  readonly body: JsonObject
  readonly signal: AbortSignal
}

/** What came back from one probe; never thrown, failures are `ok: false`. */
export interface ProbeOutcome {
  readonly ok: boolean
  readonly status?: number
  readonly error?: string
  readonly ttftMs?: number
  readonly totalMs: number
  readonly outputTokens: number
  readonly inputTokens?: number
}

/**
 * Sends one probe through the proxy's upstream path (translation, auth, the provider's own
 * rate limits), so tests yield to the target's limits like live traffic does.
 */
export type ProbeSender = (req: ProbeRequest) => Promise<ProbeOutcome>

/** One request of one test, as kept in history: the probe's outcome plus where and when. */
export interface RunRecord extends ProbeOutcome {
  readonly target: string
  readonly type: TestType
  /** Epoch ms when the run started. */
  readonly at: number
  /** Output tokens per second of generation (after the first token when TTFT is known). */
  readonly tokensPerSec?: number
}

/** Summary statistics of a sample; every field is in the sample's own unit. */
export interface Distribution {
  readonly count: number
  readonly mean: number
  readonly min: number
  readonly max: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
}

/** The outcome of one test type against one target: its runs and their statistics. */
export interface TestResult {
  readonly target: string
  readonly type: TestType
  readonly startedAt: number
  readonly finishedAt: number
  readonly runs: readonly RunRecord[]
  readonly latencyMs?: Distribution
  readonly ttftMs?: Distribution
  readonly tokensPerSec?: Distribution
  /** Successful runs / runs (0 when no run happened). */
  readonly successRate: number
  /** Set when the test stopped early (budget exhausted, engine stopped). */
  readonly stoppedReason?: string
}
