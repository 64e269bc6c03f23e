#!/usr/bin/env bun
/**
 * Entry point: argv → config → deps → app → serve → signals. The only module (with runtime/)
 * that touches `process`.
 */
import { homedir } from 'node:os'
import { parseArgs } from 'node:util'
import type { Config } from './config/types.ts'
import { runtime } from './runtime/index.ts'
import { VERSION } from './version.ts'

const HELP = `switchyard ${VERSION}: a fast, resilient LLM routing proxy (drop-in Claude Code Router)

Usage: switchyard <command> [options]

Commands:
  start              Run the proxy (default). No config file found: demo mode with a built-in mock upstream
  validate           Check the config file and print every problem with its path (exit 2 on errors)
  env                Print the export lines that point Claude Code at this instance
  probe              Run active performance tests once against the configured models and print a table
  status             Is an instance running on the configured port? Version, uptime, streams, tiers
  stop               Stop the running instance (SIGTERM to the PID in the data dir)
  perf export FILE   Write the performance store to FILE (JSON)
  perf import FILE   Read a performance store export

Options:
  --config PATH      Config file (else $SWITCHYARD_CONFIG, $CCR_CONFIG, ~/.claude-code-router/config.json)
  --host HOST        Listen address (forced to 127.0.0.1 when APIKEY is unset)
  --port N           Listen port (default: config PORT, else 3456)
  --data-dir DIR     Usage and performance store (default ~/.switchyard; ':memory:' keeps nothing)
  --max-streams N    Concurrent streams before new ones get a 529 overloaded answer
  --shutdown-timeout S  Seconds active streams get to finish on SIGTERM (default 30)
  --models LIST      probe: comma-separated provider,model entries (separate them with ';')
  --type T           probe: latency | throughput | concurrent | health
  -h, --help         This help
  -v, --version      Print the version`

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
  // Loaded here, not at the top: a `start` that relaunches itself keeps a parent process alive,
  // and the parent should hold as little as possible (it never reads a config).
  const [{ configFileExists, loadConfigFile, resolveConfigPath }, { knownTransformer }] = await Promise.all([import('./config/load.ts'), import('./formats/index.ts')])
  const path = resolveConfigPath({ argPath: opts.config, env, home: homedir() })
  if ((await configFileExists(path)).missing) return { path, warnings: [], errors: opts.config ? [`${path}: no such file`] : [] }
  const loaded = await loadConfigFile(path, env, { knownTransformer })
  if (!loaded.ok) return { path, warnings: [], errors: loaded.error }
  return { path, config: loaded.value.config, raw: loaded.value.raw, warnings: loaded.value.warnings, errors: [] }
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: ReturnType<typeof parseCli>
  try {
    opts = parseCli(argv)
  } catch (e) {
    console.error(`switchyard: ${(e as Error).message}\nRun switchyard --help for usage`)
    return 2
  }
  if ('help' in opts) { console.log(HELP); return 0 }
  if ('version' in opts) { console.log(VERSION); return 0 }
  if (opts.command === 'start') {
    const relaunched = runtime.relaunchWithServerLimits()
    if (relaunched) return relaunched
  }
  const commands = await import('./cli/commands.ts')
  const run = commands.COMMANDS[opts.command]
  if (!run) { console.error(`switchyard: unknown command "${opts.command}"\n\n${HELP}`); return 2 }
  return run(opts, process.env)
}

if (import.meta.main) {
  // A finished command exits even when a timer or socket it opened is still referenced: a CLI
  // that printed its answer (or its error) must never hang.
  main(process.argv.slice(2)).then((code) => { if (code !== -1) process.exit(code) }, (e) => {
    console.error(e instanceof Error ? e.stack : e)
    process.exit(1)
  })
}
