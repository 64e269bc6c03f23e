/**
 * A ProbeSender with known latency and speed profiles, for tests and local demos of the
 * engine without an upstream. It reports the profile's figures as measured values (no clock
 * reads), optionally waits `realDelayMs` so concurrency is observable, and records every call.
 */
import type { ProbeOutcome, ProbeRequest, ProbeSender } from '../../src/perf/types.ts'

export interface FakeProfile {
  readonly ttftMs: number
  /** Milliseconds per output token after the first. */
  readonly perTokenMs: number
  /** Fail every n-th call (1 = always); 0 or unset never fails. */
  readonly failEvery?: number
  /** Return ok with no output (a malformed answer). */
  readonly empty?: boolean
  /** Never answer (until the signal aborts). */
  readonly hang?: boolean
}

export interface FakeSender {
  readonly send: ProbeSender
  readonly calls: ProbeRequest[]
  /** Highest number of calls in flight at once. */
  maxInFlight(): number
}

/** A sender answering each target with its profile; unknown targets get a 404-like failure. */
export function createFakeSender(profiles: Readonly<Record<string, FakeProfile>>, realDelayMs = 0): FakeSender {
  const calls: ProbeRequest[] = []
  let inFlight = 0
  let peak = 0
  const send: ProbeSender = async (req) => {
    calls.push(req)
    inFlight++
    peak = Math.max(peak, inFlight)
    try {
      const p = profiles[req.target]
      if (p?.hang) return await hangUntilAbort(req.signal)
      if (realDelayMs > 0) await new Promise((r) => setTimeout(r, realDelayMs))
      if (!p) return { ok: false, status: 404, error: `unknown target ${req.target}`, totalMs: 1, outputTokens: 0 }
      return outcomeOf(p, req, calls.filter((c) => c.target === req.target).length)
    } finally {
      inFlight--
    }
  }
  return { send, calls, maxInFlight: () => peak }
}

function outcomeOf(p: FakeProfile, req: ProbeRequest, n: number): ProbeOutcome {
  if (p.failEvery && n % p.failEvery === 0) {
    return { ok: false, status: 503, error: 'overloaded', totalMs: p.ttftMs, outputTokens: 0 }
  }
  const tokens = p.empty ? 0 : Number(req.body.max_tokens)
  const totalMs = p.ttftMs + Math.max(0, tokens - 1) * p.perTokenMs
  return { ok: true, status: 200, ttftMs: p.ttftMs, totalMs, outputTokens: tokens, inputTokens: 20 }
}

function hangUntilAbort(signal: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const done = (): void => resolve({ ok: false, error: 'aborted', totalMs: 0, outputTokens: 0 })
    if (signal.aborted) done()
    else signal.addEventListener('abort', done, { once: true })
  })
}
