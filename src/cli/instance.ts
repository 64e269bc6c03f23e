/**
 * One configured instance of the proxy: services, stores, observers and the app. A reload
 * builds a new one and retires the old.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { createApp } from '../app.ts'
import { createServices, type Services } from '../compose.ts'
import type { Config } from '../config/types.ts'
import type { Sleep, UpstreamFetch } from '../deps.ts'
import type { Logger } from '../log.ts'
import { VERSION } from '../version.ts'
import { removePidFile, writePidFile } from './pidfile.ts'
import type { ServerOptions } from './server.ts'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { loadPlugins } from '../plugins/setup.ts'
import type { ProxyEnv } from '../upstream-fetch.ts'
import { createLogger } from '../log.ts'
import { ActiveResults } from '../perf/active.ts'
import { PerfEngine } from '../perf/engine.ts'
import { passiveFromSnapshot } from '../perf/passive.ts'
import { performanceScore } from '../perf/score.ts'
import { createProbeSender } from '../proxy/probe-sender.ts'
import { registerManagement } from '../routes/management.ts'
import { registerObservability } from '../routes/observability.ts'
import { registerPerformance } from '../routes/performance.ts'
import { openStore, STORE_FILE } from '../store/db.ts'
import { PerformanceStore } from '../store/performance.ts'
import { UsageStore } from '../store/usage.ts'
import { configuredTargets } from '../perf/cli.ts'
import { parseConfig } from '../config/load.ts'
import { configFileAccess, type ConfigFileAccess } from '../config/write.ts'
import { knownTransformer } from '../formats/index.ts'
import { systemClock } from '../lib/clock.ts'
import { createLiveRecorder } from '../live/recent.ts'
import { registerLive } from '../routes/live.ts'

export interface AppBuildOptions {
  readonly dataDir: string
  readonly log?: Logger
  readonly fetch?: UpstreamFetch
  readonly now?: () => number
  readonly random?: () => number
  readonly sleep?: Sleep
  readonly maxStreams?: number
  /** The config file as written (uninterpolated), for the redacted `GET /api/config`. */
  readonly rawConfig?: unknown
  readonly reload?: () => Promise<string>
  /** The config file's path: relative plugin paths (CUSTOM_ROUTER_PATH, transformers) resolve from its directory. */
  readonly configPath?: string
  /** Proxy environment for upstream calls (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). */
  readonly env?: ProxyEnv
  /** Preset files directory; default `~/.claude-code-router/presets` (none for a `:memory:` data dir). */
  readonly presetDir?: string
  /** The config file for `PUT /api/config` (absent: the config cannot be saved from the API). */
  readonly configFile?: ConfigFileAccess
}

export interface BuiltApp {
  readonly app: OpenAPIHono
  readonly services: Services
  readonly engine: PerfEngine
  close(): Promise<void>
}

/** Services + app for a config, with no listener: what the server, the tests and the doc generator share. */
export async function buildAppForConfig(fileConfig: Config, opts: AppBuildOptions): Promise<BuiltApp> {
  const log = opts.log ?? createLogger({ level: fileConfig.logLevel, enabled: fileConfig.log })
  const plugins = await loadPlugins(fileConfig, {
    base: { home: homedir(), dir: opts.configPath ? dirname(opts.configPath) : process.cwd() },
    log,
    rawConfig: opts.rawConfig,
    presetDir: opts.presetDir ?? (opts.dataDir === ':memory:' ? undefined : join(homedir(), '.claude-code-router', 'presets')),
  })
  const config = plugins.config
  const store = openStore(opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, STORE_FILE), (m) => log.warn(m))
  const usageStore = new UsageStore(store, { log: (m) => log.warn(m) })
  // Filled in once the performance store is open; until then routing uses live traffic only.
  let active: ActiveResults | undefined
  const live = createLiveRecorder(opts.now ?? systemClock())
  const scoreOpts = { weights: config.performance.weights, thresholds: config.performance.thresholds, minTestCount: config.performance.minTestCount, minSamples: config.router.minSamples }
  const services = createServices(config, {
    log, fetch: opts.fetch, now: opts.now, random: opts.random, sleep: opts.sleep, onUsageDelta: (d) => usageStore.enqueue(d), env: opts.env, customRoutes: plugins.customRoutes,
    observers: [live.observer],
    performance: (target, snap, now) => {
      const a = active?.get(target)
      return a ? performanceScore({ active: a, ...(snap && snap.samples > 0 ? { passive: passiveFromSnapshot(snap) } : {}) }, now, scoreOpts) : undefined
    },
  })
  const { deps } = services
  services.observability.ledger.seed(usageStore.loadTotals())
  usageStore.start(1_000)
  const perfStore = PerformanceStore.open({ store, ttlDays: config.performance.historyTtlDays, now: deps.now, warn: (m) => log.warn(m) })
  active = new ActiveResults(() => perfStore.metrics())
  const engine = new PerfEngine({
    config: config.performance,
    targets: configuredTargets(config),
    sender: createProbeSender(deps),
    store: perfStore,
    now: deps.now,
    log: (m) => log.info(m),
    onResult: () => active?.refresh(),
  })
  if (config.performance.enabled) engine.start()
  // Imports and deletes through the API change the store too: pick them up within a minute.
  const refreshTimer = setInterval(() => active?.refresh(), 60_000)
  const passive = (target: string) => {
    const snap = services.routing.stats.snapshot(target, deps.now())
    return snap.samples === 0 ? undefined : passiveFromSnapshot(snap)
  }
  const app = createApp(deps, {
    startedAt: deps.now(),
    activeStreams: services.telemetry.activeStreams,
    maxStreams: opts.maxStreams ?? config.maxStreams,
    customRouting: plugins.middleware(deps.tokens),
    extraRoutes: (a) => {
      registerObservability(a, services)
      registerPerformance(a, { engine, store: perfStore, config: config.performance, now: deps.now, passive })
      registerManagement(a, { raw: opts.rawConfig, reload: opts.reload, file: opts.configFile })
      registerLive(a, { live, now: deps.now, providers: config.providers.map((p) => p.name), budget: (p, t) => services.routing.limiter.budget(p, t) })
    },
  })
  let closed = false
  return {
    app,
    services,
    engine,
    close: async () => {
      if (closed) return
      closed = true
      engine.stop()
      clearInterval(refreshTimer)
      plugins.unload()
      services.closeFetch()
      deps.watchdog.stop()
      usageStore.stop()
      usageStore.flush()
      perfStore.close()
      store.close()
    },
  }
}

export interface Instance {
  readonly app: OpenAPIHono
  readonly services: Services
  started(port: number): Promise<void>
  activeStreams(): number
  abortStreams(message: string): void
  /** Stops timers of a replaced instance; its open streams finish on their own. */
  retire(): void
  /** Flushes and closes stores (shutdown). */
  close(): Promise<void>
}

export async function buildInstance(config: Config, opts: ServerOptions & { rawConfig?: unknown }, reload: () => Promise<string>): Promise<Instance> {
  const validate = (text: string) => { const r = parseConfig(text, opts.env, { knownTransformer }); return r.ok ? [] : r.error }
  const built = await buildAppForConfig(config, {
    dataDir: opts.dataDir, log: opts.log, maxStreams: opts.maxStreams, rawConfig: opts.rawConfig, reload, configPath: opts.configPath, env: opts.env,
    ...(opts.configPath ? { configFile: configFileAccess(opts.configPath, validate, systemClock()) } : {}),
  })
  // Load the tokenizer's ranks now rather than inside the first requests' time to first byte.
  built.services.deps.tokens.estimate({ messages: [{ role: 'user', content: 'warm up the tokenizer' }] }, 'anthropic')
  const pidDir = opts.dataDir === ':memory:' ? undefined : opts.dataDir
  return {
    app: built.app,
    services: built.services,
    started: async (port) => {
      if (pidDir) writePidFile(pidDir, { pid: process.pid, host: opts.host, port, version: VERSION, startedAt: new Date().toISOString() })
    },
    activeStreams: built.services.telemetry.activeStreams,
    abortStreams: (m) => built.services.deps.watchdog.abortAll(m),
    // The old streams still bill usage and need their watchdog: only the scheduled tests stop.
    retire: () => built.engine.stop(),
    close: async () => {
      await built.close()
      if (pidDir) removePidFile(pidDir, process.pid)
    },
  }
}
