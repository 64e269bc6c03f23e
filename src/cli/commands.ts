/** The CLI's commands. Each returns an exit code (-1: keep running, the server owns the process). */
import { homedir } from 'node:os'
import type { CliOptions, Env } from './options.ts'
import { configSummary, readConfig } from './options.ts'
import { runEnv } from './env.ts'
import { runStart } from './start.ts'
import { runPerf, runProbe } from './probe.ts'
import { runRestart, runStatus, runStop } from './status.ts'
import { runCode, runCodex, runGemini, runPresetCode } from './code.ts'
import { presetsDir, runPreset } from './preset.ts'
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
  console.log(`${r.path}: valid (${configSummary(r.config)})`)
  // CCR's project and session Router files, read as the running instance reads them (loaded only here).
  const [{ checkProjectRouterFiles }, { ccrDir }] = await Promise.all([
    import('../plugins/project-routers.ts'),
    import('../config/load.ts'),
  ])
  for (const f of await checkProjectRouterFiles(ccrDir(homedir()), r.config.router, r.config.providers)) {
    if (f.router) console.log(`  project Router ${f.path}: default ${f.router.default}`)
    else console.error(`  warning: project Router ${f.path}: ${f.problem}: its sessions use the config's Router`)
  }
  // Preset files, read as the running instance reads them (a config `Presets` entry of the same name wins).
  const { readPresetDir, presetFromFile } = await import('../plugins/presets.ts')
  const presets = await readPresetDir(presetsDir())
  for (const e of presets.errors) console.error(`  warning: preset file ${e}: skipped`)
  for (const [name, file] of Object.entries(presets.files)) {
    if (Object.hasOwn(r.config.presets, name)) continue
    const p = presetFromFile(file, { name, config: r.config, env })
    if (p.preset) console.log(`  preset ${name} (${presets.paths[name]}): default ${p.preset.router.default}`)
    else console.error(`  warning: preset ${name} (${presets.paths[name]}): ${p.errors.join('; ')}: skipped`)
    for (const w of p.warnings) console.error(`  warning: preset ${name}: ${w}`)
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
  preset: runPreset,
  statusline: runStatusLine,
  model: runModel,
  ui: runUi,
}

/**
 * CCR 2.0's `ccr <preset> [ARGS…]`: Claude Code against `/preset/<preset>`, when an installed
 * preset has that name (undefined when none has).
 */
export async function presetCommand(name: string): Promise<Command | undefined> {
  const { readPresetDir, PRESET_NAME } = await import('../plugins/presets.ts')
  if (!PRESET_NAME.test(name)) return undefined
  const { files } = await readPresetDir(presetsDir())
  return Object.hasOwn(files, name) ? (opts, env) => runPresetCode({ name, file: files[name] }, opts, env) : undefined
}
