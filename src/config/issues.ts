/**
 * Turns zod issues into the messages users read: `path: what failed, got what`, std style
 * (no trailing period). Used by schema.ts as a per-parse error map so no global zod state changes.
 */
import type { z } from 'zod'
import { SECRET_KEY, SECRET_MAPS } from './redact.ts'

/** A short, safe rendering of a config value for an error message (strings quoted, long ones cut). */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)
  if (Array.isArray(v)) return 'an array'
  if (v === null) return 'null'
  if (typeof v === 'object') return 'an object'
  return String(v)
}

/** `['Providers', 1, 'api_base_url']` → `Providers[1].api_base_url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`
    else out += out === '' ? String(p) : `.${String(p)}`
  }
  return out === '' ? '(root)' : out
}

type RawIssue = z.core.$ZodRawIssue

function sizeMessage(iss: RawIssue, word: 'least' | 'most'): string {
  const bound = 'minimum' in iss ? iss.minimum : 'maximum' in iss ? iss.maximum : '?'
  if (iss.origin === 'array') return `expected at ${word} ${String(bound)} item(s)`
  if (iss.origin === 'string') return `expected at ${word} ${String(bound)} character(s), got ${show(iss.input)}`
  const strict = iss.inclusive === false ? (word === 'least' ? 'more than' : 'less than') : `at ${word}`
  return `expected ${strict} ${String(bound)}, got ${show(iss.input)}`
}

/** The per-parse zod error map: one readable sentence per issue kind; custom messages pass through. */
export function configErrorMap(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required'
      return `expected ${iss.expected === 'int' ? 'an integer' : String(iss.expected)}, got ${show(iss.input)}`
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(iss.input)}`
    case 'too_small':
      return sizeMessage(iss, 'least')
    case 'too_big':
      return sizeMessage(iss, 'most')
    case 'invalid_format':
      return `expected ${String(iss.format)}, got ${show(iss.input)}`
    case 'invalid_key':
      return `invalid key ${show(iss.input)}: ${iss.issues.map((i) => i.message).join('; ')}`
    case 'invalid_union':
      return `does not match any accepted form, got ${show(iss.input)}`
    case 'unrecognized_keys':
      return `unknown key(s) ${iss.keys.join(', ')}`
    default:
      return undefined
  }
}

/** A path under a secret-looking key (api_key, APIKEY, headers…): its value must not be echoed. */
const isSecretPath = (path: readonly PropertyKey[]): boolean =>
  path.some((p) => typeof p === 'string' && (SECRET_KEY.test(p) || SECRET_MAPS.test(p)))

/**
 * Renders the final issues (paths are known only after parsing) as `path: message` lines.
 * Messages end in `, got <value>`; that tail is dropped under secret-looking keys so that a
 * mistyped key never lands in a log.
 */
export function renderIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) =>
    `${formatPath(i.path)}: ${isSecretPath(i.path) ? i.message.replace(/, got [\s\S]*$/, '') : i.message}`
  )
}
