/** The CLI's commands. Each returns an exit code (-1: keep running, the server owns the process). */
import { homedir } from 'node:os'
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'
import { runEnv } from './env.ts'
import { runStart } from './start.ts'
import { runPerf, runProbe } from './probe.ts'
import { runRestart, runStatus, runStop } from './status.ts'
import { runCode, runCodex, runGemini } from './code.ts'
import { runStatusLine } from './statusline.ts'
import { runModel } from './model.ts'
import { runUi } from './ui.ts'

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
  // CCR's project and session Router files, read as the running instance reads them (loaded only here).
  const [{ checkProjectRouterFiles }, { ccrDir }] = await Promise.all([
    import('../plugins/project-routers.ts'),
    import('../config/load.ts'),
  ])
  for (const f of await checkProjectRouterFiles(ccrDir(homedir()), r.config.router, r.config.providers)) {
    if (f.router) console.log(`  project Router ${f.path}: default ${f.router.default}`)
    else console.error(`  warning: project Router ${f.path}: ${f.problem}: its sessions use the config's Router`)
  }
  return 0
}

export const COMMANDS: Record<string, Command> = {
  start: runStart,
  validate: runValidate,
  env: runEnv,
  activate: runEnv,
  probe: runProbe,
  perf: runPerf,
  status: runStatus,
  stop: runStop,
  restart: runRestart,
  code: runCode,
  codex: runCodex,
  gemini: runGemini,
  statusline: runStatusLine,
  model: runModel,
  ui: runUi,
}
