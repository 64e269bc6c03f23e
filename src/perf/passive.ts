/**
 * Adapter from the routing table's per-target snapshot (src/routing/target-stats.ts) to the score's
 * PassiveSample, so the lead can pass `(t) => passiveFromSnapshot(stats.snapshot(t, now()))`.
 */
import type { TargetSnapshot } from '../routing/types.ts'
import type { PassiveSample } from './score.ts'

/** The live-traffic figures of one target, as the performance score reads them. */
export function passiveFromSnapshot(s: TargetSnapshot): PassiveSample {
  return {
    samples: s.samples,
    ...(s.latencyMs !== undefined ? { ewmaLatencyMs: s.latencyMs } : {}),
    ...(s.ttftMs !== undefined ? { ewmaTtftMs: s.ttftMs } : {}),
    ...(s.tokensPerSec !== undefined ? { tokensPerSec: s.tokensPerSec } : {}),
    ...(s.errorRate !== undefined ? { successRate: 1 - s.errorRate } : {}),
    ...(s.lastFinishedAt !== undefined ? { lastAt: s.lastFinishedAt } : {}),
  }
}
