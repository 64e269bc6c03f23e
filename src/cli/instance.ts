/**
 * One served instance of the proxy: the composition root's instance plus what serving adds
 * (building what the first request would, retiring on reload). A reload builds a new one and
 * retires the old; the PID file is the server's (`server.ts`), which outlives them both.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { createInstance, type ServerMemory, type Services } from '../compose.ts'
import type { Config } from '../config/types.ts'
import type { Logger } from '../log.ts'
import type { Env } from './options.ts'
import { parseConfig } from '../config/load.ts'
import { configFileAccess } from '../config/write.ts'
import { scrubberOf } from '../config/secrets.ts'
import { knownTransformer } from '../formats/index.ts'
import { systemClock } from '../lib/clock.ts'
import type { LiveRecorder } from '../live/recent.ts'

/** What serving an instance needs of the server's options. */
export interface ServedOptions {
  readonly host: string
  readonly dataDir: string
  readonly log: Logger
  readonly maxStreams?: number
  /** The file to re-read on reload (absent in demo mode). */
  readonly configPath?: string
  readonly env: Env
  /** The file as written, for the redacted `GET /api/config`. */
  readonly rawConfig?: unknown
  /** Recent requests and timelines, kept across reloads. */
  readonly live?: LiveRecorder
  /** When the server started (ms since the epoch): `/health`'s uptime counts from it across reloads. */
  readonly startedAt?: number
  /** What a reload keeps: conversations in progress, routing's measurements. */
  readonly memory?: ServerMemory
  /** The presets folder; default `~/.claude-code-router/presets` (tests give their own). */
  readonly presetDir?: string
}

export interface Instance {
  readonly app: OpenAPIHono
  readonly services: Services
  activeStreams(): number
  abortStreams(message: string): void
  /** Stops timers of a replaced instance; its open streams finish on their own. */
  retire(): void
  /** Reads usage totals from the store again, once a replaced instance has closed (`AppInstance.resyncUsage`). */
  resyncUsage(): void
  /** Flushes and closes stores (shutdown). */
  close(): Promise<void>
}

export async function buildInstance(
  config: Config,
  opts: ServedOptions,
  reload: () => Promise<string>,
): Promise<Instance> {
  // Saving from the API validates exactly as start-up and reload do.
  const validate = (text: string) => {
    const r = parseConfig(text, opts.env, { knownTransformer })
    return r.ok ? [] : r.error
  }
  const built = await createInstance(config, {
    dataDir: opts.dataDir,
    log: opts.log,
    maxStreams: opts.maxStreams,
    rawConfig: opts.rawConfig,
    reload,
    configPath: opts.configPath,
    env: opts.env,
    presetEnv: opts.env,
    cwd: process.cwd(),
    // Claude Code keeps its transcripts under CLAUDE_CONFIG_DIR when that is set (else ~/.claude).
    ...(opts.env.CLAUDE_CONFIG_DIR ? { claudeConfigDir: opts.env.CLAUDE_CONFIG_DIR } : {}),
    ...(opts.configPath ? { configFile: configFileAccess(opts.configPath, validate, systemClock()) } : {}),
    ...(opts.live ? { live: opts.live } : {}),
    ...(opts.startedAt !== undefined ? { startedAt: opts.startedAt } : {}),
    ...(opts.memory ? { memory: opts.memory } : {}),
    ...(opts.presetDir ? { presetDir: opts.presetDir } : {}),
  })
  // What the first request would otherwise build inside its time to first byte, and every request
  // of a burst on a fresh instance waits behind (docs/benchmarks.md, "Sixth pass"): the tokenizer's
  // ranks, Hono's matcher (compiled from every route on the first match; all are registered by
  // now) and the secret scrubber each attempt carries.
  built.services.deps.tokens.estimate({ messages: [{ role: 'user', content: 'warm up the tokenizer' }] }, 'anthropic')
  built.app.router.match('GET', '/')
  scrubberOf(config)
  return {
    app: built.app,
    services: built.services,
    activeStreams: built.services.telemetry.activeStreams,
    abortStreams: (m) => built.services.deps.watchdog.abortAll(m),
    // The old streams still bill usage and need their watchdog: the scheduled tests stop (and in fleet mode, later, its Redis link).
    retire: () => built.retire(),
    resyncUsage: () => built.resyncUsage(),
    close: () => built.close(),
  }
}
