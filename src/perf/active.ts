/**
 * The active test results routing reads on every request, kept in memory: the store is
 * queried when tests finish (and on a slow timer for imports and deletes), never per request.
 */
import type { TargetMetrics } from './aggregate.ts'
import type { ActiveSample } from './score.ts'

export class ActiveResults {
  readonly #load: () => readonly TargetMetrics[]
  #byTarget = new Map<string, ActiveSample>()

  constructor(load: () => readonly TargetMetrics[]) {
    this.#load = load
    this.refresh()
  }

  /** Re-reads every target's aggregate from the store. */
  refresh(): void {
    const next = new Map<string, ActiveSample>()
    for (const m of this.#load()) {
      next.set(m.target, {
        successRate: m.successRate,
        lastTested: m.lastTested,
        testCount: m.testCount,
        ...(m.avgLatencyMs === undefined ? {} : { avgLatencyMs: m.avgLatencyMs }),
        ...(m.avgTtftMs === undefined ? {} : { avgTtftMs: m.avgTtftMs }),
        ...(m.tokensPerSec === undefined ? {} : { tokensPerSec: m.tokensPerSec }),
      })
    }
    this.#byTarget = next
  }

  get(target: string): ActiveSample | undefined {
    return this.#byTarget.get(target)
  }

  get size(): number {
    return this.#byTarget.size
  }
}
