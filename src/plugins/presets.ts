/**
 * Presets installed on disk (CCR 2.0 / ccr-rust): `~/.claude-code-router/presets/<name>.json`
 * or `~/.claude-code-router/presets/<name>/config.json`, each a JSON5 file in the shape of a
 * config `Presets` entry: `{ route, max_tokens?, temperature? }`, `{ Router: {…} }`, or Router
 * keys at the top. They are read once at start and merged under the config's own `Presets`:
 * a preset named in config.json wins over a file of the same name.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import JSON5 from 'json5'
import { formatPath } from '../config/issues.ts'
import { configSchemas } from '../config/schema.ts'
import type { Config, PresetConfig, RouterConfig } from '../config/types.ts'
import { messageOfThrown } from './load.ts'
import { setOwn } from '../lib/own.ts'

/** The Router keys a preset may set; the main Router's policies (retries, weights…) are kept. */
const SCENARIO_KEYS = ['default', 'background', 'think', 'longContext', 'webSearch', 'image'] as const

/** A preset name usable in `/preset/{name}/…`: no path separators or dots at the start. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/** Raw preset files by name, plus one line for each file that could not be read. */
export async function readPresetDir(dir: string): Promise<{ files: Record<string, unknown>; errors: string[] }> {
  const files: Record<string, unknown> = {}
  const errors: string[] = []
  let entries: { name: string; isDirectory(): boolean; isFile(): boolean }[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return { files, errors } // no presets directory is the common case
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = e.isDirectory()
      ? e.name
      : e.isFile() && e.name.endsWith('.json')
      ? e.name.slice(0, -'.json'.length)
      : undefined
    if (name === undefined || !NAME.test(name)) continue
    const path = e.isDirectory() ? join(dir, e.name, 'config.json') : join(dir, e.name)
    try {
      setOwn(files, name, JSON5.parse(await readFile(path, 'utf8')))
    } catch (err) {
      if (e.isDirectory() && (err as { code?: unknown }).code === 'ENOENT') continue
      errors.push(`${path}: ${messageOfThrown(err)}`)
    }
  }
  return { files, errors }
}

/**
 * One preset file as a PresetConfig: its targets replace the main Router's scenario targets;
 * a scenario it does not name is off (falls through to `default`), as with config presets.
 */
export function presetFromFile(file: unknown, main: RouterConfig): { preset?: PresetConfig; errors: string[] } {
  const parsed = configSchemas().preset.safeParse(file)
  if (!parsed.success) return { errors: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) }
  const p = parsed.data
  const src: Record<string, unknown> = p.route ? { default: p.route } : (p.Router ?? p)
  const pick = (k: string): string | undefined => (typeof src[k] === 'string' && src[k] !== '' ? src[k] : undefined)
  const targets = Object.fromEntries(SCENARIO_KEYS.map((k) => [k, pick(k)]))
  const router: RouterConfig = { ...main, ...targets, default: pick('default') ?? main.default }
  return { preset: { router, maxTokens: p.max_tokens, temperature: p.temperature }, errors: [] }
}

/** `config` with the presets of `files` added under its own (config wins on a name clash). */
export function withPresetFiles(
  config: Config,
  files: Readonly<Record<string, unknown>>,
  warn: (m: string) => void,
): Config {
  const added: Record<string, PresetConfig> = {}
  for (const [name, file] of Object.entries(files)) {
    if (Object.hasOwn(config.presets, name)) continue
    const r = presetFromFile(file, config.router)
    if (r.preset) setOwn(added, name, r.preset)
    else warn(`preset "${name}": ${r.errors.join('; ')}: skipped`)
  }
  return Object.keys(added).length === 0 ? config : { ...config, presets: { ...added, ...config.presets } }
}
