/**
 * Ordering scored targets without herding every request onto the argmin.
 *
 * 1. Sort by score, best first (ties keep input order).
 * 2. The "band" is every target within `band` of the best score. The head of the order is
 *    drawn from it by power-of-two choices: two draws weighted by score (with replacement),
 *    and the one with the lower load wins, load = inFlight / score. Equal targets thus share
 *    traffic, and a busy one sheds load to its peers.
 * 3. With probability `exploreShare`, a target marked `explore` (new, recovered or stale)
 *    goes first instead, so its measurements refresh; its share is capped at `exploreShare`.
 * The rest keep score order, so they remain the failover sequence.
 */
import type { Scored } from './types.ts'

export interface SelectOptions {
  /** Score distance from the best within which targets share traffic (e.g. 0.05). */
  readonly band: number
  /** Fraction of requests that may go to an `explore` target first (e.g. 0.05). */
  readonly exploreShare: number
}

function pickWeighted(items: readonly Scored[], random: () => number): Scored | undefined {
  const weights = items.map((s) => Math.max(1e-6, s.score))
  const total = weights.reduce((a, b) => a + b, 0)
  let r = Math.min(0.999_999_999, Math.max(0, random())) * total
  for (let i = 0; i < items.length; i++) {
    r -= weights[i] ?? 0
    if (r < 0) return items[i]
  }
  return items[items.length - 1]
}

function load(s: Scored): number {
  return s.inFlight / Math.max(1e-6, s.score)
}

/** Power of two choices inside the band: the less loaded of two score-weighted draws. */
function pickHead(band: readonly Scored[], random: () => number): Scored | undefined {
  if (band.length <= 1) return band[0]
  const a = pickWeighted(band, random)
  const b = pickWeighted(band, random)
  if (!a || !b) return a ?? b
  return load(b) < load(a) ? b : a
}

function moveToFront(order: readonly Scored[], head: Scored | undefined): readonly Scored[] {
  if (!head) return order
  return [head, ...order.filter((s) => s !== head)]
}

/**
 * Orders targets for one request: a permutation of `scored`, deterministic for a given
 * `random`. See the module comment for the rules.
 * @example select(scored, { band: 0.05, exploreShare: 0.05 }, seededRandom(1))
 */
export function select(scored: readonly Scored[], opts: SelectOptions, random: () => number): readonly Scored[] {
  const sorted = scored.map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.score - a.s.score || a.i - b.i)
    .map((x) => x.s)
  const explorers = sorted.filter((s) => s.explore)
  if (explorers.length > 0 && explorers.length < sorted.length && random() < opts.exploreShare) {
    const pick = explorers[Math.min(explorers.length - 1, Math.floor(random() * explorers.length))]
    return moveToFront(sorted, pick)
  }
  const best = sorted[0]?.score ?? 0
  const band = sorted.filter((s) => s.score >= best - Math.max(0, opts.band))
  return moveToFront(sorted, pickHead(band, random))
}
