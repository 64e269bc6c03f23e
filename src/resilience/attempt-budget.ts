/**
 * How long one upstream try may stay silent. Pure: the pipeline passes the time left, the
 * target's measured time-to-first-event and the request's size.
 *
 * - **Per-attempt budget.** A try with another candidate after it may use at most
 *   `ATTEMPT_SHARE` of the time left before the client's deadline, so a target that accepts
 *   the connection and then says nothing is abandoned while the next one can still answer.
 *   The last candidate may use all of it.
 * - **Adaptive first event.** Once a target has `minSamples` measured first events, its
 *   first-event timeout is `ADAPTIVE_FACTOR × (mean + 4 × mean deviation)` of its own
 *   time-to-first-event, plus a prefill allowance for the request's input size, clamped to
 *   `[firstTokenFloorMs, firstTokenTimeoutMs]`. Before that (or with `adaptiveFirstToken:
 *   false`) it is `firstTokenTimeoutMs`, as configured.
 */

/** Share of the time left that a try may use when another candidate comes after it. */
export const ATTEMPT_SHARE = 0.5

/** mean + 4·deviation covers nearly every first event of a steady target (the TCP RTO rule). */
const DEVIATIONS = 4

/** Headroom over that: a spike up to twice the usual worst case is still waited out. */
export const ADAPTIVE_FACTOR = 2

/**
 * Prefill speed assumed for the prompt beyond what the history shows: slower than hosted
 * models prefill, so a 150k-token prompt gets 30 s more rather than being cut off.
 */
export const PREFILL_FLOOR_TOKENS_PER_SEC = 5_000

/** What the stats table knows about a target's first events. */
export interface FirstEventHistory {
  /** Finished attempts of the target (the adaptive rule waits for `minSamples` of them). */
  readonly samples: number
  /** EWMA of the time from the start of a try to its first content event. */
  readonly ttftMs?: number
  /** EWMA of the absolute deviation of that time from its mean. */
  readonly ttftDevMs?: number
}

export interface FirstEventPolicy {
  /** The configured first-token timeout: the ceiling, and the bound until there is history. */
  readonly firstTokenTimeoutMs: number
  /** The adaptive bound never goes below this (nor above the ceiling). */
  readonly firstTokenFloorMs: number
  readonly adaptiveFirstToken: boolean
  readonly minSamples: number
}

/**
 * The first-event timeout for a stream to a target with history `h`.
 * @example firstEventTimeoutMs({ samples: 9, ttftMs: 400, ttftDevMs: 100 }, 0, policy) // 1 600, raised to the floor
 */
export function firstEventTimeoutMs(
  h: FirstEventHistory | undefined,
  inputTokens: number,
  p: FirstEventPolicy,
): number {
  const ceiling = p.firstTokenTimeoutMs
  if (!p.adaptiveFirstToken || h?.ttftMs === undefined || h.samples < Math.max(1, p.minSamples)) return ceiling
  const usualWorst = h.ttftMs + DEVIATIONS * (h.ttftDevMs ?? h.ttftMs / 2)
  const prefill = (Math.max(0, inputTokens) / PREFILL_FLOOR_TOKENS_PER_SEC) * 1_000
  return Math.min(ceiling, Math.max(Math.min(p.firstTokenFloorMs, ceiling), ADAPTIVE_FACTOR * usualWorst + prefill))
}

/**
 * The time after which a stream that has sent no first event is slower than usual for its
 * target (mean + 2 deviations, roughly its p95): when hedging, the next candidate starts then.
 * Undefined without history.
 */
export function slowFirstEventMs(h: FirstEventHistory | undefined, minSamples: number): number | undefined {
  if (h?.ttftMs === undefined || h.samples < Math.max(1, minSamples)) return undefined
  return h.ttftMs + 2 * (h.ttftDevMs ?? h.ttftMs / 2)
}

/** The time a try may take out of `leftMs` when `hasNext` says another candidate follows it. */
export function attemptShareMs(leftMs: number, hasNext: boolean): number {
  return hasNext ? Math.max(1, Math.floor(leftMs * ATTEMPT_SHARE)) : leftMs
}
