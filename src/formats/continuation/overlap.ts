/**
 * How much of a continuation repeats what the client already has. Models asked to continue a
 * prefill often start by repeating its last words (or the word the cut split); that repeat is
 * trimmed so the client sees every character exactly once.
 */

/** A repeat at least this long is trimmed wherever it starts; a shorter one only at a word start. */
export const MIN_BLIND_OVERLAP = 4

/** The longest repeat looked for (and how much continuation text is held back to decide). */
export const MAX_OVERLAP = 256

const isSpace = (c: string | undefined) => c === ' ' || c === '\n' || c === '\t' || c === '\r'

/**
 * The length of the longest suffix of `received` that `continuation` starts with, counted only
 * when it is long enough to be no accident (`MIN_BLIND_OVERLAP`) or starts a word (after a
 * space, or with one): `"… [0012] [00"` + `"[0013]"` trims `"[00"`, while `"… [001"` +
 * `"1] …"` trims nothing (the model completed the tag).
 * @example overlapLength('the quick brown', 'brown fox') // 5
 */
export function overlapLength(received: string, continuation: string): number {
  const max = Math.min(received.length, continuation.length, MAX_OVERLAP)
  for (let n = max; n > 0; n--) {
    const at = received.length - n
    if (!received.endsWith(continuation.slice(0, n))) continue
    if (n >= MIN_BLIND_OVERLAP || at === 0 || isSpace(received[at - 1]) || isSpace(received[at])) return n
  }
  return 0
}
