/**
 * Arm assignment for routing experiments. A session (Claude Code's session id) always lands on
 * the same arm of an experiment: its id and the experiment's are hashed (FNV-1a) to a point in
 * [0, 100), and the arms own consecutive slices of that range by their percents. A request
 * with no session id gets a point from the caller's `random`. Stopped arms give their slice to
 * the arms still running, in proportion to theirs.
 */

export interface Arm {
  readonly name: string
  readonly percent: number
}

/** FNV-1a, 32 bits. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** The point in [0, 100) of a session in an experiment. */
export function sessionPoint(experimentId: string, sessionId: string): number {
  return (fnv1a(`${experimentId}\u0000${sessionId}`) / 4294967296) * 100
}

/** The arm owning `point` in [0, 100) among the arms not in `stopped`; undefined when all are stopped. */
export function armAt<A extends Arm>(
  arms: readonly A[],
  point: number,
  stopped: ReadonlySet<string> = new Set(),
): A | undefined {
  const live = arms.filter((a) => !stopped.has(a.name) && a.percent > 0)
  const total = live.reduce((s, a) => s + a.percent, 0)
  if (total <= 0) return undefined
  let edge = 0
  const p = (Math.min(Math.max(point, 0), 100 - 1e-9) / 100) * total
  for (const a of live) {
    edge += a.percent
    if (p < edge) return a
  }
  return live[live.length - 1]
}
