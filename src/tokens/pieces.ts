/**
 * Cuts text into pieces whose byte-pair encoding costs linear time in total.
 *
 * cl100k's pre-tokenizer makes one pre-token of a whole run of letters, of punctuation or of
 * whitespace, and BPE is quadratic in the length of a pre-token: 40 KB of one repeated
 * character took 2.5 s, 50 MB never finished. Runs longer than `MAX_RUN` characters are cut
 * every `MAX_RUN` characters, which adds at most one token per cut (real text rarely has such
 * runs: base64, minified code, long URLs). Long text is also sliced about every `SLICE`
 * characters, at a space that follows a non-space, where the pre-tokenizer splits anyway, so
 * on ordinary text the pieces' counts add up to the whole text's count exactly; the slices are
 * where a deadline can be checked.
 */

/** Longest run of non-whitespace (or of whitespace) handed to BPE as one piece. */
export const MAX_RUN = 256
/** Pieces are cut at the first clean boundary past this many characters. */
export const SLICE = 16_384

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/** A run longer than MAX_RUN; the native regex scan is several times faster than a char loop. */
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1}}|\\s{${MAX_RUN + 1}}`)

/** Whether `text` is one piece already (the common case: no allocation). */
export function isOnePiece(text: string): boolean {
  return text.length <= SLICE && !LONG_RUN.test(text)
}

/**
 * End offset of the piece of `text` that starts at `start` (`text.length` for the last one);
 * never splits a surrogate pair. Pieces are found one at a time so a caller that stops early
 * never scans the rest.
 */
export function pieceEnd(text: string, start: number): number {
  let runStart = start
  let space = isSpace(text.charCodeAt(start))
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const s = isSpace(c)
    if (s !== space) {
      space = s
      runStart = i
      // A space after a non-space: the pre-tokenizer starts a new pre-token here. Text with
      // no spaces at all is still sliced, at any change between space and non-space.
      if (i - start >= SLICE && (c === 32 || i - start >= 4 * SLICE)) return i
    } else if (i - runStart >= MAX_RUN && (c & 0xfc00) !== 0xdc00) return i
  }
  return text.length
}
