/**
 * What a provider, model or preset name may be. Names become map keys, header values and log
 * fields, so before any routing or upstream work they are checked: no control characters (a NUL
 * or CR/LF in `model` used to reach the upstream call and end in a 500), a bounded length, and
 * no part equal to a property of `Object.prototype` (`__proto__`, `constructor`, `toString`…,
 * which used to resolve to inherited values and end in a 500).
 */

/** Longest provider, model or `provider,model` name accepted. */
export const MAX_NAME_CHARS = 256

const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype))
// deno-lint-ignore no-control-regex -- control characters are exactly what this pattern finds
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * Whether some comma-separated part, trimmed, may be a reserved name: every such part matches
 * (`\s` is the set `trim()` removes), so a name it does not match is split no further. It runs
 * on every request's `model`, and this way a good name costs no array or string.
 */
const MAYBE_RESERVED = new RegExp(
  `(?:^|,)\\s*(?:${[...INHERITED].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\s*(?:,|$)`,
)

/** Why `name` is not acceptable, or undefined when it is. Parts are split at commas (`provider,model`). */
export function nameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_CHARS) return `is longer than ${MAX_NAME_CHARS} characters`
  if (CONTROL.test(name)) return 'contains a control character'
  if (!MAYBE_RESERVED.test(name)) return undefined
  for (const part of name.split(',')) {
    if (INHERITED.has(part.trim())) return `uses the reserved name "${part.trim()}"`
  }
  return undefined
}

/** Whether `key` names an inherited property of plain objects (never a safe map key). */
export const isInheritedKey = (key: string): boolean => INHERITED.has(key)
