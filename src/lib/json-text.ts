/**
 * Reading JSON text without parsing it: where a string ends. Shared by the depth guard
 * (json-depth.ts) and the pass-through splice (proxy/passthrough.ts), which both walk a body's
 * structure and jump over its strings: most of an agent's body is text, and `indexOf` finds the
 * next quote natively where a loop would look at every character.
 */

/**
 * The index of the quote that ends the JSON string opened at `open` (a quote not escaped, i.e.
 * preceded by an even run of backslashes), or -1 when it never ends.
 */
export function closingQuote(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q !== -1; q = text.indexOf('"', q + 1)) {
    // The opening quote stops the count, so it never runs past the string.
    let b = q - 1
    while (text.charCodeAt(b) === 92) b--
    if ((q - 1 - b) % 2 === 0) return q
  }
  return -1
}
