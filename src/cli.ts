#!/usr/bin/env bun
/**
 * Entry point: argv → config → deps → app → serve → signals. The only module (with runtime/)
 * that touches `process`.
 */
import { parseCli } from './cli/options.ts'
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
  ui                 Open the dashboard: print its URL (starting the proxy when none runs) and open a browser
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
  main(process.argv.slice(2)).then((code) => { if (code !== -1) process.exitCode = code }, (e) => {
    console.error(e instanceof Error ? e.stack : e)
    process.exit(1)
  })
}
