/**
 * Reads the CCR `config.json`: path resolution, JSON5, `$VAR` interpolation, validation and
 * normalisation. The only module of config/ that touches files; env comes in as an argument.
 * A missing file is reported as `{ missing: true }` by `configFileExists`, so the CLI can
 * decide on demo mode before calling `loadConfigFile`.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import JSON5 from 'json5'
import { interpolateEnv } from './interpolate.ts'
import { configErrorMap, renderIssues } from './issues.ts'
import { normalise } from './normalise.ts'
import type { NormaliseOptions } from './normalise.ts'
import { configSchemas } from './schema.ts'
import type { Config } from './types.ts'
import { err, ok } from '../lib/result.ts'
import { jsonDepth, MAX_JSON_DEPTH } from '../lib/json-depth.ts'
import type { Result } from '../lib/result.ts'
import { reservedKeyErrors } from './reserved-keys.ts'
import { googleCloudFromEnv } from './vertex.ts'

type Env = Readonly<Record<string, string | undefined>>

export interface LoadedConfig {
  readonly config: Config
  readonly warnings: string[]
  /** The parsed, NOT interpolated JSON: safe to show after `redactConfig` (secrets stay `$VAR`). */
  readonly raw: unknown
}

export type ParseOptions = NormaliseOptions

/** CCR's folder in `home`: its config, presets and project Router files. */
export const ccrDir = (home: string): string => join(home, '.claude-code-router')

/**
 * Where the config lives: `--config PATH`, else SWITCHYARD_CONFIG, else CCR_CONFIG, else
 * `<home>/.claude-code-router/config.json` (CCR's own location, so a drop-in finds it).
 */
export function resolveConfigPath(opts: { argPath?: string; env: Env; home: string }): string {
  const pick = [opts.argPath, opts.env.SWITCHYARD_CONFIG, opts.env.CCR_CONFIG].find((p) => p !== undefined && p !== '')
  return pick ?? join(ccrDir(opts.home), 'config.json')
}

function parseJson5(text: string): Result<unknown, string> {
  try {
    return ok(JSON5.parse(text))
  } catch (e) {
    // json5 messages carry line and column ("JSON5: invalid character 'x' at 3:5") and never the file's values beyond one char.
    return err(`config is not valid JSON5: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * Parses config text: JSON5, then `$VAR`/`${VAR}` interpolation in every string, then
 * validation (every problem at once, `path: message`) and normalisation.
 * Unset variables stay as written and produce a warning naming the variable, never a value.
 */
export function parseConfig(text: string, env: Env, opts: ParseOptions = {}): Result<LoadedConfig, string[]> {
  if (text.length > MAX_JSON_DEPTH && jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return err([`(root): nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`])
  }
  const parsed = parseJson5(text)
  if (!parsed.ok) return err([parsed.error])
  const raw = parsed.value
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return err(['(root): expected an object'])
  const { value, unset } = interpolateEnv(raw, env)
  const key = unresolvedApiKey(raw as Record<string, unknown>, value as Record<string, unknown>, env)
  if (!key.ok) return err([key.error])
  const reserved = reservedKeyErrors(key.value)
  const result = configSchemas().file.safeParse(key.value, { error: configErrorMap })
  if (!result.success || reserved.length) {
    return err([...reserved, ...(result.success ? [] : renderIssues(result.error.issues))])
  }
  const { config: fileConfig, warnings } = normalise(result.data, opts)
  const fleet = fleetFromEnv(result.data.Fleet, env)
  if (!fleet.ok) return err([fleet.error])
  const onVertex = fileConfig.providers.some((p) => p.vertex !== undefined)
  const config: Config = {
    ...fileConfig,
    ...(fleet.value ? { fleet: fleet.value } : {}),
    ...(onVertex ? { googleCloud: googleCloudFromEnv(env) } : {}),
  }
  const envWarnings = unset.map((name) => `environment variable ${name} is not set: its reference is left as written`)
  return ok({ config, warnings: [...(key.warning ? [key.warning] : []), ...envWarnings, ...warnings], raw })
}

/**
 * `SWITCHYARD_REDIS_URL` turns fleet mode on (or replaces `Fleet.redis`); the other `Fleet`
 * keys keep their values or defaults. The URL may hold a password: errors never quote it.
 */
export function fleetFromEnv(file: unknown, env: Env): Result<Config['fleet'], string> {
  const url = env.SWITCHYARD_REDIS_URL
  if (url === undefined || url === '') return ok(undefined)
  const parsed = configSchemas().fleet.safeParse({
    ...(typeof file === 'object' && file !== null ? file : {}),
    redis: url,
  })
  return parsed.success ? ok(parsed.data) : err('SWITCHYARD_REDIS_URL: expected a redis:// or rediss:// URL')
}

/** `{ missing: true }` when nothing is at `path` (the CLI then offers demo mode); other stat errors propagate. */
export async function configFileExists(path: string): Promise<{ missing: boolean }> {
  try {
    await stat(path)
    return { missing: false }
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return { missing: true }
    throw e
  }
}

/** Reads and parses the file at `path`; an unreadable or missing file is an error naming the path. */
export async function loadConfigFile(
  path: string,
  env: Env,
  opts: ParseOptions = {},
): Promise<Result<LoadedConfig, string[]>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : 'unknown error'
    return err([`Cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : code}`])
  }
  const r = parseConfig(text, env, opts)
  return r.ok ? r : err(r.error.map((m) => `${path}: ${m}`))
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * An APIKEY that refers to an unset variable must never become a key: the literal text
 * `$UNSET_VAR` would be a valid (and guessable) password. With a non-loopback HOST the config
 * is refused; otherwise the key is dropped, so the proxy runs without one on 127.0.0.1 only,
 * with a warning that says so.
 */
function unresolvedApiKey(
  raw: Record<string, unknown>,
  value: Record<string, unknown>,
  env: Env,
): { ok: true; value: Record<string, unknown>; warning?: string } | { ok: false; error: string } {
  const written = raw['APIKEY']
  if (typeof written !== 'string') return ok(value)
  const { unset } = interpolateEnv(written, env)
  if (unset.length === 0) return ok(value)
  const names = unset.join(', ')
  const host = typeof value['HOST'] === 'string' && value['HOST'] !== '' ? value['HOST'] : undefined
  if (host !== undefined && !LOOPBACK_HOSTS.has(host)) {
    return err(
      `APIKEY: refers to the unset environment variable ${names}: refusing to listen on ${host} without a key (set ${names}, or remove HOST)`,
    )
  }
  const { APIKEY: _dropped, ...rest } = value
  return {
    ok: true,
    value: rest,
    warning:
      `APIKEY: refers to the unset environment variable ${names}: NO API KEY is required, and the proxy listens on 127.0.0.1 only`,
  }
}
