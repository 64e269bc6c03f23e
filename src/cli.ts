#!/usr/bin/env bun
/**
 * Entry point: argv → config → deps → app → serve → signals. The only module (with runtime/)
 * that touches `process`.
 */
import { parseCli, unexpectedWord } from './cli/options.ts'
import { runtime } from './runtime/index.ts'
import { VERSION } from './version.ts'
import { HELP, helpFor } from './cli/help.ts'

async function main(argv: readonly string[]): Promise<number> {
  let opts: ReturnType<typeof parseCli>
  try {
    opts = parseCli(argv, process.env)
  } catch (e) {
    console.error(`switchyard: ${(e as Error).message}\nRun switchyard --help for usage`)
    return 2
  }
  if ('help' in opts) {
    console.log(helpFor(opts.command))
    return 0
  }
  if ('version' in opts) {
    console.log(VERSION)
    return 0
  }
  /** A word the (known) command does not take is an error, not ignored. */
  const refuseExtra = (o: typeof opts): number | undefined => {
    const extra = unexpectedWord(o)
    if (extra === undefined) return undefined
    console.error(`switchyard ${o.command}: unexpected argument "${extra}"\nRun switchyard help ${o.command} for usage`)
    return 2
  }
  if (opts.command === 'help') {
    console.log(helpFor(opts.rest[0]))
    return 0
  }
  if (opts.command === 'start') {
    const refused = refuseExtra(opts)
    if (refused) return refused
    const relaunched = runtime.relaunchWithServerLimits()
    if (relaunched) return relaunched
  }
  const commands = await import('./cli/commands.ts')
  const run = commands.COMMANDS[opts.command] ?? await commands.presetCommand(opts.command)
  if (!run) {
    console.error(`switchyard: unknown command "${opts.command}"\n\n${HELP}`)
    return 2
  }
  return refuseExtra(opts) ?? run(opts, process.env)
}

if (import.meta.main) {
  // A finished command exits even when a timer or socket it opened is still referenced: a CLI
  // that printed its answer (or its error) must never hang.
  main(process.argv.slice(2)).then((code) => {
    if (code !== -1) process.exit(code)
  }, (e) => {
    console.error(e instanceof Error ? e.stack : e)
    process.exit(1)
  })
}
