import type { JsonObject } from '../types.ts'
import { isObject, num } from '../translate/json.ts'

/** A deep copy of `v` without any property named `key` (e.g. every `cache_control`). */
export function withoutKey(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => withoutKey(x, key))
  if (!isObject(v)) return v
  const out: JsonObject = {}
  for (const [k, x] of Object.entries(v)) if (k !== key) out[k] = withoutKey(x, key)
  return out
}

/**
 * Deep-merge `extra` into `body`; where both hold a non-object value, the body's wins
 * (CCR's `customparams`: options add parameters, they never override what the request set).
 */
export function mergeUnder(body: JsonObject, extra: Readonly<Record<string, unknown>>): JsonObject {
  const out: JsonObject = { ...body }
  for (const [k, v] of Object.entries(extra)) {
    const cur = out[k]
    if (isObject(cur) && isObject(v)) out[k] = mergeUnder(cur, v)
    else if (cur === undefined) out[k] = v
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
