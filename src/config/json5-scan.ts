/**
 * Where every value of a JSON5 text sits: the one scanner behind editing the config as text
 * (config/edit.ts for `switchyard model`, config/write.ts for the dashboard and the API).
 * JSON5's own parser checks the syntax first, so a text this accepts is one the loader accepts.
 */
import JSON5 from 'json5'

export type Json5Node =
  | { readonly kind: 'object'; readonly start: number; readonly end: number; readonly members: Json5Member[] }
  | { readonly kind: 'array'; readonly start: number; readonly end: number; readonly items: Json5Node[] }
  | { readonly kind: 'scalar'; readonly start: number; readonly end: number; readonly value: unknown }

export interface Json5Member {
  readonly key: string
  readonly keyStart: number
  readonly value: Json5Node
  /** Just past the comma that follows the value, or past the value when there is none. */
  readonly end: number
  readonly comma: boolean
}

/** Where every value of a JSON5 text sits. Throws json5's own error for text that does not parse. */
export function scanJson5(text: string): Json5Node {
  JSON5.parse(text) // the authoritative syntax check, with line and column in its message
  let i = 0
  const skip = () => {
    for (;;) {
      const c = text[i]
      if (c === undefined) return
      if (/\s|\uFEFF/.test(c)) {
        i++
        continue
      }
      if (c === '/' && text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n') i++
        continue
      }
      if (c === '/' && text[i + 1] === '*') {
        const e = text.indexOf('*/', i + 2)
        i = e < 0 ? text.length : e + 2
        continue
      }
      return
    }
  }
  const stringEnd = (from: number) => {
    const q = text[from]
    let j = from + 1
    while (j < text.length && text[j] !== q) j += text[j] === '\\' ? 2 : 1
    return j + 1
  }
  const value = (): Json5Node => {
    skip()
    const start = i
    const c = text[i]
    if (c === '{') {
      i++
      const members: Json5Member[] = []
      for (;;) {
        skip()
        if (text[i] === '}') {
          i++
          return { kind: 'object', start, end: i, members }
        }
        const keyStart = i
        let key: string
        if (text[i] === '"' || text[i] === "'") {
          i = stringEnd(i)
          key = JSON5.parse(text.slice(keyStart, i)) as string
        } else {
          while (i < text.length && !/[\s:/]/.test(text[i]!)) i++
          key = text.slice(keyStart, i)
        }
        skip()
        i++ // ':'
        const v = value()
        skip()
        const comma = text[i] === ','
        if (comma) i++
        members.push({ key, keyStart, value: v, end: comma ? i : v.end, comma })
      }
    }
    if (c === '[') {
      i++
      const items: Json5Node[] = []
      for (;;) {
        skip()
        if (text[i] === ']') {
          i++
          return { kind: 'array', start, end: i, items }
        }
        items.push(value())
        skip()
        if (text[i] === ',') i++
      }
    }
    if (c === '"' || c === "'") i = stringEnd(i)
    else while (i < text.length && !/[\s,\]}/]/.test(text[i]!)) i++
    return { kind: 'scalar', start, end: i, value: JSON5.parse(text.slice(start, i)) }
  }
  return value()
}

export type Path = readonly (string | number)[]

/** The node at `path`, or the deepest one on the way there. */
export function nodeAt(root: Json5Node, path: Path): Json5Node {
  let n = root
  for (const p of path) {
    const next = n.kind === 'object'
      ? [...n.members].reverse().find((m) => m.key === String(p))?.value
      : n.kind === 'array' && typeof p === 'number'
      ? n.items[p]
      : undefined
    if (!next) return n
    n = next
  }
  return n
}

/** The node exactly at `path`, or undefined. */
export function exactNodeAt(root: Json5Node, path: Path): Json5Node | undefined {
  let cur: Json5Node = root
  for (const p of path) {
    const next: Json5Node | undefined = cur.kind === 'object'
      ? [...cur.members].reverse().find((m) => m.key === String(p))?.value
      : cur.kind === 'array' && typeof p === 'number'
      ? cur.items[p]
      : undefined
    if (!next) return undefined
    cur = next
  }
  return cur
}

/** The indentation of the line `offset` is on. */
export function indentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))![0]
}

/** Spans of every value, keyed by `JSON.stringify(path)` with array indexes as strings (a repeated key: its last one, as JSON5.parse reads it). */
export function valueSpans(text: string): Map<string, { readonly start: number; readonly end: number }> {
  const found = new Map<string, { start: number; end: number }>()
  const visit = (n: Json5Node, path: readonly string[]) => {
    found.set(JSON.stringify(path), { start: n.start, end: n.end })
    if (n.kind === 'object') { for (const m of n.members) visit(m.value, [...path, m.key]) }
    else if (n.kind === 'array') n.items.forEach((x, i) => visit(x, [...path, String(i)]))
  }
  visit(scanJson5(text), [])
  return found
}
