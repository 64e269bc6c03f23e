/**
 * The four test types and how each one is run against a target. A runner only shapes the
 * requests and summarises the runs; sending (budget, timeout, the sender itself) is the
 * engine's `GatedSend`, so these functions hold no policy and are easy to test.
 */
import type { JsonObject } from '../formats/types.ts'
import { estimatePromptTokens, probeBody, PROMPTS } from './prompts.ts'
import type { PromptSize } from './prompts.ts'
import { summarizeRuns, tokensPerSecond } from './run-stats.ts'
import type { ProbeOutcome, RunRecord, TestResult, TestType } from './types.ts'

/** How one test type is run: which prompt, streamed or not, how many requests at once. */
export interface TestPlan {
  readonly prompt: PromptSize
  readonly stream: boolean
  /** Requests sent together in one round (1 except for `concurrent`). */
  readonly parallel: number
}

export const TEST_PLANS: Readonly<Record<TestType, TestPlan>> = {
  // Health: the smallest request that proves the target answers with a well-formed message.
  health: { prompt: 'minimal', stream: false, parallel: 1 },
  // Latency: a short streamed prompt, so TTFT and total time are both seen.
  latency: { prompt: 'short', stream: true, parallel: 1 },
  // Throughput: a longer generation, so tokens/s is dominated by streaming, not by TTFT.
  throughput: { prompt: 'medium', stream: true, parallel: 1 },
  // Concurrent: the latency prompt, N at once, to see latency under load.
  concurrent: { prompt: 'short', stream: true, parallel: 4 },
}

/** The engine's answer to a send: the probe outcome, or a refusal that stops the test. */
export type GatedOutcome =
  | { readonly kind: 'done'; readonly outcome: ProbeOutcome }
  | { readonly kind: 'refused'; readonly reason: string }

/** Sends one body to a target after reserving `reserveTokens` of budget. */
export type GatedSend = (target: string, body: JsonObject, reserveTokens: number) => Promise<GatedOutcome>

export interface TestRunOptions {
  readonly send: GatedSend
  readonly now: () => number
  /** Rounds per test (several runs give p50/p95/p99). */
  readonly runs: number
  /** Cap on max_tokens of every test request (cost guard). */
  readonly maxTokens: number
  /** Overrides the `concurrent` test's parallelism. */
  readonly concurrency?: number
}

/** A successful answer must carry output; an empty 200 is not healthy. */
function checkWellFormed(o: ProbeOutcome): ProbeOutcome {
  if (o.ok && o.outputTokens <= 0) return { ...o, ok: false, error: o.error ?? 'answer carried no output tokens' }
  return o
}

function toRecord(target: string, type: TestType, at: number, o: ProbeOutcome): RunRecord {
  const tps = o.ok ? tokensPerSecond(o) : undefined
  return { ...o, target, type, at, ...(tps !== undefined ? { tokensPerSec: tps } : {}) }
}

/**
 * Run one test type against one target: `runs` rounds of `parallel` requests, stopping early
 * when the engine refuses a send (budget exhausted, engine stopping).
 */
export async function runTest(type: TestType, target: string, opts: TestRunOptions): Promise<TestResult> {
  const plan = TEST_PLANS[type]
  const spec = PROMPTS[plan.prompt]
  const body = probeBody(spec, { model: target, stream: plan.stream, cap: opts.maxTokens })
  const reserveTokens = estimatePromptTokens(spec) + (body.max_tokens as number)
  const parallel = type === 'concurrent' ? Math.max(1, opts.concurrency ?? plan.parallel) : plan.parallel
  const startedAt = opts.now()
  const runs: RunRecord[] = []
  let stoppedReason: string | undefined
  for (let round = 0; round < Math.max(1, opts.runs) && stoppedReason === undefined; round++) {
    const at = opts.now()
    const answers = await Promise.all(Array.from({ length: parallel }, () => opts.send(target, body, reserveTokens)))
    for (const a of answers) {
      if (a.kind === 'refused') stoppedReason = a.reason
      else runs.push(toRecord(target, type, at, checkWellFormed(a.outcome)))
    }
  }
  return {
    target,
    type,
    startedAt,
    finishedAt: opts.now(),
    runs,
    ...summarizeRuns(runs),
    ...(stoppedReason !== undefined ? { stoppedReason } : {}),
  }
}
