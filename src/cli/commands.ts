/**
 * The CLI's commands. Each returns an exit code (-1: keep running, the server owns the process).
 * Each command's module is imported when that command runs: a server started with `start` does
 * not keep the other commands' code (pickers, probes, status, sessions) resident for its life.
 */
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'

export type Command = (opts: CliOptions, env: Env) => Promise<number>

async function runValidate(opts: CliOptions, env: Env): Promise<number> {
  const r = await readConfig(opts, env)
  if (r.errors.length) {
    console.error(`${r.path}: ${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}`)
    for (const e of r.errors) console.error(`  ${e.startsWith(`${r.path}: `) ? e.slice(r.path.length + 2) : e}`)
    return 2
  }
  if (!r.config) {
    console.error(`${r.path}: no such file`)
    return 2
  }
  for (const w of r.warnings) console.error(`  warning: ${w}`)
  console.log(`${r.path}: valid (${r.config.providers.length} providers, default ${r.config.router.default})`)
  return 0
}

export const COMMANDS: Record<string, Command> = {
  start: async (o, e) => (await import('./start.ts')).runStart(o, e),
  validate: runValidate,
  env: async (o, e) => (await import('./env.ts')).runEnv(o, e),
  activate: async (o, e) => (await import('./env.ts')).runEnv(o, e),
  probe: async (o, e) => (await import('./probe.ts')).runProbe(o, e),
  perf: async (o, e) => (await import('./probe.ts')).runPerf(o, e),
  status: async (o, e) => (await import('./status.ts')).runStatus(o, e),
  stop: async (o, e) => (await import('./status.ts')).runStop(o, e),
  restart: async (o, e) => (await import('./status.ts')).runRestart(o, e),
  code: async (o, e) => (await import('./code.ts')).runCode(o, e),
  statusline: async (o, e) => (await import('./statusline.ts')).runStatusLine(o, e),
  model: async (o, e) => (await import('./model.ts')).runModel(o, e),
  ui: async (o, e) => (await import('./ui.ts')).runUi(o, e),
}
