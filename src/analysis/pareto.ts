/**
 * The cost–performance frontier: the targets no other target beats on every axis at once
 * (lower latency, higher tokens/s, higher success rate, lower cost), and the suggestions a
 * frontier implies for a scenario's current target. Suggestions are text and numbers only:
 * nothing here (or anywhere) changes the config.
 */

export interface Candidate {
  readonly target: string
  readonly latencyMs: number
  /** Undefined when unknown (non-streamed traffic only): the axis is skipped for this pair. */
  readonly tokensPerSec?: number
  readonly successRate: number
  /** USD per 1k tokens; undefined when the price is unknown. */
  readonly costPer1k?: number
  readonly requests: number
}

/** True when `a` is at least as good as `b` on every axis both have and strictly better on one. */
export function dominates(a: Candidate, b: Candidate): boolean {
  const axes: [number | undefined, number | undefined, 1 | -1][] = [
    [a.latencyMs, b.latencyMs, -1],
    [a.tokensPerSec, b.tokensPerSec, 1],
    [a.successRate, b.successRate, 1],
    [a.costPer1k, b.costPer1k, -1],
  ]
  let better = false
  for (const [x, y, sign] of axes) {
    if (x === undefined || y === undefined) continue
    const d = sign * (x - y)
    if (d < 0) return false
    if (d > 0) better = true
  }
  return better
}

/** The Pareto set: candidates no other candidate dominates, in input order. */
export function paretoFrontier<C extends Candidate>(cs: readonly C[]): C[] {
  return cs.filter((c) => !cs.some((o) => o !== c && dominates(o, c)))
}

export interface Suggestion {
  readonly scenario: string
  readonly current: string
  readonly suggested: string
  /** current latency / suggested latency. */
  readonly speedup: number
  /** suggested cost / current cost, when both are known. */
  readonly costRatio?: number
  readonly successDelta: number
  readonly text: string
}

export interface SuggestOptions {
  readonly scenario: string
  readonly current: string
  /** e.g. "7 days". */
  readonly windowLabel: string
  /** Least speedup worth a suggestion when the cost is not lower; default 1.5. */
  readonly minSpeedup?: number
  /** How much lower a success rate may be and still count as "the same"; default 0.01. */
  readonly successTolerance?: number
  /** Fewest requests a candidate needs to be suggested; default 20. */
  readonly minRequests?: number
}

const pct = (x: number) => `${Math.round(x * 100)} %`

/**
 * A suggestion to replace the scenario's current target by a frontier target that is not worse
 * on success rate and is either clearly faster at no more cost, or cheaper at no less speed.
 */
export function suggest(
  frontier: readonly Candidate[],
  all: readonly Candidate[],
  o: SuggestOptions,
): Suggestion | undefined {
  const cur = all.find((c) => c.target === o.current)
  if (!cur) return undefined
  const tol = o.successTolerance ?? 0.01
  const minSpeedup = o.minSpeedup ?? 1.5
  const options = frontier
    .filter((c) =>
      c.target !== cur.target && c.requests >= (o.minRequests ?? 20) && c.successRate >= cur.successRate - tol
    )
    .map((c) => ({
      c,
      speedup: cur.latencyMs / Math.max(1e-9, c.latencyMs),
      costRatio: c.costPer1k !== undefined && cur.costPer1k ? c.costPer1k / cur.costPer1k : undefined,
    }))
    .filter((x) =>
      (x.speedup >= minSpeedup && (x.costRatio === undefined || x.costRatio <= 1)) ||
      (x.costRatio !== undefined && x.costRatio <= 0.7 && x.speedup >= 1)
    )
    .sort((a, b) => b.speedup / (b.costRatio ?? 1) - a.speedup / (a.costRatio ?? 1))
  const best = options[0]
  if (!best) return undefined
  const delta = best.c.successRate - cur.successRate
  const same = Math.abs(delta) <= tol
    ? 'the same success rate'
    : `a success rate ${delta > 0 ? 'higher' : 'lower'} by ${Math.abs(Math.round(delta * 1000) / 10)} points`
  const cost = best.costRatio === undefined ? 'at an unknown cost' : `at ${pct(best.costRatio)} of the cost`
  const text = `${o.scenario}: ${best.c.target} is ${
    best.speedup.toFixed(1)
  }× faster ${cost} of ${cur.target} over ${o.windowLabel} with ${same}; consider making it the ${o.scenario} target`
  return {
    scenario: o.scenario,
    current: cur.target,
    suggested: best.c.target,
    speedup: best.speedup,
    ...(best.costRatio === undefined ? {} : { costRatio: best.costRatio }),
    successDelta: delta,
    text,
  }
}
