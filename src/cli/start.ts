/**
 * `switchyard start`: load the config (or run the demo), build the services, serve, and shut
 * down gracefully: stop accepting, let active streams finish up to the drain deadline, end the
 * rest with a well-formed in-stream error, flush stores, exit 0. A second signal exits at once.
 */
import { homedir } from 'node:os'
import type { CliOptions } from './options.ts'
import { configSummary, readConfig } from './options.ts'
import { demoConfig } from '../config/demo.ts'
import type { Config } from '../config/types.ts'
import { createLogger } from '../log.ts'
import { runtime } from '../runtime/index.ts'
import { VERSION } from '../version.ts'
import type { Env } from './options.ts'
import { envLines } from './env.ts'
import { describePortHolder } from './port-holder.ts'
import { startDemoUpstream } from './demo-upstream.ts'
import { buildServer, type RunningServer } from './server.ts'
import { WARMUP_REQUESTS, type WarmupOptions } from '../warmup.ts'

/** CCR's rule: without an APIKEY (or named `Keys`) the proxy is for this machine only, whatever HOST says. */
export function bindHost(config: Config, cliHost: string | undefined, warn: (m: string) => void): string {
  const wanted = cliHost ?? config.host
  if (config.apiKey || config.keys?.length || wanted === '127.0.0.1' || wanted === 'localhost' || wanted === '::1') {
    return wanted
  }
  warn(`APIKEY is not set: binding to 127.0.0.1 instead of ${wanted} (set APIKEY to listen on other addresses)`)
  return '127.0.0.1'
}

/**
 * The start-up warm-up, off unless asked for (it costs idle memory and start-up time; docs/benchmarks.md,
 * "Fifth pass"): `--warmup` sends `WARMUP_REQUESTS` synthetic requests, or SWITCHYARD_WARMUP=N of them;
 * SWITCHYARD_WARMUP=N (or `on`, `true`, `yes`) alone asks too. `--no-warmup` turns it off whatever the variable says.
 */
export function warmupOption(opts: Pick<CliOptions, 'warmup' | 'noWarmup'>, env: Env): WarmupOptions | undefined {
  if (opts.noWarmup) return undefined
  const v = env.SWITCHYARD_WARMUP?.trim().toLowerCase() ?? ''
  const n = Number(v)
  if (v !== '' && Number.isInteger(n) && n > 0) return { requests: n }
  if (opts.warmup || v === 'on' || v === 'true' || v === 'yes') return { requests: WARMUP_REQUESTS }
  return undefined
}

export async function runStart(opts: CliOptions, env: Env): Promise<number> {
  const r = await readConfig(opts, env)
  if (r.errors.length) {
    console.error(`switchyard: invalid config ${r.path}:`)
    for (const e of r.errors) console.error(`  ${e.startsWith(`${r.path}: `) ? e.slice(r.path.length + 2) : e}`)
    return 2
  }
  let config = r.config
  let stopDemo: (() => Promise<void>) | undefined
  if (!config) {
    const mock = await startDemoUpstream()
    stopDemo = () => mock.stop()
    config = demoConfig(mock.url)
  }
  const log = opts.verbose
    ? createLogger({ level: 'debug', enabled: true })
    : createLogger({ level: config.logLevel, enabled: config.log })
  for (const w of r.warnings) log.warn(w)
  if (config.ignoredKeys.length) log.info(`config keys accepted but not used: ${config.ignoredKeys.join(', ')}`)
  const host = bindHost(config, opts.host, (m) => log.warn(m))
  const port = opts.port ?? config.port
  const dataDir = opts.dataDir ?? env.SWITCHYARD_DATA_DIR ?? `${homedir()}/.switchyard`
  let server: RunningServer
  try {
    server = await buildServer(config, {
      host,
      port,
      dataDir,
      log,
      maxStreams: opts.maxStreams,
      configPath: r.config ? r.path : undefined,
      env,
      rawConfig: r.raw,
      warmup: warmupOption(opts, env),
    })
  } catch (e) {
    console.error(`switchyard: cannot listen on ${host}:${port}: ${(e as Error).message}`)
    const holder = port === 0 ? undefined : await describePortHolder({ host, port, dataDir })
    if (holder) console.error(`  ${holder}`)
    await stopDemo?.()
    return 1
  }
  // Signals are handled before the ready line is printed: a supervisor (or a test) that acts on
  // that line the moment it appears gets a graceful stop, not the signal's default action.
  let stopping = false
  const shutdown = async () => {
    if (stopping) process.exit(1)
    stopping = true
    await server.shutdown(opts.shutdownTimeoutSec * 1000)
    await stopDemo?.()
    process.exit(0)
  }
  runtime.onSignal('SIGTERM', () => void shutdown())
  runtime.onSignal('SIGINT', () => void shutdown())
  runtime.onOrphaned(() => {
    log.warn('the process that launched this server is gone: shutting down so the port is freed')
    void shutdown()
  })
  runtime.onSignal('SIGHUP', () => void server.reload().then((m) => log.info(m), (e: Error) => log.error(e.message)))
  banner(config, server.url, r.config ? r.path : undefined)
  return -1
}

function banner(config: Config, url: string, path: string | undefined): void {
  const u = new URL(url)
  const lines = [
    `switchyard ${VERSION} on ${runtime.name} ${runtime.version}: listening on ${url}`,
    path
      ? `config: ${path} (${configSummary(config)})`
      : 'demo mode: no config file found, serving a built-in mock upstream behind two demo providers (mock-anthropic, mock-openai)',
    '',
    'Point Claude Code at it:',
    ...envLines({
      host: u.hostname,
      port: Number(u.port),
      apiKey: config.apiKey ? '<your APIKEY>' : undefined,
      apiTimeoutMs: config.apiTimeoutMs,
    }).slice(0, 2).map((l) => `  ${l}`),
    '',
    `dashboard: ${url}/ui/   API docs: ${url}/docs   metrics: ${url}/metrics   health: ${url}/health`,
  ]
  console.log(lines.join('\n'))
}
