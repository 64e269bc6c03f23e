/**
 * Start-up loading of everything users plug in from files: presets on disk, custom transformer
 * classes and the custom router. Runs once per instance, before the services are built (presets
 * change the Config the routing engine is made from). Nothing here makes start-up fail: a bad
 * file is logged and the rest of the proxy serves as if it were absent.
 */
import type { MiddlewareHandler } from 'hono'
import type { Config } from '../config/types.ts'
import type { TokenService } from '../deps.ts'
import type { Logger } from '../log.ts'
import { loadCustomRouter } from './custom-router.ts'
import type { PathBase } from './load.ts'
import { readPresetDir, withPresetFiles } from './presets.ts'
import { CustomRouteTable, customRouting } from './route-hook.ts'
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
  /** For `Deps.customRoutes`, when a custom router is loaded. */
  readonly customRoutes?: CustomRouteTable
  /** The edge middleware that runs the custom router, given the instance's token service. */
  middleware(tokens: TokenService): MiddlewareHandler | undefined
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
      base: opts.base, rawConfig: opts.rawConfig ?? config, providers: config.providers, log: opts.log, timeoutMs: opts.routerTimeoutMs,
    })
    : undefined
  const table = router ? new CustomRouteTable() : undefined
  return {
    config: withPresets,
    customRoutes: table,
    middleware: (tokens) => (router && table ? customRouting({ router, table, tokens }) : undefined),
    unload: () => {
      transformers.unload()
      router?.close?.()
    },
  }
}
