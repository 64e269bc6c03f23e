/**
 * Redaction of the raw (un-interpolated) config for display (`/api/config`, `--print-config`,
 * the custom router's view), by allow-list. A value that is itself a `$VAR`/`${VAR}` reference is kept: it names a variable and
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

/**
 * Keys whose string values are shown as written: names, routes and settings the schema knows
 * and that never hold a secret. Every other string (an unknown key such as `db_pass`, a
 * transformer option, a header value) is hidden: redaction works by allow-list, so a secret
 * under a name nobody anticipated is hidden too. Numbers, booleans and null are settings, always shown.
 */
export const SHOWN_KEYS: ReadonlySet<string> = new Set([
  'name',
  'models',
  'protocol',
  'use',
  'type',
  'path',
  'route',
  'default',
  'background',
  'think',
  'longContext',
  'webSearch',
  'image',
  'optimization',
  'search_provider',
  'model',
  'scenario',
  'timeUtc',
  'allowedModels',
  'HOST',
  'LOG_LEVEL',
  'CUSTOM_ROUTER_PATH',
])

/** Keys whose values are URLs: shown without credentials (user, password, query values). */
export const URL_KEYS: ReadonlySet<string> = new Set([
  'api_base_url',
  'PROXY_URL',
  'HTTPS_PROXY',
  'https_proxy',
  'httpsProxy',
  'redis',
])

/** Query parameters whose values are shown in URLs (everything else in a query is hidden). */
const SHOWN_PARAMS: ReadonlySet<string> = new Set(['alt', 'api-version', 'beta', 'version'])

function decoded(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s // `%zz` is not a reference to anything: it is hidden like any other value
  }
}

/** A URL without its credentials: user, password and query values other than SHOWN_PARAMS become `***`. */
export function redactUrl(s: string): string {
  if (isVarReference(s)) return s
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return REDACTED
  }
  if (u.username && !isVarReference(decoded(u.username))) u.username = REDACTED
  if (u.password && !isVarReference(decoded(u.password))) u.password = REDACTED
  for (const [k, v] of [...u.searchParams]) {
    if (!SHOWN_PARAMS.has(k) && !isVarReference(v)) u.searchParams.set(k, REDACTED)
  }
  const out = u.toString()
  return out === `${s}/` ? s : out
}

/** `secret`: everything below is hidden whatever its key (header maps). */
type Shown = 'shown' | 'url' | 'hidden' | 'secret'

function walk(value: unknown, how: Shown): unknown {
  if (typeof value === 'string') return how === 'shown' ? value : how === 'url' ? redactUrl(value) : hide(value)
  if (Array.isArray(value)) return value.map((v) => walk(v, how))
  if (value !== null && typeof value === 'object') {
    return mapValues(value as Record<string, unknown>, (v, k) => walk(v, how === 'secret' ? 'secret' : childHow(k)))
  }
  return value
}

function childHow(key: string): Shown {
  if (SECRET_MAPS.test(key)) return 'secret'
  if (SECRET_KEY.test(key)) return 'hidden'
  if (URL_KEYS.has(key)) return 'url'
  return SHOWN_KEYS.has(key) ? 'shown' : 'hidden'
}

/**
 * A copy of `raw` fit to show: strings are hidden (`"***"`) unless their own key is in
 * SHOWN_KEYS (array elements take their array's key), URLs lose their credentials, header
 * values and secret-looking keys are always hidden, and `$VAR` references are kept as written
 * (they name a variable, not a value).
 * @example redactConfig({ APIKEY: 'sk-1', Providers: [{ name: 'p', api_key: '$K' }] }) // { APIKEY: '***', Providers: [{ name: 'p', api_key: '$K' }] }
 */
export function redactConfig(raw: unknown): unknown {
  return walk(raw, 'hidden')
}
