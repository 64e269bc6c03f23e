/**
 * Same-format requests whose upstream body differs from the client's only in `model` are sent
 * as the client's own JSON text with the model value replaced, instead of serialising the
 * parsed body again (JSON.stringify of an 850 KB agent conversation costs about 0.75 ms; the
 * scan below 0.1 ms).
 *
 * The splice is safe only at the top-level `"model"` key that JSON.parse read, so it is used
 * only when: every other top-level value of the upstream body is the very value parsed from the
 * client (nothing was rewritten, added or dropped); a walk of the text's structure (strings
 * jumped over) finds exactly one top-level key spelled `"model"` and no top-level key with an
 * escape (which could spell it another way, or a duplicate); and the value there is the string
 * the client sent. `"model"` keys deeper down do not matter: Claude Code's tools have one (the
 * Agent tool's `model` parameter), so a check of the whole text for a single `"model"` would
 * refuse nearly every request it sends. Anything else falls back to JSON.stringify.
 */
import type { JsonObject } from '../formats/types.ts'
import { closingQuote } from '../lib/json-text.ts'

/** The upstream body as text when only `model` changed, else undefined (the caller serialises). */
export function passthroughText(raw: string, client: JsonObject, upstream: JsonObject): string | undefined {
  const model = upstream.model
  if (typeof model !== 'string' || typeof client.model !== 'string') return undefined
  let keys = 0
  for (const k in upstream) {
    keys++
    if (k !== 'model' && (upstream[k] !== client[k] || !Object.hasOwn(client, k))) return undefined
  }
  let clientKeys = 0
  for (const _ in client) clientKeys++
  if (keys !== clientKeys) return undefined
  const value = topLevelModel(raw)
  if (value === undefined) return undefined
  let sent: unknown
  try {
    sent = JSON.parse(raw.slice(value.start, value.end + 1))
  } catch {
    return undefined
  }
  if (sent !== client.model) return undefined
  return raw.slice(0, value.start) + JSON.stringify(model) + raw.slice(value.end + 1)
}

/**
 * Where the string value of the top-level `"model"` key of a JSON object's text is (its quotes
 * included), or undefined: no such key, two of them, a top-level key written with an escape, or
 * a value that is not a string. The text is valid JSON (the client's body parsed from it).
 */
function topLevelModel(raw: string): { start: number; end: number } | undefined {
  let found: { start: number; end: number } | undefined
  let depth = 0
  // Inside the top-level object, whether the next string is a key (after `{` or `,`).
  let keyNext = false
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c === 0x22) {
      const end = closingQuote(raw, i)
      if (end === -1) return undefined
      if (depth === 1 && keyNext) {
        keyNext = false
        const key = raw.slice(i + 1, end)
        if (key.includes('\\')) return undefined
        if (key === 'model') {
          if (found !== undefined) return undefined
          const start = skipSpace(raw, skipSpace(raw, end + 1) + 1)
          if (raw.charCodeAt(start) !== 0x22) return undefined
          const valueEnd = closingQuote(raw, start)
          if (valueEnd === -1) return undefined
          found = { start, end: valueEnd }
          i = valueEnd
          continue
        }
      }
      i = end
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth === 1) keyNext = c === 0x7b
    } else if (c === 0x7d || c === 0x5d) depth--
    else if (c === 0x2c && depth === 1) keyNext = true
  }
  return found
}

function skipSpace(raw: string, i: number): number {
  for (let c = raw.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = raw.charCodeAt(++i));
  return i
}
