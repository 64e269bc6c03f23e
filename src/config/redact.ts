/**
 * Redaction of the raw (un-interpolated) config for display (`/api/config`, `--print-config`,
 * logs). A value that is itself a `$VAR`/`${VAR}` reference is kept: it names a variable and
 * holds no secret, and showing it is what lets a UI save the file back without baking secrets
 * in (CCR's UI bug, docs/protocols.md §8.2).
 */
import { isVarReference } from './interpolate.ts'
import { mapValues } from '../lib/own.ts'

export const REDACTED = '***'

/** Keys whose string values are secrets wherever they appear. */
export const SECRET_KEY = /key|token|secret|password|passwd|authorization|credential|cookie/i

/** Keys whose every string value is a secret (header values carry auth in many shapes). */
export const SECRET_MAPS = /^(headers|extra_headers)$/i

const hide = (s: string): string => (isVarReference(s) ? s : REDACTED)

/** Credentials inside URLs: `user:pass@` and query parameters like `?key=` (Gemini-style). */
export function redactUrl(s: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return s
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return s
  }
  let changed = false
  if (u.password && !isVarReference(decodeURIComponent(u.password))) {
    u.password = REDACTED
    changed = true
  }
  for (const [k, v] of [...u.searchParams]) {
    if (SECRET_KEY.test(k) && !isVarReference(v)) {
      u.searchParams.set(k, REDACTED)
      changed = true
    }
  }
  return changed ? u.toString() : s
}

function walk(value: unknown, secret: boolean, allSecret: boolean): unknown {
  if (typeof value === 'string') return secret || allSecret ? hide(value) : redactUrl(value)
  if (Array.isArray(value)) return value.map((v) => walk(v, secret, allSecret))
  if (value !== null && typeof value === 'object') {
    return mapValues(value as Record<string, unknown>, (v, k) => walk(v, SECRET_KEY.test(k), allSecret || SECRET_MAPS.test(k)))
  }
  // Numbers and booleans under secret-looking keys (max_tokens, TOKEN_AUDIT_SIZE) are settings, not secrets.
  return value
}

/**
 * A copy of `raw` with every secret-looking string replaced by `"***"`: values under keys
 * matching /key|token|secret|password|authorization/i (api_key, APIKEY…), every header value,
 * and credentials inside URLs. `$VAR` references are kept as written.
 * @example redactConfig({ APIKEY: 'sk-1', Providers: [{ api_key: '$K' }] }) // { APIKEY: '***', Providers: [{ api_key: '$K' }] }
 */
export function redactConfig(raw: unknown): unknown {
  return walk(raw, false, false)
}
