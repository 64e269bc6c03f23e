import type { JsonObject } from '../types.ts'
import { isObject, num } from '../translate/json.ts'
import { setOwn } from '../../lib/own.ts'

/** A deep copy of `v` without any property named `key` (e.g. every `cache_control`). */
export function withoutKey(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => withoutKey(x, key))
  if (!isObject(v)) return v
  // fromEntries defines own properties, so a JSON key named `__proto__` stays data, not a prototype.
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== key).map(([k, x]) => [k, withoutKey(x, key)]))
}

/**
 * Deep-merge `extra` into `body`; where both hold a non-object value, the body's wins
 * (CCR's `customparams`: options add parameters, they never override what the request set).
 */
export function mergeUnder(body: JsonObject, extra: Readonly<Record<string, unknown>>): JsonObject {
  const out: JsonObject = { ...body }
  for (const [k, v] of Object.entries(extra)) {
    const cur = Object.hasOwn(out, k) ? out[k] : undefined
    const next = isObject(cur) && isObject(v) ? mergeUnder(cur, v) : cur === undefined ? v : cur
    setOwn(out, k, next)
  }
  return out
}

/** Cap `max_tokens` and `max_completion_tokens` at `cap` (when the option is a positive number). */
export function capTokens(body: JsonObject, cap: unknown): JsonObject {
  const limit = num(cap)
  if (limit === undefined || limit <= 0) return body
  const out: JsonObject = { ...body }
  for (const k of ['max_tokens', 'max_completion_tokens']) {
    const cur = num(out[k])
    if (cur !== undefined && cur > limit) out[k] = limit
  }
  return out
}
