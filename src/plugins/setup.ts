/**
 * Start-up loading of everything users plug in from files: presets on disk, custom transformer
 * classes and the custom router. Runs once per instance, before the services are built (presets
 * change the Config the routing engine is made from). Nothing here makes start-up fail: a bad
 * file is logged and the rest of the proxy serves as if it were absent.
 */
import type { Config } from '../config/types.ts'
import type { CustomRouter } from '../deps.ts'
import type { Logger } from '../log.ts'
import { loadCustomRouter } from './custom-router.ts'
import type { PathBase } from './load.ts'
import { readPresetDir, withPresetFiles } from './presets.ts'
import { loadTransformerPlugins } from './transformers.ts'

export interface PluginOptions {
  readonly base: PathBase
  readonly log: Logger
  /** The config file as written: the custom router gets it redacted. Default: the Config itself, redacted. */
  readonly rawConfig?: unknown
  /** Directory of preset files (`<name>.json`, `<name>/config.json`); none read when absent. */
  readonly presetDir?: string
  /** The custom router's deadline (default 50 ms, CCR's budget). */
  readonly routerTimeoutMs?: number
}

export interface Plugins {
  /** The config with the presets found on disk added. */
  readonly config: Config
  /** For `Deps.customRouter`, when CUSTOM_ROUTER_PATH names a router that loaded. */
  readonly customRouter?: CustomRouter
  /** Unregisters the transformer plugins (instance close or reload). */
  unload(): void
}

/** Loads presets, transformer plugins and the custom router named by `config`. */
export async function loadPlugins(config: Config, opts: PluginOptions): Promise<Plugins> {
  let withPresets = config
  if (opts.presetDir) {
    const { files, errors } = await readPresetDir(opts.presetDir)
    for (const e of errors) opts.log.warn(`preset file ${e}: skipped`)
    withPresets = withPresetFiles(config, files, (m) => opts.log.warn(m))
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
  return {
    config: withPresets,
    ...(router ? { customRouter: router } : {}),
    unload: () => {
      transformers.unload()
      router?.close?.()
    },
  }
}
