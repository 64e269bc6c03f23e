/** The command line and the config file it names, shared by every command in `cli/`. */
import { homedir } from 'node:os'
import { parseArgs } from 'node:util'
import { configFileExists, loadConfigFile, resolveConfigPath } from '../config/load.ts'
import type { Config } from '../config/types.ts'
import { knownTransformer } from '../formats/index.ts'

/** The process environment as the commands read it. */
export type Env = Record<string, string | undefined>

export interface CliOptions {
  readonly command: string
  readonly rest: readonly string[]
  readonly config?: string
  readonly host?: string
  readonly port?: number
  readonly dataDir?: string
  readonly maxStreams?: number
  readonly shutdownTimeoutSec: number
  readonly models?: string
  readonly type?: string
}

export function parseCli(argv: readonly string[]): CliOptions | { help: true } | { version: true } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string', short: 'p' },
      'data-dir': { type: 'string' }, 'max-streams': { type: 'string' }, 'shutdown-timeout': { type: 'string' },
      models: { type: 'string' }, type: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' },
    },
  })
  if (values.help) return { help: true }
  if (values.version) return { version: true }
  const int = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined
    const n = Number(s)
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got "${s}"`)
    return n
  }
  return {
    command: positionals[0] ?? 'start',
    rest: positionals.slice(1),
    config: values.config, host: values.host, port: int(values.port, 'port'), dataDir: values['data-dir'],
    maxStreams: int(values['max-streams'], 'max-streams'), shutdownTimeoutSec: int(values['shutdown-timeout'], 'shutdown-timeout') ?? 30,
    models: values.models, type: values.type,
  }
}

/** Loads the config; `undefined` config means the file does not exist (demo mode for `start`). */
export async function readConfig(opts: CliOptions, env: Record<string, string | undefined>): Promise<{ path: string; config?: Config; raw?: unknown; warnings: string[]; errors: string[] }> {
  const path = resolveConfigPath({ argPath: opts.config, env, home: homedir() })
  if ((await configFileExists(path)).missing) return { path, warnings: [], errors: opts.config ? [`${path}: no such file`] : [] }
  const loaded = await loadConfigFile(path, env, { knownTransformer })
  if (!loaded.ok) return { path, warnings: [], errors: loaded.error }
  return { path, config: loaded.value.config, raw: loaded.value.raw, warnings: loaded.value.warnings, errors: [] }
}
