/**
 * A zod schema read once into a plain predicate that answers "zod accepts this value", so a
 * valid request body is checked without running zod. zod 4's parse of a four-field body makes
 * ~25 objects, ~30 closure scopes and ~28 arrays (result objects, issue arrays, its copy of the
 * value) even when nothing is wrong; this walk makes none. It is only ever a shortcut for
 * `true`: a `false` means "ask zod", which then gives the real answer and its messages, so what
 * is accepted and what the errors say stay zod's.
 *
 * Only the schema kinds the request schemas use are read (objects, loose or not, strings with
 * length bounds, finite numbers, booleans, enums, arrays, unions, optional and nullable); any other
 * kind, check or option (refinements, coercion, transforms, strict objects, exclusive unions)
 * is left to that schema's own `safeParse`. A schema with a refinement zod cannot express here
 * registers its own predicate with `acceptsAs` next to its definition.
 */

/** True only when the schema accepts `v`; false when it refuses it or cannot tell. */
export type Accepts = (v: unknown) => boolean

/** What this asks of a schema: `safeParse`, the fallback. */
export interface Parses {
  safeParse(v: unknown): { success: boolean }
}

/** The part of a zod 4 schema this reads besides: its definition. */
interface ZodLike extends Parses {
  readonly _zod: { readonly def: Def }
}

interface Def {
  readonly type: string
  readonly checks?: readonly {
    readonly _zod: { readonly def: { readonly check: string; readonly minimum?: number; readonly maximum?: number } }
  }[]
  readonly coerce?: boolean
  readonly innerType?: ZodLike
  readonly element?: ZodLike
  readonly options?: readonly ZodLike[]
  readonly inclusive?: boolean
  readonly shape?: Readonly<Record<string, ZodLike>>
  readonly catchall?: ZodLike
  readonly entries?: Readonly<Record<string, string | number>>
}

const own = new WeakMap<object, Accepts>()

/** Registers `accepts` as the predicate of `schema` (one with a refinement); returns the schema. */
export function acceptsAs<T extends object>(schema: T, accepts: Accepts): T {
  own.set(schema, accepts)
  return schema
}

const compiled = new WeakMap<object, Accepts>()

/** The predicate of `schema`, built on first use and kept. */
export function fastAccept(schema: Parses): Accepts {
  let a = compiled.get(schema)
  if (!a) {
    a = own.get(schema) ?? build(schema as ZodLike)
    compiled.set(schema, a)
  }
  return a
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function build(schema: ZodLike): Accepts {
  const def = schema._zod?.def
  const zod: Accepts = (v) => schema.safeParse(v).success
  if (def === undefined) return zod
  const checks = def.checks ?? []
  if (def.coerce) return zod
  switch (def.type) {
    case 'unknown':
    case 'any':
      return () => true
    case 'boolean':
      return checks.length === 0 ? (v) => typeof v === 'boolean' : zod
    case 'number':
      return checks.length === 0 ? (v) => typeof v === 'number' && Number.isFinite(v) : zod
    case 'string': {
      let min = 0
      let max = Infinity
      for (const c of checks) {
        const d = c._zod.def
        if (d.check === 'min_length' && d.minimum !== undefined) min = Math.max(min, d.minimum)
        else if (d.check === 'max_length' && d.maximum !== undefined) max = Math.min(max, d.maximum)
        else return zod
      }
      return (v) => typeof v === 'string' && v.length >= min && v.length <= max
    }
    case 'optional': {
      const inner = fastAccept(def.innerType!)
      return (v) => v === undefined || inner(v)
    }
    case 'nullable': {
      const inner = fastAccept(def.innerType!)
      return (v) => v === null || inner(v)
    }
    case 'array': {
      if (checks.length > 0) return zod
      const element = fastAccept(def.element!)
      return (v) => {
        if (!Array.isArray(v)) return false
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false
        return true
      }
    }
    case 'union': {
      if (checks.length > 0 || def.inclusive === false) return zod
      const options = def.options!.map(fastAccept)
      return (v) => {
        for (const o of options) if (o(v)) return true
        return false
      }
    }
    case 'enum': {
      if (checks.length > 0) return zod
      const values = new Set<unknown>(Object.values(def.entries!))
      return (v) => values.has(v)
    }
    case 'object':
      return objectAccepts(def, zod)
    default:
      return zod
  }
}

function objectAccepts(def: Def, zod: Accepts): Accepts {
  const catchall = def.catchall?._zod.def.type
  if ((def.checks ?? []).length > 0 || (catchall !== undefined && catchall !== 'unknown' && catchall !== 'any')) {
    return zod
  }
  const entries = Object.entries(def.shape ?? {})
  if (entries.some(([k]) => k === '__proto__')) return zod
  const keys = entries.map(([k]) => k)
  const values = entries.map(([, s]) => fastAccept(s))
  // A key whose schema is not optional must be present, as zod requires.
  const required = entries.map(([, s]) => {
    const t = s._zod.def.type
    return t !== 'optional' && t !== 'unknown' && t !== 'any'
  })
  return (v) => {
    if (!isObject(v)) return false
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      if (required[i] && !(k in v)) return false
      if (!values[i]!(v[k])) return false
    }
    return true
  }
}
