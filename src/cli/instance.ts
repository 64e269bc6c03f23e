/**
 * One configured instance of the proxy: services, stores, observers and the app. A reload
 * builds a new one and retires the old.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { createApp } from '../app.ts'
import { createServices, type Services } from '../compose.ts'
import type { Config } from '../config/types.ts'
import type { UpstreamFetch } from '../deps.ts'
import type { Logger } from '../log.ts'
import { VERSION } from '../version.ts'
import { removePidFile, writePidFile } from './pidfile.ts'
import type { ServerOptions } from './server.ts'

export interface AppBuildOptions {
  readonly dataDir: string
  readonly log?: Logger
  readonly fetch?: UpstreamFetch
  readonly now?: () => number
  readonly random?: () => number
  readonly maxStreams?: number
}

export interface BuiltApp {
  readonly app: OpenAPIHono
  readonly services: Services
  close(): Promise<void>
}

/** Services + app for a config, with no listener: what the server, the tests and the doc generator share. */
export async function buildAppForConfig(config: Config, opts: AppBuildOptions): Promise<BuiltApp> {
  const services = createServices(config, { log: opts.log, fetch: opts.fetch, now: opts.now, random: opts.random })
  const app = createApp(services.deps, {
    startedAt: services.deps.now(),
    activeStreams: services.telemetry.activeStreams,
    maxStreams: opts.maxStreams ?? config.maxStreams,
  })
  return {
    app,
    services,
    close: async () => { services.deps.watchdog.stop() },
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

export async function buildInstance(config: Config, opts: ServerOptions, reload: () => Promise<string>): Promise<Instance> {
  void reload
  const built = await buildAppForConfig(config, { dataDir: opts.dataDir, log: opts.log, maxStreams: opts.maxStreams })
  const pidDir = opts.dataDir === ':memory:' ? undefined : opts.dataDir
  return {
    app: built.app,
    services: built.services,
    started: async (port) => {
      if (pidDir) writePidFile(pidDir, { pid: process.pid, host: opts.host, port, version: VERSION, startedAt: new Date().toISOString() })
    },
    activeStreams: built.services.telemetry.activeStreams,
    abortStreams: (m) => built.services.deps.watchdog.abortAll(m),
    retire: () => {},
    close: async () => {
      await built.close()
      if (pidDir) removePidFile(pidDir, process.pid)
    },
  }
}
