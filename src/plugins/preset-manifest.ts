/**
 * CCR 2.0's preset manifests (`~/.claude-code-router/presets/<name>/manifest.json`), pure: no
 * files. A manifest is flat: metadata (`name`, `version`, `description`…), a config section
 * (`Providers`, `Router`, `transformers`, `StatusLine`…), and the inputs an install asks for:
 * `schema` (the questions), `template` / `configMappings` (where the answers go) and
 * `userValues` (the answers, written by `preset install`). CCR reads a preset as its config
 * section with the answers applied; so does `configSectionOf`.
 *
 * Placeholders are `#{id}` (CCR's code) or `{{id}}` (CCR's documentation and examples); both
 * are read. A placeholder with no answer is left as written and reported, never replaced by "".
 */
import { isPlainObject } from '../config/fields.ts'
import { isInheritedKey } from '../lib/names.ts'
import { setOwn } from '../lib/own.ts'

/** The metadata keys of a manifest: not part of its config section. */
export const METADATA_KEYS = [
  'name',
  'version',
  'description',
  'author',
  'homepage',
  'repository',
  'license',
  'keywords',
  'ccrVersion',
  'source',
  'sourceType',
  'checksum',
] as const

/** The keys of the install inputs: not part of the config section either. */
const INPUT_KEYS = ['schema', 'template', 'configMappings', 'userValues'] as const

const PLACEHOLDER = /#\{(\w+)\}|\{\{(\w+)\}\}/g

type Values = Readonly<Record<string, unknown>>

/** One question of a manifest's `schema`, as far as installing needs it. */
export interface PresetInput {
  readonly id: string
  readonly type: string
  readonly label: string
  readonly prompt?: string
  readonly required: boolean
  readonly defaultValue?: unknown
  readonly when?: unknown
  /** The choices of a `select` with static options. */
  readonly options?: readonly unknown[]
}

/** Whether a parsed preset file is a CCR 2.0 manifest (its own providers, or install inputs). */
export function isManifest(file: unknown): file is Record<string, unknown> {
  return isPlainObject(file) &&
    (Array.isArray(file.Providers) || INPUT_KEYS.some((k) => file[k] !== undefined) || typeof file.version === 'string')
}

/** The questions of `manifest.schema` (entries without a string `id` are skipped). */
export function inputsOf(manifest: Values): PresetInput[] {
  const schema = Array.isArray(manifest.schema) ? manifest.schema : []
  return schema.filter((f): f is Record<string, unknown> => isPlainObject(f) && typeof f.id === 'string')
    .map((f) => {
      const id = f.id as string
      const options = Array.isArray(f.options)
        ? f.options
        : isPlainObject(f.options) && Array.isArray(f.options.options)
        ? f.options.options
        : undefined
      return {
        id,
        type: typeof f.type === 'string' ? f.type : 'password',
        label: typeof f.label === 'string' ? f.label : id,
        ...(typeof f.prompt === 'string' ? { prompt: f.prompt } : {}),
        required: f.required !== false,
        ...(f.defaultValue !== undefined ? { defaultValue: f.defaultValue } : {}),
        ...(f.when !== undefined ? { when: f.when } : {}),
        ...(options ? { options } : {}),
      }
    })
}

/** CCR's conditions: `{ field, operator?, value? }` or a list of them (all must hold); `eq` by default. */
export function conditionHolds(when: unknown, values: Values): boolean {
  if (when === undefined || when === null) return true
  if (Array.isArray(when)) return when.every((w) => conditionHolds(w, values))
  if (!isPlainObject(when) || typeof when.field !== 'string') return true
  const actual = Object.hasOwn(values, when.field) ? values[when.field] : undefined
  const expected = when.value
  const ordered = (test: (a: number, b: number) => boolean) =>
    typeof actual === 'number' && typeof expected === 'number' && test(actual, expected)
  switch (when.operator) {
    case 'exists':
      return actual !== undefined && actual !== null
    case 'in':
      return Array.isArray(expected) && expected.includes(actual)
    case 'nin':
      return Array.isArray(expected) && !expected.includes(actual)
    case 'ne':
      return actual !== expected
    case 'gt':
      return ordered((a, b) => a > b)
    case 'lt':
      return ordered((a, b) => a < b)
    case 'gte':
      return ordered((a, b) => a >= b)
    case 'lte':
      return ordered((a, b) => a <= b)
    default:
      return actual === expected
  }
}

/** Replaces placeholders in every string of `value`; the ids with no answer are added to `missing`. */
function substitute(value: unknown, values: Values, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    // A string that is one placeholder takes the answer as it is (a number stays a number).
    const whole = /^(?:#\{(\w+)\}|\{\{(\w+)\}\})$/.exec(value)
    if (whole) {
      const id = (whole[1] ?? whole[2])!
      if (Object.hasOwn(values, id) && values[id] !== undefined) return values[id]
      missing.add(id)
      return value
    }
    return value.replace(PLACEHOLDER, (text, a: string | undefined, b: string | undefined) => {
      const id = (a ?? b)!
      if (Object.hasOwn(values, id) && values[id] !== undefined) return String(values[id])
      missing.add(id)
      return text
    })
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, values, missing))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) setOwn(out, k, substitute(v, values, missing))
    return out
  }
  return value
}

/** `Providers[0].api_key` → `['Providers', '0', 'api_key']`; undefined for a path that names an inherited key. */
function pathParts(path: string): string[] | undefined {
  const parts = [...path.matchAll(/(\w+)|\[(\d+)\]/g)].map((m) => (m[1] ?? m[2])!)
  return parts.length > 0 && !parts.some(isInheritedKey) ? parts : undefined
}

/** Sets `path` in `root` (objects and arrays made as needed); a path through a non-object is left alone. */
function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const parts = pathParts(path)
  if (!parts) return
  let at: Record<string, unknown> | unknown[] = root
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!
    const next = (at as Record<string, unknown>)[key]
    if (next === undefined) {
      const made = /^\d+$/.test(parts[i + 1]!) ? [] : {}
      setOwn(at, key, made)
      at = made
    } else if (typeof next === 'object' && next !== null) {
      at = next as Record<string, unknown>
    } else return
  }
  setOwn(at, parts.at(-1)!, value)
}

/** The answers a manifest's config is built with: its inputs' defaults, then `userValues`. */
export function answersOf(manifest: Values): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const input of inputsOf(manifest)) {
    if (input.defaultValue !== undefined) setOwn(values, input.id, input.defaultValue)
  }
  if (isPlainObject(manifest.userValues)) {
    for (const [k, v] of Object.entries(manifest.userValues)) setOwn(values, k, v)
  }
  return values
}

export interface ConfigSection {
  /** `Providers`, `Router` and the rest, answers applied. */
  readonly config: Record<string, unknown>
  /** Placeholders left without an answer (ids), sorted. */
  readonly unanswered: readonly string[]
}

/**
 * A manifest's config section with its answers applied, as CCR builds it: the `template` when
 * there is one (else the manifest without metadata and inputs) with placeholders replaced, the
 * inputs' own ids dropped, `configMappings` applied where their conditions hold, and answers
 * whose id is a path (`Providers[0].api_key`) set there.
 */
export function configSectionOf(manifest: Values): ConfigSection {
  const values = answersOf(manifest)
  const missing = new Set<string>()
  const skip = new Set<string>([...METADATA_KEYS, ...INPUT_KEYS])
  let base: Record<string, unknown>
  if (isPlainObject(manifest.template)) base = manifest.template
  else {
    base = {}
    for (const [k, v] of Object.entries(manifest)) if (!skip.has(k)) setOwn(base, k, v)
  }
  const config = substitute(base, values, missing) as Record<string, unknown>
  if (!isPlainObject(manifest.template)) {
    for (const input of inputsOf(manifest)) delete config[input.id]
  }
  const mappings = Array.isArray(manifest.configMappings) ? manifest.configMappings : []
  for (const m of mappings) {
    if (!isPlainObject(m) || typeof m.target !== 'string' || !conditionHolds(m.when, values)) continue
    setPath(config, m.target, substitute(m.value, values, missing))
  }
  for (const [k, v] of Object.entries(values)) if (/[.[]/.test(k)) setPath(config, k, v)
  return { config, unanswered: [...missing].sort() }
}

/** Key names whose string values are secrets (matched as parts of the lower-cased key, as CCR does). */
const SENSITIVE = [
  'api_key',
  'apikey',
  'secret',
  'token',
  'password',
  'passwd',
  'private_key',
  'access_key',
  'authorization',
]

const isSensitiveKey = (key: string): boolean => {
  const k = key.toLowerCase().replace(/-/g, '_')
  return SENSITIVE.some((s) => k.includes(s)) || k === 'x_api_key' || k === 'x_goog_api_key'
}

/** A `$VAR` / `${VAR}` reference (`"Bearer ${TOKEN}"` too): the value is read from the environment, not written. */
const ENV_REFERENCE = /\$\{[^}]+\}|\$[A-Z_][A-Z0-9_]*/

const envName = (...parts: string[]): string =>
  parts.filter((p) => p !== '').map((p) => p.toUpperCase().replace(/[^A-Z0-9]+/g, '_')).join('_')

export interface Sanitized {
  readonly value: unknown
  /** The variables the secrets were replaced by, in order of appearance (set them to use the preset). */
  readonly variables: readonly string[]
}

/**
 * `value` with every secret (a string under a key such as `api_key`, `token` or
 * `Authorization`) replaced by a `${NAME}` reference that says where it came from
 * (`${DEEPSEEK_API_KEY}` for a provider named deepseek), as CCR's export does; references
 * already there are kept. The config's own `$VAR` interpolation then reads the variable.
 */
export function sanitizeSecrets(value: unknown): Sanitized {
  const variables: string[] = []
  const walk = (v: unknown, owner: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, owner))
    if (!isPlainObject(v)) return v
    const name = typeof v.name === 'string' ? v.name : owner
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && isSensitiveKey(k) && !ENV_REFERENCE.test(x)) {
        const variable = envName(name, k)
        if (!variables.includes(variable)) variables.push(variable)
        setOwn(out, k, `\${${variable}}`)
      } else setOwn(out, k, walk(x, name))
    }
    return out
  }
  return { value: walk(value, ''), variables }
}

/** An answer as its input's type wants it: a number for `number`, yes/no for `confirm`, else as given. */
export function typedAnswer(input: PresetInput | undefined, value: unknown): unknown {
  const text = typeof value === 'string' ? value : undefined
  if (input?.type === 'number' && text !== undefined) {
    const n = Number(text)
    if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${input.id}: expected a number, got "${text}"`)
    return n
  }
  if (input?.type === 'confirm' && text !== undefined) return /^(y|yes|true|1)$/i.test(text.trim())
  return value
}

/**
 * `given` answers checked against the manifest's inputs and typed: an id that is no input (nor
 * a path such as `Providers[0].api_key`, which CCR also takes) is refused, naming the inputs.
 */
export function checkedAnswers(manifest: Values, given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const inputs = inputsOf(manifest)
  const out: Record<string, unknown> = {}
  for (const [id, value] of Object.entries(given)) {
    const input = inputs.find((i) => i.id === id)
    if (!input && !/[.[]/.test(id)) {
      throw new Error(`the preset has no input "${id}" (inputs: ${inputs.map((i) => i.id).join(', ') || 'none'})`)
    }
    setOwn(out, id, typedAnswer(input, value))
  }
  return out
}

/** The inputs that hold (their `when`) and still have neither an answer nor a default, in order. */
export function unansweredInputs(manifest: Values, answers: Readonly<Record<string, unknown>>): PresetInput[] {
  return inputsOf(manifest).filter((i) =>
    i.required && !Object.hasOwn(answers, i.id) && i.defaultValue === undefined && conditionHolds(i.when, answers)
  )
}
