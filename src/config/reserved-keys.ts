/**
 * A config key named `__proto__` cannot survive validation: the schema library copies objects
 * by assignment, so such a key (a preset, a tier, a header, a price) would vanish without a
 * word. It is reported as an error with its path instead. `constructor` and `prototype` are
 * ordinary keys and load as such.
 */
import { formatPath } from './issues.ts'

export function reservedKeyErrors(value: unknown, path: (string | number)[] = [], out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => reservedKeyErrors(v, [...path, i], out))
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '__proto__') {
        out.push(`${formatPath([...path, k])}: a key named "__proto__" is not allowed (it would be silently dropped)`)
      } else reservedKeyErrors(v, [...path, k], out)
    }
  }
  return out
}
