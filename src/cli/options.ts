/** The command line and the config file it names, shared by every command in `cli/`. */
import { homedir } from 'node:os'
import { parseArgs } from 'node:util'
import type { Config } from '../config/types.ts'

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
  /** `code`: everything after the command word, passed to Claude Code untouched. */
  readonly passthrough: readonly string[]
  /** `code`: leave a service it started running after the last session exits. */
  readonly keepService?: boolean
  /** `perf import`: add the file's runs to the history instead of replacing it. */
  readonly merge?: boolean
  /** `start`: `--warmup` runs the start-up warm-up (src/warmup.ts) before listening. */
  readonly warmup?: boolean
  /** `start`: `--no-warmup` skips it even when SWITCHYARD_WARMUP asks for it. */
  readonly noWarmup?: boolean
  /** CCR 2.0's `--verbose`: the service logs at debug level, whatever the config says. */
  readonly verbose?: boolean
}

/** Options that take a value (so the word after them is not the command). */
const VALUED = new Set([
  '--config',
  '-c',
  '--host',
  '--port',
  '-p',
  '--data-dir',
  '--max-streams',
  '--shutdown-timeout',
  '--models',
  '--type',
])

/** Every built-in command word (`commands.ts` has a function for each but `help`; a test checks they agree). */
export const BUILTIN_COMMANDS = [
  'start',
  'validate',
  'env',
  'activate',
  'probe',
  'perf',
  'status',
  'stop',
  'restart',
  'code',
  'codex',
  'gemini',
  'preset',
  'statusline',
  'model',
  'ui',
  'help',
] as const

/** The commands whose following words are their own: an agent's arguments, `preset`'s subcommand and flags. */
const PASSES_ON = new Set(['code', 'codex', 'gemini', 'preset'])
const BUILTIN: ReadonlySet<string> = new Set(BUILTIN_COMMANDS)

/**
 * Splits argv after a `code`, `codex`, `gemini` or `preset` command word, or a word that is no
 * built-in command (`switchyard my-preset ARGS…` runs Claude Code with that preset): what
 * follows belongs to it, flags included.
 */
export function splitPassthrough(argv: readonly string[]): { own: string[]; passthrough: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (VALUED.has(a)) {
      i++
      continue
    }
    if (a.startsWith('-')) continue
    return PASSES_ON.has(a) || !BUILTIN.has(a)
      ? { own: argv.slice(0, i + 1), passthrough: argv.slice(i + 1) }
      : { own: [...argv], passthrough: [] }
  }
  return { own: [...argv], passthrough: [] }
}

/**
 * The command line as options. `env` is read for CCR's `SERVICE_PORT`, the listen port when no
 * `--port` is given (above the config's `PORT`): every command reads it, so `code`, `status` and
 * `stop` find the instance `start` ran with it.
 */
export function parseCli(
  argv: readonly string[],
  env: Env = {},
): CliOptions | { help: true; command?: string } | { version: true } {
  const { own, passthrough } = splitPassthrough(argv)
  const { values, positionals } = parseArgs({
    // A lone `--` is dropped: `deno task start -- --port 3481` passes it on as it is (npm strips
    // it), and after it `--port` would be a word, not an option. No command takes a word that
    // starts with `-`, so nothing needs it.
    args: own.filter((a) => a !== '--'),
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      'data-dir': { type: 'string' },
      'max-streams': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      models: { type: 'string' },
      type: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      'keep-service': { type: 'boolean' },
      merge: { type: 'boolean' },
      warmup: { type: 'boolean' },
      'no-warmup': { type: 'boolean' },
      verbose: { type: 'boolean' },
    },
  })
  if (values.help) return { help: true, command: positionals[0] }
  if (values.version) return { version: true }
  const int = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined
    const n = Number(s)
    if (!Number.isInteger(n) || n < 0 || s.trim() === '') {
      throw new Error(`${name}: expected a whole number, got "${s}"`)
    }
    return n
  }
  return {
    command: positionals[0] ?? 'start',
    rest: positionals.slice(1),
    config: values.config,
    host: values.host,
    port: int(values.port, '--port') ?? int(env.SERVICE_PORT || undefined, 'SERVICE_PORT'),
    dataDir: values['data-dir'],
    maxStreams: int(values['max-streams'], '--max-streams'),
    shutdownTimeoutSec: int(values['shutdown-timeout'], '--shutdown-timeout') ?? 30,
    models: values.models,
    type: values.type,
    passthrough,
    keepService: values['keep-service'],
    merge: values.merge,
    warmup: values.warmup,
    noWarmup: values['no-warmup'],
    verbose: values.verbose,
  }
}

/** How many words each command takes after its name; a command not named here takes none. */
const COMMAND_WORDS: Readonly<Record<string, number>> = { help: 1, model: 3, perf: 2 }

/**
 * The first word after a command that the command does not take, if any. Such a word used to be
 * ignored in silence: `start 3481` served on the default port.
 */
export function unexpectedWord(opts: CliOptions): string | undefined {
  return opts.rest[COMMAND_WORDS[opts.command] ?? 0]
}

/** Loads the config; `undefined` config means the file does not exist (demo mode for `start`). */
export async function readConfig(
  opts: CliOptions,
  env: Record<string, string | undefined>,
): Promise<{ path: string; config?: Config; raw?: unknown; warnings: string[]; errors: string[] }> {
  // Loaded here, not at the top: a `start` without Bun's fetch limit starts again before it reads
  // a config (in place, or as a child that its parent waits on where execve is missing), so what
  // runs before that loads as little as possible.
  const [{ configFileExists, loadConfigFile, resolveConfigPath }, { knownTransformer }] = await Promise.all([
    import('../config/load.ts'),
    import('../formats/index.ts'),
  ])
  const path = resolveConfigPath({ argPath: opts.config, env, home: homedir() })
  if ((await configFileExists(path)).missing) {
    return { path, warnings: [], errors: opts.config ? [`${path}: no such file`] : [] }
  }
  const loaded = await loadConfigFile(path, env, { knownTransformer })
  if (!loaded.ok) return { path, warnings: [], errors: loaded.error }
  return { path, config: loaded.value.config, raw: loaded.value.raw, warnings: loaded.value.warnings, errors: [] }
}

/** `2 providers, default deepseek,deepseek-chat`, or `no providers yet` (CCR's first config). */
export const configSummary = (c: Pick<Config, 'providers' | 'router'>): string =>
  c.providers.length === 0 ? 'no providers yet' : `${c.providers.length} providers, default ${c.router.default}`
