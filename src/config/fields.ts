/**
 * Small zod building blocks for the CCR file. Values may arrive as strings after `$VAR`
 * interpolation (`"PORT": "$PORT"`), so numbers and booleans accept their string spelling.
 */
import { z } from 'zod'
import { show } from './issues.ts'
import { nameProblem } from '../lib/names.ts'

const NUMERIC = /^-?\d+(\.\d+)?$/

/** A number, also accepted as a numeric string (interpolated env values are strings). */
export function num(): z.ZodPreprocess<z.ZodNumber, unknown> {
  return z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v), z.number())
}

/**
 * A positive integer (counts, sizes), numeric strings accepted, never above `max`: every count
 * and size in the file has an upper bound, so a typo such as `1e12` is a validation error
 * instead of an allocation that fails at start or a loop that never ends.
 */
export const posInt = (max: number) => num().pipe(z.number().int().positive().max(max))

/** The longest delay timers accept on every runtime (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647
/** One day: the upper bound of every duration in the file unless a field says otherwise. */
export const DAY_MS = 86_400_000

/** A positive duration in milliseconds, at most `max` (default one day), numeric strings accepted. */
export const durationMs = (max: number = DAY_MS) => posInt(max)

/** A non-negative number (prices, weights), numeric strings accepted. */
export const nonNeg = () => num().pipe(z.number().min(0))

/** A relative weight: non-negative, at most 1000 (weights are normalised, so only ratios matter). */
export const weight = () => num().pipe(z.number().min(0).max(1000))

/** A fraction in [0, 1]. */
export const fraction = () => num().pipe(z.number().min(0).max(1))

/** A boolean, also accepted as `"true"` / `"false"`. */
export const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean())

/** A string where `""` means unset (CCR's UI writes empty strings for unset Router keys). */
export const optStr = () => z.preprocess((v) => (v === '' ? undefined : v), z.string().optional())

/** An http(s) URL. `new URL('api.x.com')` fails and `localhost:1/x` parses with scheme `localhost:`: both are user errors. */
export const httpUrl = () =>
  z.string().superRefine((v, ctx) => {
    let ok = false
    try {
      const u = new URL(v)
      ok = u.protocol === 'http:' || u.protocol === 'https:'
    } catch {
      ok = false
    }
    if (!ok) ctx.addIssue({ code: 'custom', message: `expected a URL, got ${show(v)}` })
  })

/** A transformer entry: `"name"` or `["name", {options}]`. */
const transformerEntry = () =>
  z.unknown().transform((v, ctx): { name: string; options: Record<string, unknown> } => {
    if (typeof v === 'string' && v !== '') return { name: v, options: {} }
    if (Array.isArray(v) && typeof v[0] === 'string' && (v.length === 1 || (v.length === 2 && isPlainObject(v[1])))) {
      return { name: v[0], options: v.length === 2 ? (v[1] as Record<string, unknown>) : {} }
    }
    ctx.addIssue({ code: 'custom', message: `expected "name" or ["name", {options}], got ${show(v)}` })
    return z.NEVER
  })

/** Provider `transformer`: `{ use: [...], "<model>": { use: [...] } }`. */
export const transformerSchema = () =>
  z
    .object({ use: z.array(transformerEntry()).optional() })
    .catchall(z.object({ use: z.array(transformerEntry()).optional() }))

/** True for `{}`-like objects (not arrays, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const PRICE_ALIASES: Readonly<Record<string, string>> = {
  input_per_million_tokens: 'input_per_million',
  output_per_million_tokens: 'output_per_million',
  cache_read_per_million_tokens: 'cache_read_per_million',
  cache_write_per_million_tokens: 'cache_write_per_million',
}

/** USD per million tokens; ccr-rust's `*_per_million_tokens` spelling is accepted too. */
const priceSchema = () =>
  z.preprocess(
    (v) => (isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [PRICE_ALIASES[k] ?? k, x])) : v),
    z.object({
      input_per_million: nonNeg(),
      output_per_million: nonNeg(),
      cache_read_per_million: nonNeg().optional(),
      cache_write_per_million: nonNeg().optional(),
    }),
  )

const isFlatPrice = (v: Record<string, unknown>): boolean =>
  Object.keys(v).some((k) => k in PRICE_ALIASES || Object.values(PRICE_ALIASES).includes(k))

/** Provider `pricing`: one price for every model (stored under `*`) or `{ "<model>": price }`. */
export const pricingSchema = () =>
  z.preprocess(
    (v) => (isPlainObject(v) && isFlatPrice(v) ? { '*': v } : v),
    z.record(z.string(), priceSchema()),
  )

/** ccr-rust `tierRetries` entry; the defaults keep in-proxy retries short because clients retry too. */
export const retrySchema = () =>
  z.object({
    max_retries: num().pipe(z.number().int().min(0).max(100)).default(2),
    base_backoff_ms: num().pipe(z.number().min(0).max(DAY_MS)).default(100),
    backoff_multiplier: num().pipe(z.number().min(1).max(1000)).default(2),
    max_backoff_ms: num().pipe(z.number().min(0).max(DAY_MS)).default(5000),
  })

/** A provider or model name: see `nameProblem` (no control characters, no `__proto__`…). */
export const nameField = () =>
  z.string().min(1).superRefine((v, ctx) => {
    const problem = nameProblem(v)
    if (problem) ctx.addIssue({ code: 'custom', message: `name ${problem}` })
  })

/**
 * A `Providers[].models` entry: a model id, or an object with the id as `name` and the
 * capabilities to use for it (`contextWindow`, `maxOutputTokens`, `vision`, `tools`,
 * `reasoning`, `promptCaching`, prices). A string is read as `{ name }`.
 */
export const modelEntrySchema = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? { name: v } : v),
    z.strictObject({
      name: nameField(),
      contextWindow: posInt(1_000_000_000).optional(),
      maxOutputTokens: posInt(1_000_000_000).optional(),
      vision: bool().optional(),
      tools: bool().optional(),
      reasoning: bool().optional(),
      promptCaching: bool().optional(),
      input_per_million: nonNeg().optional(),
      output_per_million: nonNeg().optional(),
    }),
  )

/** The model ids of a (possibly not yet validated) `models` list of strings and `{ name }` objects. */
export function modelNames(list: unknown): string[] {
  if (!Array.isArray(list)) return []
  return list.flatMap((
    m,
  ) => (typeof m === 'string' ? [m] : isPlainObject(m) && typeof m.name === 'string' ? [m.name] : []))
}
