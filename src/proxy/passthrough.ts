/**
 * Same-format requests whose upstream body differs from the client's only in `model` are sent
 * as the client's own JSON text with the model value replaced, instead of serialising the
 * parsed body again (JSON.stringify of an 850 KB agent conversation costs about 0.75 ms; the
 * checks below cost a few native substring searches).
 *
 * The splice is safe only where the text's one `"model"` key is the top-level one, so it is
 * used only when: every other top-level value of the upstream body is the very value parsed
 * from the client (nothing was rewritten, added or dropped); the text holds no `\u006…` escape
 * (the only way to spell a key "model" other than literally); exactly one `"model"` key token
 * appears in the whole text (so there is no nested or duplicate one); and the value found there
 * is the string the client sent. Anything else falls back to JSON.stringify.
 */
import type { JsonObject } from '../formats/types.ts'

const KEY = '"model"'
const TAIL = KEY.slice(1)

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
  if (raw.includes('\\u006')) return undefined
  let found = -1
  // Searched from its second character: engines scan for the first one, and `"` is everywhere in JSON.
  for (let at = raw.indexOf(TAIL, 1) - 1; at !== -2; at = raw.indexOf(TAIL, at + KEY.length) - 1) {
    if (raw.charCodeAt(at) !== 0x22 || !isKeyToken(raw, at)) continue
    if (found !== -1) return undefined
    found = at
  }
  if (found === -1) return undefined
  const colon = skipSpace(raw, found + KEY.length)
  const start = skipSpace(raw, colon + 1)
  if (raw.charCodeAt(start) !== 0x22) return undefined
  const end = stringEnd(raw, start)
  if (end === -1) return undefined
  let value: unknown
  try {
    value = JSON.parse(raw.slice(start, end + 1))
  } catch {
    return undefined
  }
  if (value !== client.model) return undefined
  return raw.slice(0, start) + JSON.stringify(model) + raw.slice(end + 1)
}

/**
 * Whether the `"model"` at `at` is a key: its opening quote is not escaped (an even number of
 * backslashes before it) and a colon follows. In valid JSON such a quote opens a string token.
 */
function isKeyToken(raw: string, at: number): boolean {
  let slashes = 0
  for (let i = at - 1; i >= 0 && raw.charCodeAt(i) === 0x5c; i--) slashes++
  return slashes % 2 === 0 && raw.charCodeAt(skipSpace(raw, at + KEY.length)) === 0x3a
}

function skipSpace(raw: string, i: number): number {
  for (let c = raw.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = raw.charCodeAt(++i));
  return i
}

/** The index of the closing quote of the JSON string opening at `start`, or -1. */
function stringEnd(raw: string, start: number): number {
  for (let i = start + 1; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x22) return i
  }
  return -1
}
