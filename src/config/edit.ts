/**
 * Edits one value of a JSON5 config file as text, so everything else stays as the user wrote
 * it: comments, `$VAR` references, unknown keys, key order, quoting and indentation. Then
 * writes it atomically with a backup (CCR's `config.json.<time>.bak`, three kept).
 * `switchyard model` uses it; so can any other writer of the config (the dashboard).
 */
import { copyFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

type Path = readonly string[]

/** Where a value sits in the text: [start, end) of the value, and of the object holding it. */
interface Found { readonly start: number; readonly end: number }

class Scanner {
  i = 0
  constructor(readonly s: string) {}

  fail(what: string): never {
    const line = this.s.slice(0, this.i).split('\n').length
    throw new Error(`config is not JSON5 the editor can read: ${what} at line ${line}`)
  }

  /** Skips whitespace and comments. */
  ws(): void {
    const s = this.s
    for (;;) {
      const c = s[this.i]
      if (c === undefined) return
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF' || c === '\u00A0' || c === '\u2028' || c === '\u2029') { this.i++; continue }
      if (c === '/' && s[this.i + 1] === '/') { while (this.i < s.length && s[this.i] !== '\n') this.i++; continue }
      if (c === '/' && s[this.i + 1] === '*') {
        const end = s.indexOf('*/', this.i + 2)
        if (end < 0) this.fail('unterminated comment')
        this.i = end + 2
        continue
      }
      return
    }
  }

  /** A quoted string; returns its value. */
  string(): string {
    const q = this.s[this.i]
    const start = this.i
    this.i++
    while (this.i < this.s.length && this.s[this.i] !== q) this.i += this.s[this.i] === '\\' ? 2 : 1
    if (this.i >= this.s.length) this.fail('unterminated string')
    this.i++
    const raw = this.s.slice(start + 1, this.i - 1)
    try {
      return JSON.parse(`"${raw.replace(/\\'/g, "'").replace(/(?<!\\)"/g, '\\"')}"`) as string
    } catch {
      return raw
    }
  }

  /** An object key: quoted, or a bare identifier. */
  key(): string {
    const c = this.s[this.i]
    if (c === '"' || c === "'") return this.string()
    const m = /^[A-Za-z_$][\w$]*/.exec(this.s.slice(this.i))
    if (!m) this.fail('expected a key')
    this.i += m[0].length
    return m[0]
  }

  /** Skips one value, recording its span (and every nested one) under its path. */
  value(path: Path, found: Map<string, Found>): void {
    this.ws()
    const c = this.s[this.i]
    const start = this.i
    if (c === '{') this.object(path, found)
    else if (c === '[') this.array(path, found)
    else if (c === '"' || c === "'") this.string()
    else {
      const m = /^[^,\]}\s/]+/.exec(this.s.slice(this.i))
      if (!m) this.fail('expected a value')
      this.i += m[0].length
    }
    found.set(JSON.stringify(path), { start, end: this.i })
  }

  object(path: Path, found: Map<string, Found>): void {
    this.i++ // {
    for (;;) {
      this.ws()
      if (this.s[this.i] === '}') { this.i++; return }
      const k = this.key()
      this.ws()
      if (this.s[this.i] !== ':') this.fail('expected ":"')
      this.i++
      const sub = [...path, k]
      this.value(sub, found)
      this.ws()
      if (this.s[this.i] === ',') this.i++
      else if (this.s[this.i] !== '}') this.fail('expected "," or "}"')
    }
  }

  array(path: Path, found: Map<string, Found>): void {
    this.i++ // [
    let n = 0
    for (;;) {
      this.ws()
      if (this.s[this.i] === ']') { this.i++; return }
      this.value([...path, String(n++)], found)
      this.ws()
      if (this.s[this.i] === ',') this.i++
      else if (this.s[this.i] !== ']') this.fail('expected "," or "]"')
    }
  }
}

/** Spans of every value in `text`, keyed by JSON.stringify(path). */
function spans(text: string): Map<string, Found> {
  const sc = new Scanner(text)
  const found = new Map<string, Found>()
  sc.value([], found)
  sc.ws()
  if (sc.i < text.length) sc.fail('text after the config object')
  return found
}

/** The indentation of the line `at` is on. */
function indentAt(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))![0]
}

/**
 * `text` with the string at `path` set to `value`. A key that exists keeps its place (only its
 * value is replaced); a missing key is added first in its object, created if need be.
 */
export function setJson5String(text: string, path: Path, value: string): string {
  const found = spans(text)
  const literal = JSON.stringify(value)
  const at = found.get(JSON.stringify(path))
  if (at) return text.slice(0, at.start) + literal + text.slice(at.end)
  // Find the deepest existing object on the path and insert what is missing there.
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const parent = found.get(JSON.stringify(path.slice(0, depth)))
    if (!parent) continue
    if (text[parent.start] !== '{') throw new Error(`cannot set ${path.join('.')}: ${path.slice(0, depth).join('.') || 'the file'} is not an object`)
    const rest = path.slice(depth)
    const base = indentAt(text, parent.start)
    const unit = '  '
    let inner = literal
    for (let i = rest.length - 1; i >= 1; i--) inner = `{ ${JSON.stringify(rest[i])}: ${inner} }`
    const open = parent.start + 1
    const empty = /^\s*}/.test(text.slice(open))
    const entry = `\n${base}${unit}${JSON.stringify(rest[0])}: ${inner}${empty ? `\n${base}` : ','}`
    return text.slice(0, open) + entry + text.slice(open)
  }
  throw new Error('cannot set a value in an empty file')
}

/** How many backups `writeConfigFile` keeps (CCR keeps three). */
const BACKUPS = 3

/**
 * Writes `text` to `path` atomically (a temporary file renamed over it), first copying the old
 * file to `<path>.<ISO time>.bak` and keeping the newest three backups. Returns the backup path.
 */
export function writeConfigFile(path: string, text: string, now: Date = new Date()): string {
  const backup = `${path}.${now.toISOString().replace(/[:.]/g, '-')}.bak`
  copyFileSync(path, backup)
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`)
  // The new file keeps the old one's permissions (a config holding keys is often 0600).
  writeFileSync(tmp, text, { mode: statSync(path).mode & 0o777 })
  renameSync(tmp, path)
  const prefix = `${basename(path)}.`
  const old = readdirSync(dirname(path)).filter((f) => f.startsWith(prefix) && f.endsWith('.bak')).sort().reverse()
  for (const f of old.slice(BACKUPS)) rmSync(join(dirname(path), f), { force: true })
  return backup
}
