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

/** Why `name` is not acceptable, or undefined when it is. Parts are split at commas (`provider,model`). */
export function nameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_CHARS) return `is longer than ${MAX_NAME_CHARS} characters`
  if (CONTROL.test(name)) return 'contains a control character'
  for (const part of name.split(',')) {
    if (INHERITED.has(part.trim())) return `uses the reserved name "${part.trim()}"`
  }
  return undefined
}

/** Whether `key` names an inherited property of plain objects (never a safe map key). */
export const isInheritedKey = (key: string): boolean => INHERITED.has(key)
