/**
 * CCR's `$VAR` / `${VAR}` interpolation (docs/protocols.md §8.2), applied to every string of the
 * parsed config, recursively. Pure: the environment comes in as an argument.
 */

import { mapValues } from '../lib/own.ts'

/** `${ANYTHING_BUT_BRACE}` or bare `$NAME` with an uppercase name, exactly as CCR matches them. */
const VAR_PATTERN = /\$\{([^}]+)\}|\$([A-Z_][A-Z0-9_]*)/g

export interface Interpolated {
  readonly value: unknown
  /** Names of referenced variables that were not set (their text was left as is). */
  readonly unset: readonly string[]
}

/** Replaces variable references in one string; unset variables keep their original text. */
function interpolateString(s: string, env: Readonly<Record<string, string | undefined>>, unset: Set<string>): string {
  return s.replace(VAR_PATTERN, (whole: string, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? ''
    // Own string values only: `${constructor}` must not find Object.prototype's function.
    const value = Object.hasOwn(env, name) ? env[name] : undefined
    if (typeof value !== 'string') {
      unset.add(name)
      return whole
    }
    return value
  })
}

function walk(value: unknown, env: Readonly<Record<string, string | undefined>>, unset: Set<string>): unknown {
  if (typeof value === 'string') return interpolateString(value, env, unset)
  if (Array.isArray(value)) return value.map((v) => walk(v, env, unset))
  if (value !== null && typeof value === 'object') {
    return mapValues(value as Record<string, unknown>, (v) => walk(v, env, unset))
  }
  return value
}

/**
 * Interpolates every string in `value` (objects and arrays, recursively; keys are left alone)
 * without mutating it.
 * @example interpolateEnv({ k: '$KEY' }, { KEY: 'x' }) // { value: { k: 'x' }, unset: [] }
 */
export function interpolateEnv(value: unknown, env: Readonly<Record<string, string | undefined>>): Interpolated {
  const unset = new Set<string>()
  const out = walk(value, env, unset)
  return { value: out, unset: [...unset].sort() }
}

/** True when the whole string is a single `$VAR` or `${VAR}` reference (safe to show: it holds no secret). */
export function isVarReference(s: string): boolean {
  return /^(\$\{[^}]+\}|\$[A-Z_][A-Z0-9_]*)$/.test(s)
}
