/**
 * JSON whose object keys are often `__proto__`, `constructor` or `prototype`: the keys that
 * assignment-based copying loses or turns into a prototype change. Built as JSON text and
 * parsed, so the keys are own data properties exactly as a client's or a config file's are.
 */
import fc from 'fast-check'

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const

const key = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) }, {
  weight: 1,
  arbitrary: fc.string({ maxLength: 6 }),
})

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectText),
  ),
}))

/** An object from entries, as JSON.parse would build it (own keys, `__proto__` included). */
function objectText(entries: [string, unknown][]): unknown {
  return JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`)
}

/** Any JSON value, prototype-named keys likely at every depth. */
export const protoJsonArb: fc.Arbitrary<unknown> = value

/** A JSON object with at least one prototype-named key at the top. */
export const protoObjectArb: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(fc.constantFrom(...PROTO_KEYS), protoJsonArb, fc.array(fc.tuple(key, protoJsonArb), { maxLength: 3 }))
  .map(([k, v, rest]) => objectText([[k, v], ...rest]) as Record<string, unknown>)

/** Every key of every object inside `v`, depth first (to compare what a copy kept). */
export function allKeys(v: unknown, into: string[] = []): string[] {
  if (Array.isArray(v)) { for (const x of v) allKeys(x, into) }
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      into.push(k)
      allKeys(x, into)
    }
  }
  return into
}

/** Object.prototype as it was before a test: pollution shows as a changed key list. */
export const pristinePrototypeKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort()
