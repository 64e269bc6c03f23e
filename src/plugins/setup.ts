/**
 * Start-up loading of everything users plug in from files: presets on disk, custom transformer
 * classes, the custom router, and which projects have CCR Router files. Runs once per instance,
 * before the services are built (presets change the Config the routing engine is made from).
 * Nothing here makes start-up fail: a bad file is logged and the rest of the proxy serves as if
 * it were absent.
 */
import type { Config } from '../config/types.ts'
import type { CustomRouter, ProjectRouters } from '../deps.ts'
import { systemClock, timerDelay } from '../lib/clock.ts'
import type { Logger } from '../log.ts'
import { loadCustomRouter } from './custom-router.ts'
import type { PathBase } from './load.ts'
import { readPresetDir, withPresetFiles } from './presets.ts'
import { createProjectRouters, projectsWithRouters } from './project-routers.ts'
import { loadTransformerPlugins } from './transformers.ts'

export interface PluginOptions {
  readonly base: PathBase
  readonly log: Logger
  /** The config file as written: the custom router gets it redacted. Default: the Config itself, redacted. */
  readonly rawConfig?: unknown
  /** Directory of preset files (`<name>/manifest.json`, `<name>.json`, `<name>/config.json`); none read when absent. */
  readonly presetDir?: string
  /** What `$VAR` in preset files reads (as config.json's interpolation does); none set when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** The custom router's deadline (default 50 ms, CCR's budget). */
  readonly routerTimeoutMs?: number
  /** Where CCR's project Router files and Claude Code's transcripts are; none looked for when absent. */
  readonly projectDirs?: ProjectDirs
  /** Milliseconds; the system clock when absent (the project Routers' caches). */
  readonly now?: () => number
}

export interface ProjectDirs {
  /** `~/.claude-code-router`: a folder per project, holding `config.json` and `<session>.json` Router files. */
  readonly routerDir: string
  /** `~/.claude/projects`: Claude Code's transcripts, `<project>/<session>.jsonl`. */
  readonly projectsDir: string
}

export interface Plugins {
  /** The config with the presets found on disk added. */
  readonly config: Config
  /** For `Deps.customRouter`, when CUSTOM_ROUTER_PATH names a router that loaded. */
  readonly customRouter?: CustomRouter
  /** For `Deps.projectRouters`, when a project folder holds Router files. */
  readonly projectRouters?: ProjectRouters
  /** Unregisters the transformer plugins (instance close or reload). */
  unload(): void
}

/** Loads presets, transformer plugins and the custom router named by `config`. */
export async function loadPlugins(config: Config, opts: PluginOptions): Promise<Plugins> {
  let withPresets = config
  if (opts.presetDir) {
    const { files, errors } = await readPresetDir(opts.presetDir)
    for (const e of errors) opts.log.warn(`preset file ${e}: skipped`)
    withPresets = withPresetFiles(config, files, { warn: (m) => opts.log.warn(m), env: opts.env })
  }
  const transformers = await loadTransformerPlugins(config.customTransformers, { base: opts.base, log: opts.log })
  const router = config.customRouterPath
    ? await loadCustomRouter(config.customRouterPath, {
      base: opts.base,
      rawConfig: opts.rawConfig ?? config,
      providers: config.providers,
      log: opts.log,
      timeoutMs: opts.routerTimeoutMs,
    })
    : undefined
  const projects = opts.projectDirs ? await projectsWithRouters(opts.projectDirs.routerDir) : []
  if (opts.projectDirs && projects.length > 0) {
    opts.log.info(`project Routers: ${projects.length} project folder(s) in ${opts.projectDirs.routerDir}`)
  }
  const projectRouters = opts.projectDirs && projects.length > 0
    ? createProjectRouters({
      ...opts.projectDirs,
      projects,
      main: withPresets.router,
      providers: withPresets.providers,
      now: opts.now ?? systemClock(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, timerDelay(ms))),
      warn: (m) => opts.log.warn(m),
    })
    : undefined
  return {
    config: withPresets,
    ...(router ? { customRouter: router } : {}),
    ...(projectRouters ? { projectRouters } : {}),
    unload: () => {
      transformers.unload()
      router?.close?.()
    },
  }
}
