/**
 * Edits one value of a JSON5 config file as text, so everything else stays as the user wrote
 * it: comments, `$VAR` references, unknown keys, key order, quoting and indentation. Then
 * writes it atomically with a backup (CCR's `config.json.<time>.bak`, three kept).
 * `switchyard model` uses it; so can any other writer of the config (the dashboard).
 */
import { copyFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { indentAt, valueSpans } from './json5-scan.ts'

type Path = readonly string[]

/**
 * `text` with the string at `path` set to `value`. A key that exists keeps its place (only its
 * value is replaced); a missing key is added first in its object, created if need be.
 */
export function setJson5String(text: string, path: Path, value: string): string {
  const found = valueSpans(text)
  const literal = JSON.stringify(value)
  const at = found.get(JSON.stringify(path))
  if (at) return text.slice(0, at.start) + literal + text.slice(at.end)
  // Find the deepest existing object on the path and insert what is missing there.
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const parent = found.get(JSON.stringify(path.slice(0, depth)))
    if (!parent) continue
    if (text[parent.start] !== '{') {
      throw new Error(`cannot set ${path.join('.')}: ${path.slice(0, depth).join('.') || 'the file'} is not an object`)
    }
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
