/**
 * Editing the config file without corrupting it: with the scanner's spans (json5-scan.ts) an
 * edit rewrites only the values that changed, and every comment,
 * `$VAR` reference, unknown key and key order elsewhere stays as written; and redaction of the
 * text for display and the way back (an unchanged redacted value is the value it stood for).
 * Files are written by config/edit.ts (atomic, with a backup).
 */
import { existsSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import JSON5 from 'json5'
import { formatPath } from './issues.ts'
import { REDACTED } from './redact.ts'
import { writeConfigFile } from './edit.ts'
import { exactNodeAt, indentAt, type Json5Node, nodeAt, type Path, scanJson5 } from './json5-scan.ts'

/** 1-based line of an offset. */
export const lineOf = (text: string, offset: number): number => text.slice(0, offset).split('\n').length

/** `Providers[1].api_key` → `['Providers', 1, 'api_key']` (the inverse of formatPath). */
export function parsePath(s: string): (string | number)[] {
  if (s === '(root)') return []
  return [...s.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!))
}

/** The line a `path: message` validation error points at in `text` (undefined when it cannot tell). */
export function lineOfIssue(text: string, message: string): number | undefined {
  const at = /at (\d+):\d+/.exec(message)
  if (at && message.includes('JSON5')) return Number(at[1])
  const colon = message.indexOf(': ')
  if (colon < 0) return undefined
  try {
    return lineOf(text, nodeAt(scanJson5(text), parsePath(message.slice(0, colon))).start)
  } catch {
    return undefined
  }
}

interface Edit {
  readonly start: number
  readonly end: number
  readonly text: string
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end)
  }
  return out
}

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** `value` as JSON, indented to continue a line that starts with `indent`. */
const render = (value: unknown, indent: string) => JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`)

function diff(text: string, node: Json5Node, value: unknown, edits: Edit[]): void {
  if (node.kind === 'object' && isPlain(value)) {
    const members = node.members
    const kept = members.filter((m) => Object.hasOwn(value, m.key))
    for (const m of members) {
      if (Object.hasOwn(value, m.key)) {
        diff(text, m.value, value[m.key], edits)
        continue
      }
      // Cut the member, with its line when it is alone there.
      const lineStart = text.lastIndexOf('\n', m.keyStart - 1) + 1
      const alone = /^[ \t]*$/.test(text.slice(lineStart, m.keyStart))
      const rest = /^[ \t]*(\/\/[^\n]*)?\n/.exec(text.slice(m.end))
      edits.push({ start: alone ? lineStart : m.keyStart, end: m.end + (alone && rest ? rest[0].length : 0), text: '' })
    }
    const lastKept = kept[kept.length - 1]
    const trailingComma = members[members.length - 1]?.comma ?? false
    const added = Object.keys(value).filter((k) => !members.some((m) => m.key === k))
    if (added.length === 0) {
      // The last member went: its predecessor must not keep a comma the file did not have.
      if (lastKept && lastKept.comma && !trailingComma && lastKept !== members[members.length - 1]) {
        edits.push({ start: lastKept.end - 1, end: lastKept.end, text: '' })
      }
      return
    }
    const indent = lastKept ? indentAt(text, lastKept.keyStart) : `${indentAt(text, node.start)}  `
    const lines = added.map((k) => `${JSON.stringify(k)}: ${render(value[k], indent)}`).join(`,\n${indent}`)
    if (lastKept) {
      edits.push({
        start: lastKept.end,
        end: lastKept.end,
        text: `${lastKept.comma ? '' : ','}\n${indent}${lines}${trailingComma ? ',' : ''}`,
      })
    } else if (members.length > 0) {
      edits.push({ start: node.start + 1, end: node.start + 1, text: `\n${indent}${lines}` })
    } else {edits.push({
        start: node.start + 1,
        end: node.end - 1,
        text: `\n${indent}${lines}\n${indentAt(text, node.start)}`,
      })}
    return
  }
  if (node.kind === 'array' && Array.isArray(value) && value.length === node.items.length) {
    node.items.forEach((n, k) => diff(text, n, value[k], edits))
    return
  }
  const current = node.kind === 'scalar' ? node.value : JSON5.parse(text.slice(node.start, node.end))
  if (same(current, value)) return
  edits.push({ start: node.start, end: node.end, text: render(value, indentAt(text, node.start)) })
}

/**
 * `text` rewritten to hold `value`, touching only what differs: changed scalars and arrays of a
 * new length are replaced, removed keys are cut, new keys appended; comments, formatting and the
 * order of everything else stay.
 * @example applyValue('{a: 1, // one\n b: "$K"}', { a: 2, b: '$K' }) // '{a: 2, // one\n b: "$K"}'
 */
export function applyValue(text: string, value: unknown): string {
  const edits: Edit[] = []
  diff(text, scanJson5(text), value, edits)
  return applyEdits(text, edits)
}

/** `text` with the one value at `path` set (objects on the way are created). */
export function setJson5Value(text: string, path: Path, value: unknown): string {
  const root = JSON5.parse(text) as unknown
  if (path.length === 0) return applyValue(text, value)
  let o = root as Record<string | number, unknown>
  for (const p of path.slice(0, -1)) {
    if (!isPlain(o[p]) && !Array.isArray(o[p])) o[p] = {}
    o = o[p] as Record<string | number, unknown>
  }
  o[path[path.length - 1]!] = value
  return applyValue(text, root)
}

/** Every node with its path, parents first; `f` returns true to visit the node's children. */
function walkNodes(
  node: Json5Node,
  path: (string | number)[],
  f: (n: Json5Node, path: (string | number)[]) => boolean,
): void {
  if (!f(node, path)) return
  if (node.kind === 'object') { for (const m of node.members) walkNodes(m.value, [...path, m.key], f) }
  else if (node.kind === 'array') node.items.forEach((n, k) => walkNodes(n, [...path, k], f))
}

function valueAt(v: unknown, path: Path): unknown {
  let cur = v
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[p]
  }
  return cur
}

/** What a node's own text says. */
const nodeValue = (
  text: string,
  n: Json5Node,
): unknown => (n.kind === 'scalar' ? n.value : JSON5.parse(text.slice(n.start, n.end)))

/**
 * The text with every value `redact` hides replaced by its redacted form, comments and all else
 * as written: what a UI may show and edit. Works for any redaction that keeps the shape or
 * replaces whole values (a value it drops shows as `***`).
 */
export function redactText(text: string, redact: (raw: unknown) => unknown): string {
  const red = redact(JSON5.parse(text))
  const edits: Edit[] = []
  walkNodes(scanJson5(text), [], (n, path) => {
    const r = valueAt(red, path)
    // Containers are entered whenever the redacted value keeps their shape: a duplicate key
    // shadowed in the parsed value is still in the text, and is checked on its own.
    if (n.kind === 'object' && isPlain(r)) return true
    if (n.kind === 'array' && Array.isArray(r) && r.length === n.items.length) return true
    if (same(nodeValue(text, n), r)) return false
    edits.push({ start: n.start, end: n.end, text: JSON.stringify(r === undefined ? REDACTED : r) })
    return false
  })
  return applyEdits(text, edits)
}

/** Contains a redaction mark (`***`, or one inside a URL) that did not resolve to a real value. */
const REDACTION_LEFT = /\*\*\*/
const leftover = (path: Path) =>
  `${
    formatPath(path)
  }: holds a redacted value ("***") that does not stand for the value at this place in the file: write the value itself or a $VAR reference`

/**
 * Puts the real values back where an edited text still holds the redacted form of the value
 * the old file has at the same path (the old text of it, comments inside included). Errors name
 * every redacted value it could not place (moved, or copied elsewhere): the user must write the
 * value or a `$VAR` reference there.
 */
export function restoreRedacted(
  newText: string,
  oldText: string,
  redact: (raw: unknown) => unknown,
): { ok: true; text: string } | { ok: false; errors: string[] } {
  const oldRaw = JSON5.parse(oldText) as unknown
  const oldRed = redact(oldRaw)
  const oldTree = scanJson5(oldText)
  const edits: Edit[] = []
  const errors: string[] = []
  walkNodes(scanJson5(newText), [], (n, path) => {
    const v = nodeValue(newText, n)
    const r = valueAt(oldRed, path)
    const o = same(v, r) && !same(r, valueAt(oldRaw, path)) ? exactNodeAt(oldTree, path) : undefined
    if (o) {
      edits.push({ start: n.start, end: n.end, text: oldText.slice(o.start, o.end) })
      return false
    }
    if (n.kind !== 'scalar') return true
    if (typeof v === 'string' && REDACTION_LEFT.test(v)) errors.push(leftover(path))
    return false
  })
  return errors.length ? { ok: false, errors } : { ok: true, text: applyEdits(newText, edits) }
}

/** The object-shaped equivalent of `restoreRedacted` (for a whole config sent as JSON). */
export function restoreRedactedValue(
  value: unknown,
  oldRaw: unknown,
  redact: (raw: unknown) => unknown,
): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  const oldRed = redact(oldRaw)
  const errors: string[] = []
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    const r = valueAt(oldRed, path)
    const real = valueAt(oldRaw, path)
    if (same(v, r) && !same(r, real)) return real
    if (typeof v === 'string' && REDACTION_LEFT.test(v)) errors.push(leftover(path))
    if (Array.isArray(v)) return v.map((x, k) => walk(x, [...path, k]))
    if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]))
    return v
  }
  const out = walk(value, [])
  return errors.length ? { ok: false, errors } : { ok: true, value: out }
}

/** The config file as the management API edits it. */
export interface ConfigFileAccess {
  readonly path: string
  read(): Promise<string>
  /** Every problem of `text` as a config (`path: message`), as start-up would report them. */
  validate(text: string): string[]
  /** Atomic write with a backup; returns the backup's path. */
  write(text: string): Promise<string | undefined>
}

/**
 * The file at `path`, written as `switchyard model` writes it (config/edit.ts: temp file renamed
 * over it, the previous file kept as `<path>.<time>.bak`, three kept). A file that is gone is
 * written afresh, owner-only, with no backup.
 */
export function configFileAccess(
  path: string,
  validate: (text: string) => string[],
  now: () => number,
): ConfigFileAccess {
  return {
    path,
    validate,
    read: () => readFile(path, 'utf8'),
    write: async (text) => {
      if (existsSync(path)) return writeConfigFile(path, text, new Date(now()))
      writeFileSync(path, text, { mode: 0o600 })
      return undefined
    },
  }
}
