/**
 * `switchyard preset …`: CCR 2.0's `ccr preset`, on the same folder
 * (`~/.claude-code-router/presets/`) and the same manifest format, so presets move between the
 * two. `list` and `info` say what the service will serve for each (or why it skips it),
 * `export` writes the config's providers and Router as a manifest with every secret replaced by a
 * `${VAR}` reference, `install` copies a preset folder in and asks for (or takes `--set`) the
 * inputs its `schema` names, `delete` removes one. A change reloads a running instance.
 * `switchyard <preset> [ARGS…]` runs Claude Code against `/preset/<preset>` (`code.ts`).
 */
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { parseArgs } from 'node:util'
import JSON5 from 'json5'
import { isPlainObject } from '../config/fields.ts'
import { ccrDir } from '../config/load.ts'
import { redactUrl } from '../config/redact.ts'
import type { Config } from '../config/types.ts'
import { setOwn } from '../lib/own.ts'
import {
  checkedAnswers,
  conditionHolds,
  configSectionOf,
  inputsOf,
  isManifest,
  type PresetInput,
  sanitizeSecrets,
  typedAnswer,
} from '../plugins/preset-manifest.ts'
import { interpolateEnv } from '../config/interpolate.ts'
import {
  describePresetDir,
  PRESET_NAME,
  presetFromFile,
  type PresetSummary,
  removePresetFile,
  writeAnsweredManifest,
} from '../plugins/presets.ts'
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'
import { reloadRunning } from './pidfile.ts'
import { dataDirOf } from './status.ts'
import { askLine } from './prompt.ts'
import { helpFor } from './help.ts'

/** CCR's presets folder, where CCR 2.0 and this service both look. */
export const presetsDir = (): string => join(ccrDir(homedir()), 'presets')

/** The config keys an exported preset carries: what a preset serves with (CCR exports these among the rest). */
const EXPORTED_KEYS = ['Providers', 'providers', 'Router', 'fallback', 'transformers', 'StatusLine'] as const

export async function runPreset(opts: CliOptions, env: Env): Promise<number> {
  const [sub, ...args] = opts.passthrough
  try {
    switch (sub) {
      case 'list':
      case 'ls':
        return await list(opts, env)
      case 'info':
        return await info(args, opts, env)
      case 'export':
        return await exportPreset(args, opts, env)
      case 'install':
        return await install(args, opts, env)
      case 'delete':
      case 'rm':
      case 'remove':
        return await remove(args, opts, env)
      case undefined:
      case 'help':
        console.log(helpFor('preset'))
        return sub === undefined ? 2 : 0
      default:
        console.error(`switchyard preset: unknown subcommand "${sub}"\n\n${helpFor('preset')}`)
        return 2
    }
  } catch (e) {
    console.error(`switchyard preset ${sub}: ${(e as Error).message}`)
    return 1
  }
}

/**
 * What the service reads presets against. A config that does not load is no config (every
 * target must then be the preset's own), and a line on stderr says so: the service would not
 * start with it either.
 */
async function mainConfig(opts: CliOptions, env: Env): Promise<Pick<Config, 'router' | 'providers' | 'presets'>> {
  const r = await readConfig(opts, env)
  if (r.config) return r.config
  if (r.errors.length > 0) {
    console.error(`note: ${r.path} does not load (${r.errors[0]}…): presets are read without its providers`)
  }
  return { providers: [], router: { default: '' } as Config['router'], presets: {} }
}

/** Every preset file of the folder, described as the service reads it. */
async function summaries(opts: CliOptions, env: Env): Promise<{ list: PresetSummary[]; errors: string[] }> {
  const { presets, errors } = await describePresetDir(presetsDir(), { config: await mainConfig(opts, env), env })
  return { list: presets, errors }
}

const headline = (p: PresetSummary): string =>
  [p.name, p.version ? `(v${p.version})` : '', p.description ?? '', p.author ? `by ${p.author}` : '']
    .filter(Boolean).join('  ')

const servedLine = (p: PresetSummary): string =>
  p.shadowed
    ? "not served: the config's Presets has one of this name"
    : p.served
    ? `default ${p.targets.default}${
      p.providers.length > 0 ? ` · ${p.providers.length} provider(s) of its own` : ''
    }  →  /preset/${p.name}/v1/messages`
    : `skipped by the service: ${p.problems.join('; ')}`

async function list(opts: CliOptions, env: Env): Promise<number> {
  const { list, errors } = await summaries(opts, env)
  if (list.length === 0 && errors.length === 0) {
    console.log(`no presets in ${presetsDir()}: switchyard preset export NAME, or switchyard preset install DIR`)
    return 0
  }
  for (const p of list) {
    console.log(headline(p))
    console.log(`  ${servedLine(p)}`)
    for (const w of p.warnings) console.log(`  warning: ${w}`)
  }
  for (const e of errors) console.log(`unreadable: ${e}`)
  return 0
}

/** The name a command names, checked (never a path). */
function presetName(args: readonly string[], usage: string): string {
  const name = args[0]
  if (name === undefined) throw new Error(`a preset name is needed: ${usage}`)
  if (!PRESET_NAME.test(name)) throw new Error(`"${name}" is not a preset name (letters, digits, _ . -)`)
  return name
}

async function info(args: readonly string[], opts: CliOptions, env: Env): Promise<number> {
  const name = presetName(args, 'switchyard preset info NAME')
  const p = (await summaries(opts, env)).list.find((x) => x.name === name)
  if (!p) {
    console.error(`switchyard preset info: no preset "${name}" in ${presetsDir()}`)
    return 1
  }
  console.log(headline(p))
  console.log(`  file: ${p.path}`)
  if (p.keywords?.length) console.log(`  keywords: ${p.keywords.join(', ')}`)
  if (p.served) console.log(`  served at /preset/${name}/v1/messages and /preset/${name}/v1/chat/completions`)
  else console.log(`  ${servedLine(p)}`)
  for (const [scenario, target] of Object.entries(p.targets)) console.log(`  ${scenario.padEnd(12)} ${target}`)
  for (const pr of p.providers) {
    console.log(`  provider ${pr.name}: ${pr.url} (${pr.format}), models ${pr.models.join(', ')}`)
  }
  const answered = { given: 'answered', default: 'default', none: 'not answered' } as const
  for (const i of p.inputs) console.log(`  input ${i.id} (${i.type}): ${i.label}: ${answered[i.answer]}`)
  for (const w of p.warnings) console.log(`  warning: ${w}`)
  return 0
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

async function exportPreset(args: readonly string[], opts: CliOptions, env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      description: { type: 'string' },
      author: { type: 'string' },
      tags: { type: 'string' },
      output: { type: 'string' },
      'include-sensitive': { type: 'boolean' },
    },
  })
  const name = presetName(positionals, 'switchyard preset export NAME')
  const r = await readConfig(opts, env)
  if (!isPlainObject(r.raw)) {
    console.error(`switchyard preset export: ${r.errors[0] ?? `${r.path}: no config file to export`}`)
    return 1
  }
  const raw = r.raw
  const section: Record<string, unknown> = {}
  for (const k of EXPORTED_KEYS) if (raw[k] !== undefined) setOwn(section, k, raw[k])
  const sanitized = values['include-sensitive'] ? { value: section, variables: [] } : sanitizeSecrets(section)
  const keywords = values.tags?.split(',').map((t) => t.trim()).filter(Boolean)
  const manifest = {
    name,
    version: '1.0.0',
    ...(values.description ? { description: values.description } : {}),
    ...(values.author ? { author: values.author } : {}),
    ...(keywords?.length ? { keywords } : {}),
    ...(sanitized.value as Record<string, unknown>),
  }
  const dir = values.output ? resolve(values.output) : join(presetsDir(), name)
  if (await exists(dir)) {
    console.error(`switchyard preset export: ${dir} already exists: delete it first, or choose another name`)
    return 1
  }
  await mkdir(dir, { recursive: true })
  // Secrets written on request stay readable by the user alone.
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: values['include-sensitive'] ? 0o600 : 0o644,
  })
  const providers = (raw.Providers ?? raw.providers) as unknown
  console.log(`exported ${r.path} as preset "${name}": ${join(dir, 'manifest.json')}`)
  console.log(
    `  ${Array.isArray(providers) ? providers.length : 0} provider(s), Router ${JSON.stringify(raw.Router ?? {})}`,
  )
  if (sanitized.variables.length > 0) {
    console.log(`  secrets written as variables: ${sanitized.variables.map((v) => `\${${v}}`).join(', ')}`)
    console.log(
      "  (here, providers the config has at the same URL keep the config's keys; elsewhere set the variables)",
    )
  }
  if (!values.output) console.log(`  ${await reloadRunning(dataDirOf(opts, env))}`)
  return 0
}

/**
 * Where a preset to install is: a folder holding `manifest.json` (copied whole, as CCR does), a
 * manifest file (only it is copied), or an installed preset's name (answered again in place).
 */
async function manifestSource(src: string): Promise<{ path: string; dir: string; folder: boolean } | undefined> {
  const asPath = resolve(src)
  try {
    const s = await stat(asPath)
    if (s.isDirectory()) return { path: join(asPath, 'manifest.json'), dir: asPath, folder: true }
    return { path: asPath, dir: dirname(asPath), folder: false }
  } catch {
    if (!PRESET_NAME.test(src)) return undefined
    const dir = join(presetsDir(), src)
    const path = join(dir, 'manifest.json')
    return (await exists(path)) ? { path, dir, folder: true } : undefined
  }
}

async function install(args: readonly string[], opts: CliOptions, env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { set: { type: 'string', multiple: true } },
  })
  const src = positionals[0]
  if (src === undefined) throw new Error("a preset folder (or an installed preset's name) is needed")
  const source = await manifestSource(src)
  if (!source) throw new Error(`"${src}" is neither a folder holding manifest.json nor an installed preset`)
  const manifest = JSON5.parse(await readFile(source.path, 'utf8')) as unknown
  if (!isPlainObject(manifest)) throw new Error(`${source.path}: expected a JSON object`)
  const name = [manifest.name, basename(source.dir)].find((n): n is string =>
    typeof n === 'string' && PRESET_NAME.test(n)
  )
  if (!name) throw new Error(`${source.path}: its "name" is not a preset name (letters, digits, _ . -)`)
  const target = join(presetsDir(), name)
  const reconfigure = resolve(source.dir) === resolve(target)
  if (source.folder && !reconfigure && `${target}${sep}`.startsWith(`${resolve(source.dir)}${sep}`)) {
    throw new Error(`${source.dir} holds the presets folder itself: copy the preset to a folder of its own first`)
  }
  if (!reconfigure && (await exists(target))) {
    throw new Error(
      `preset "${name}" is installed: switchyard preset delete ${name} first, or switchyard preset install ${name} to answer its inputs again`,
    )
  }

  const inputs = inputsOf(manifest)
  const answers: Record<string, unknown> = {}
  if (reconfigure && isPlainObject(manifest.userValues)) {
    for (const [k, v] of Object.entries(manifest.userValues)) setOwn(answers, k, v)
  }
  const given: Record<string, string> = {}
  for (const s of values.set ?? []) {
    const eq = s.indexOf('=')
    if (eq <= 0) throw new Error(`--set ${s}: expected ID=VALUE`)
    setOwn(given, s.slice(0, eq), s.slice(eq + 1))
  }
  for (const [id, v] of Object.entries(checkedAnswers(manifest, given))) setOwn(answers, id, v)
  const missing: PresetInput[] = []
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true
  for (const input of inputs) {
    if (Object.hasOwn(answers, input.id)) continue
    if (!conditionHolds(input.when, answers)) continue // CCR's `when`: asked only when it holds
    if (interactive) {
      const shown = input.defaultValue !== undefined && input.type !== 'password'
        ? ` [${String(input.defaultValue)}]`
        : ''
      // A select's static choices, by value (what the answer must be).
      const choices = input.options?.map((o) => String(isPlainObject(o) ? o.value : o))
      const among = choices?.length ? ` (${choices.join(', ')})` : ''
      const text = await askLine(`${input.prompt ?? input.label}${among}${shown}: `, {
        hidden: input.type === 'password',
      })
      if (text === undefined) throw new Error('cancelled: nothing installed')
      if (text !== '') setOwn(answers, input.id, typedAnswer(input, text))
      else if (input.defaultValue !== undefined) setOwn(answers, input.id, input.defaultValue)
      else if (input.required) missing.push(input)
    } else if (input.defaultValue !== undefined) setOwn(answers, input.id, input.defaultValue)
    else if (input.required) missing.push(input)
  }
  if (missing.length > 0) {
    throw new Error(
      `answers needed: ${missing.map((i) => `--set ${i.id}=… (${i.label})`).join(', ')}; nothing installed`,
    )
  }

  if (!reconfigure) {
    await mkdir(presetsDir(), { recursive: true })
    if (source.folder) await cp(source.dir, target, { recursive: true })
    else await mkdir(target)
  }
  const installed = { ...manifest, name, ...(Object.keys(answers).length > 0 ? { userValues: answers } : {}) }
  await writeAnsweredManifest(join(target, 'manifest.json'), installed)
  console.log(`${reconfigure ? 'reconfigured' : 'installed'} preset "${name}" in ${target}`)
  const r = presetFromFile(installed, { name, config: await mainConfig(opts, env), env })
  if (r.preset) console.log(`  default ${r.preset.router.default}  →  /preset/${name}/v1/messages`)
  else console.log(`  the service will skip it: ${r.errors.join('; ')}`)
  for (const w of r.warnings) console.log(`  warning: ${w}`)
  console.log(`  ${await reloadRunning(dataDirOf(opts, env))}`)
  return 0
}

async function remove(args: readonly string[], opts: CliOptions, env: Env): Promise<number> {
  const name = presetName(args, 'switchyard preset delete NAME')
  if (!(await removePresetFile(presetsDir(), name))) {
    console.error(`switchyard preset delete: no preset "${name}" in ${presetsDir()}`)
    return 1
  }
  console.log(`deleted preset "${name}"`)
  console.log(`  ${await reloadRunning(dataDirOf(opts, env))}`)
  return 0
}

/** How `switchyard <preset>` runs Claude Code for a preset file (see `presetLaunch`). */
export interface PresetLaunch {
  /** `claudeCodeSettings.env`: over the environment `code` sets. */
  readonly env: Readonly<Record<string, string>>
  /** The rest of `claudeCodeSettings`, for Claude Code's `--settings`. */
  readonly settings: Readonly<Record<string, unknown>>
  /** `noServer: true`: Claude Code at the preset's first provider itself. */
  readonly direct?: { readonly baseUrl: string; readonly apiKey: string }
  readonly notes: readonly string[]
}

/**
 * What a preset asks of the Claude Code it runs: its `claudeCodeSettings` (`env` into the
 * environment, the rest as `--settings`), and with `noServer: true` its first provider's URL
 * (without `/v1/messages`) and key instead of this service, as CCR 2.0 does. Answers and
 * `$VAR`s are applied as the service applies them.
 */
export function presetLaunch(file: unknown, env: Env): PresetLaunch {
  const raw = isManifest(file) ? configSectionOf(file).config : file
  const section = interpolateEnv(raw, env).value
  if (!isPlainObject(section)) return { env: {}, settings: {}, notes: [] }
  const settings = isPlainObject(section.claudeCodeSettings) ? section.claudeCodeSettings : {}
  const { env: settingsEnv, ...rest } = settings
  const childEnv: Record<string, string> = {}
  if (isPlainObject(settingsEnv)) {
    for (const [k, v] of Object.entries(settingsEnv)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') setOwn(childEnv, k, String(v))
    }
  }
  if (section.noServer !== true) return { env: childEnv, settings: rest, notes: [] }
  const providers = section.Providers ?? section.providers
  const first = Array.isArray(providers) && isPlainObject(providers[0]) ? providers[0] : undefined
  if (!first || typeof first.api_base_url !== 'string') {
    return {
      env: childEnv,
      settings: rest,
      notes: ['noServer is set but the preset names no provider: running through the service'],
    }
  }
  const baseUrl = first.api_base_url.replace(/\/v1\/messages\/?$/, '').replace(/\/$/, '')
  return {
    env: childEnv,
    settings: rest,
    direct: { baseUrl, apiKey: typeof first.api_key === 'string' ? first.api_key : '' },
    notes: [`noServer: Claude Code talks to ${redactUrl(baseUrl)} itself, not through this service`],
  }
}
