/**
 * Presets installed on disk, served at `/preset/<name>/…`:
 * - CCR 2.0: `~/.claude-code-router/presets/<name>/manifest.json`, a manifest with its own
 *   `Providers` and `Router` (and the answers `preset install` stored; `preset-manifest.ts`);
 * - ccr-rust: `<name>.json` or `<name>/config.json`, in the shape of a config `Presets` entry:
 *   `{ route, max_tokens?, temperature? }`, `{ Router: {…} }`, or Router keys at the top.
 * They are read at start and on reload and merged under the config's own `Presets`: a preset
 * named in config.json wins over a file of the same name. `$VAR` / `${VAR}` in them read the
 * environment, as in config.json (CCR's export writes keys as `${PROVIDER_API_KEY}`).
 */
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import JSON5 from 'json5'
import { interpolateEnv, isVarReference } from '../config/interpolate.ts'
import { formatPath } from '../config/issues.ts'
import { presetOf, presetTargets, toProvider } from '../config/normalise.ts'
import { configSchemas, SCENARIO_KEYS } from '../config/schema.ts'
import { splitTarget } from '../config/target-syntax.ts'
import type { Config, PresetConfig, ProviderConfig } from '../config/types.ts'
import { messageOfThrown } from './load.ts'
import { setOwn } from '../lib/own.ts'
import { checkedAnswers, configSectionOf, inputsOf, isManifest, unansweredInputs } from './preset-manifest.ts'
import { isPlainObject } from '../config/fields.ts'
import { redactUrl } from '../config/redact.ts'

/** A preset name usable in `/preset/{name}/…`: no path separators or dots at the start. */
export const PRESET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

type Env = Readonly<Record<string, string | undefined>>

/** The preset files of a directory: parsed files and where each came from, by name. */
export interface PresetDir {
  readonly files: Record<string, unknown>
  readonly paths: Record<string, string>
  /** One line for each file that could not be read. */
  readonly errors: string[]
}

/** Raw preset files by name (a folder's `manifest.json`, else its `config.json`; or `<name>.json`). */
export async function readPresetDir(dir: string): Promise<PresetDir> {
  const files: Record<string, unknown> = {}
  const paths: Record<string, string> = {}
  const errors: string[] = []
  let entries: { name: string; isDirectory(): boolean; isFile(): boolean }[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return { files, paths, errors } // no presets directory is the common case
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = e.isDirectory()
      ? e.name
      : e.isFile() && e.name.endsWith('.json')
      ? e.name.slice(0, -'.json'.length)
      : undefined
    if (name === undefined || !PRESET_NAME.test(name) || Object.hasOwn(files, name)) continue
    const candidates = e.isDirectory()
      ? [join(dir, e.name, 'manifest.json'), join(dir, e.name, 'config.json')]
      : [join(dir, e.name)]
    for (const path of candidates) {
      try {
        setOwn(files, name, JSON5.parse(await readFile(path, 'utf8')))
        setOwn(paths, name, path)
        break
      } catch (err) {
        if (e.isDirectory() && (err as { code?: unknown }).code === 'ENOENT') continue
        errors.push(`${path}: ${messageOfThrown(err)}`)
        break
      }
    }
  }
  return { files, paths, errors }
}

/** What a preset is read against: the main config (its Router's policies, its providers) and the environment. */
export interface PresetContext {
  readonly name: string
  readonly config: Pick<Config, 'router' | 'providers'>
  readonly env?: Env
}

export interface PresetOfFile {
  readonly preset?: PresetConfig
  /** A manifest's providers that the config does not already have, named `<preset>/<provider>`. */
  readonly providers: readonly ProviderConfig[]
  /** Why the file cannot serve (it is skipped). */
  readonly errors: string[]
  /** What it serves without (unset variables, unanswered inputs). */
  readonly warnings: string[]
}

const sameEndpoint = (a: ProviderConfig, b: ProviderConfig): boolean =>
  a.baseUrl === b.baseUrl && a.format === b.format &&
  JSON.stringify([a.transformers, a.modelTransformers, a.headers]) ===
    JSON.stringify([b.transformers, b.modelTransformers, b.headers])

/**
 * A manifest's providers as the preset's: one the config already has (same name, URL and
 * transformers, and the same key, or a key left as an unset `${VAR}`: a preset exported from
 * this config) is the config's, sharing its key, breakers and limits; any other is added as
 * `<preset>/<name>`, so two presets (or a preset and the config) may each have a "deepseek"
 * with a key of its own. Returns the names the preset's targets use, by the name it wrote, and
 * the variables of the keys the config's providers stood in for.
 */
function presetProviders(
  raw: unknown,
  ctx: PresetContext,
): { names: Map<string, string>; added: ProviderConfig[]; borrowed: Set<string>; errors: string[] } {
  const names = new Map<string, string>()
  const added: ProviderConfig[] = []
  const borrowed = new Set<string>()
  const errors: string[] = []
  if (raw === undefined) return { names, added, borrowed, errors }
  if (!Array.isArray(raw)) return { names, added, borrowed, errors: ['Providers: expected an array'] }
  raw.forEach((entry, i) => {
    const parsed = configSchemas().provider.safeParse(entry)
    if (!parsed.success) {
      errors.push(...parsed.error.issues.map((x) => `${formatPath(['Providers', i, ...x.path])}: ${x.message}`))
      return
    }
    const p = toProvider(parsed.data)
    const main = ctx.config.providers.find((m) => m.name === p.name)
    const unsetKey = isVarReference(p.apiKey)
    if (main && sameEndpoint(main, p) && (main.apiKey === p.apiKey || unsetKey)) {
      names.set(p.name, p.name)
      if (unsetKey) borrowed.add(p.apiKey.replace(/^\$\{?|\}$/g, ''))
    } else {
      const scoped = `${ctx.name}/${p.name}`
      names.set(p.name, scoped)
      added.push({ ...p, name: scoped })
    }
  })
  return { names, added, borrowed, errors }
}

/** The keys of a preset file that its routes are served with. */
const SERVED_KEYS = new Set<string>([
  'Providers',
  'providers',
  'Router',
  'route',
  'max_tokens',
  'temperature',
  ...SCENARIO_KEYS,
])

/** `section` with only the keys in SERVED_KEYS (anything else, unchanged, for the schema to refuse). */
function servedPart(section: unknown): unknown {
  if (!isPlainObject(section)) return section
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(section)) if (SERVED_KEYS.has(k)) setOwn(out, k, v)
  return out
}

/**
 * One preset file as a PresetConfig: its targets replace the main Router's scenario targets;
 * a scenario it does not name is off (falls through to `default`), as with config presets.
 * A manifest's targets name its own providers (see `presetProviders`); every target must name a
 * provider the preset or the config has.
 */
export function presetFromFile(file: unknown, ctx: PresetContext): PresetOfFile {
  const warnings: string[] = []
  let section = file
  if (isManifest(file)) {
    const s = configSectionOf(file)
    section = s.config
    for (const id of s.unanswered) {
      warnings.push(`no answer for the input "${id}" (switchyard preset install ${ctx.name} asks for it)`)
    }
  }
  // Only what a preset is served with is read (and its variables reported): a CCR 2.0 export
  // carries the whole config (APIKEY, PORT, LOG…), which the preset's routes do not use.
  const interpolated = interpolateEnv(servedPart(section), ctx.env ?? {})
  section = interpolated.value
  const parsed = configSchemas().preset.safeParse(section)
  if (!parsed.success) {
    return {
      providers: [],
      warnings,
      errors: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    }
  }
  const p = parsed.data
  const own = presetProviders((p as Record<string, unknown>).Providers ?? (p as Record<string, unknown>).providers, ctx)
  if (own.errors.length > 0) return { providers: [], warnings, errors: own.errors }
  for (const v of interpolated.unset) if (!own.borrowed.has(v)) warnings.push(`$${v} is not set`)
  const errors: string[] = []
  const known = new Set([...ctx.config.providers.map((x) => x.name), ...own.added.map((x) => x.name)])
  // Each target names its provider as the preset wrote it: the name it is served under.
  const named = presetTargets(p)
  const targets = { ...named }
  for (const k of SCENARIO_KEYS) {
    const v = named[k]
    if (v === undefined) continue
    const t = splitTarget(v)
    const provider = t ? (own.names.get(t.provider) ?? t.provider) : undefined
    if (!t || !known.has(provider!)) errors.push(`${k}: "${v}" names no provider of the preset or the config`)
    else targets[k] = `${provider},${t.model}`
  }
  if (errors.length > 0) return { providers: [], warnings, errors }
  return { preset: presetOf(p, ctx.config.router, targets), providers: own.added, errors: [], warnings }
}

/**
 * `config` with the presets of `files` added under its own (config wins on a name clash), and
 * the providers of theirs it did not have. `warn` gets one line per file skipped or served
 * without something.
 */
export function withPresetFiles(
  config: Config,
  files: Readonly<Record<string, unknown>>,
  opts: { readonly warn: (m: string) => void; readonly env?: Env },
): Config {
  const added: Record<string, PresetConfig> = {}
  const providers: ProviderConfig[] = []
  for (const [name, file] of Object.entries(files)) {
    if (Object.hasOwn(config.presets, name)) continue
    const r = presetFromFile(file, { name, config, env: opts.env })
    if (r.preset) {
      setOwn(added, name, r.preset)
      providers.push(...r.providers)
      for (const w of r.warnings) opts.warn(`preset "${name}": ${w}`)
    } else opts.warn(`preset "${name}": ${r.errors.join('; ')}: skipped`)
  }
  if (Object.keys(added).length === 0) return config
  return {
    ...config,
    presets: { ...added, ...config.presets },
    ...(providers.length > 0 ? { providers: [...config.providers, ...providers] } : {}),
  }
}

/** What a preset file is and what the service makes of it: for `switchyard preset list|info` and `GET /api/presets`. */
export interface PresetSummary {
  readonly name: string
  /** The file it was read from. */
  readonly path: string
  readonly version?: string
  readonly description?: string
  readonly author?: string
  readonly keywords?: string[]
  /** Whether `/preset/<name>/…` serves it (false: skipped for `problems`, or a config preset of that name wins). */
  readonly served: boolean
  /** A config `Presets` entry of the same name serves instead of this file. */
  readonly shadowed: boolean
  /** Scenario → `provider,model`, as it is served. */
  readonly targets: Record<string, string>
  /** Its own providers (never their keys; URLs redacted). */
  readonly providers: { name: string; url: string; format: string; models: string[] }[]
  /** The inputs an install asks for, and whether each has an answer. */
  readonly inputs: { id: string; type: string; label: string; answer: 'given' | 'default' | 'none' }[]
  /** Why it is not served. */
  readonly problems: string[]
  readonly warnings: string[]
}

/** `file` (read from `path`) as a PresetSummary, read against `ctx` as the service reads it. */
export function describePreset(
  file: unknown,
  ctx: PresetContext & { readonly path: string; readonly presets?: Config['presets'] },
): PresetSummary {
  const r = presetFromFile(file, ctx)
  const meta = isPlainObject(file) ? file : {}
  const text = (k: string) => (typeof meta[k] === 'string' ? { [k]: meta[k] as string } : {})
  const shadowed = ctx.presets !== undefined && Object.hasOwn(ctx.presets, ctx.name)
  const answers = isPlainObject(meta.userValues) ? meta.userValues : {}
  const router = r.preset?.router as unknown as Record<string, unknown> | undefined
  return {
    name: ctx.name,
    path: ctx.path,
    ...text('version'),
    ...text('description'),
    ...text('author'),
    ...(Array.isArray(meta.keywords)
      ? { keywords: meta.keywords.filter((k): k is string => typeof k === 'string') }
      : {}),
    served: r.preset !== undefined && !shadowed,
    shadowed,
    targets: Object.fromEntries(
      SCENARIO_KEYS.flatMap((k) => (typeof router?.[k] === 'string' ? [[k, router[k] as string]] : [])),
    ),
    providers: r.providers.map((p) => ({
      name: p.name,
      url: redactUrl(p.baseUrl),
      format: p.format,
      models: [...p.models],
    })),
    inputs: isManifest(file)
      ? inputsOf(file).map((i) => ({
        id: i.id,
        type: i.type,
        label: i.label,
        answer: Object.hasOwn(answers, i.id) ? 'given' : i.defaultValue !== undefined ? 'default' : 'none',
      }))
      : [],
    problems: r.errors,
    warnings: r.warnings,
  }
}

/** Every preset file of `dir`, described as the service reads them against `config`, and the files it could not read. */
export async function describePresetDir(
  dir: string,
  ctx: { readonly config: Pick<Config, 'router' | 'providers' | 'presets'>; readonly env?: Env },
): Promise<{ presets: PresetSummary[]; errors: string[] }> {
  const { files, paths, errors } = await readPresetDir(dir)
  const presets = Object.keys(files).map((name) =>
    describePreset(files[name], {
      name,
      config: ctx.config,
      env: ctx.env,
      path: paths[name]!,
      presets: ctx.config.presets,
    })
  )
  return { presets, errors }
}

/** Removes preset `name` from `dir` (its folder, else `<name>.json`); false when there is none. */
export async function removePresetFile(dir: string, name: string): Promise<boolean> {
  if (!PRESET_NAME.test(name)) return false
  for (const path of [join(dir, name), join(dir, `${name}.json`)]) {
    try {
      await stat(path)
    } catch {
      continue
    }
    await rm(path, { recursive: true, force: true })
    return true
  }
  return false
}

/**
 * Stores `given` answers (checked and typed against the inputs) in preset `name`'s manifest, over
 * those it had, as `preset install NAME` and CCR's `POST /api/presets/{name}/apply` do. The
 * manifest holds keys afterwards: it is written 0600. Returns the inputs still unanswered.
 */
export async function applyPresetAnswers(
  dir: string,
  name: string,
  given: Readonly<Record<string, unknown>>,
): Promise<{ found: boolean; unanswered: string[] }> {
  if (!PRESET_NAME.test(name)) return { found: false, unanswered: [] }
  const path = join(dir, name, 'manifest.json')
  let manifest: unknown
  try {
    manifest = JSON5.parse(await readFile(path, 'utf8'))
  } catch {
    return { found: false, unanswered: [] }
  }
  if (!isPlainObject(manifest)) throw new Error(`${path}: expected a JSON object`)
  const answers: Record<string, unknown> = {}
  if (isPlainObject(manifest.userValues)) {
    for (const [k, v] of Object.entries(manifest.userValues)) setOwn(answers, k, v)
  }
  for (const [k, v] of Object.entries(checkedAnswers(manifest, given))) setOwn(answers, k, v)
  await writeAnsweredManifest(path, { ...manifest, userValues: answers })
  return { found: true, unanswered: unansweredInputs(manifest, answers).map((i) => i.id) }
}

/**
 * Writes a manifest holding answers (usually keys) readable by the user alone. `writeFile`'s
 * mode applies only to a file it creates (an installed copy keeps the source's), hence the chmod.
 */
export async function writeAnsweredManifest(path: string, manifest: Readonly<Record<string, unknown>>): Promise<void> {
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 })
  await chmod(path, 0o600)
}
