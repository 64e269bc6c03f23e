/**
 * A running instance: services + app + listener, with graceful shutdown and config reload.
 * The listener calls whichever app is current, so a reload swaps it without dropping the
 * streams the old one is serving.
 */
import { loadConfigFile } from '../config/load.ts'
import { MAX_BODY_BYTES_CEILING } from '../config/schema.ts'
import type { Config } from '../config/types.ts'
import { knownTransformer } from '../formats/index.ts'
import { runtime } from '../runtime/index.ts'
import { buildInstance, type Instance, type ServedOptions } from './instance.ts'
import { createLiveRecorder } from '../live/recent.ts'
import { systemClock } from '../lib/clock.ts'
import { warmUp, type WarmupOptions } from '../warmup.ts'

/** What an instance needs (instance.ts), plus the port; the server makes the live recorder when absent. */
export interface ServerOptions extends ServedOptions {
  readonly port: number
  /** Drive synthetic requests through a throwaway app before listening (src/warmup.ts); none when absent. */
  readonly warmup?: WarmupOptions
}

export interface RunningServer {
  readonly url: string
  shutdown(drainMs: number): Promise<void>
  /** Requests being handled plus streams being sent. */
  activeRequests(): number
  /** Re-reads and re-validates the config file; an invalid file is rejected and the old config stays. */
  reload(): Promise<string>
}

export async function buildServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  // One recorder of recent requests and timelines for the server's life: a reload keeps the
  // dashboard's history, and one start time (a reload is not a restart: /health's uptime goes on).
  const clock = systemClock()
  const opts = { ...options, live: options.live ?? createLiveRecorder(clock), startedAt: options.startedAt ?? clock() }
  // Before listening, so the first requests a client can send find compiled code (docs/benchmarks.md, "Fifth pass").
  if (opts.warmup) {
    const w = await warmUp({ upstreams: config.providers.map((p) => p.format), ...opts.warmup })
    const fields = { requests: w.requests, failed: w.failed, ms: Math.round(w.ms) }
    if (w.failed) opts.log.warn('start-up warm-up: some synthetic requests failed', fields)
    else opts.log.debug('start-up warm-up done', fields)
  }
  let current: Instance = await buildInstance(config, opts, () => reload())
  // Handlers still working (before a stream is committed) count for draining like open streams.
  let handling = 0
  const handler = async (req: Request) => {
    handling++
    try {
      return await current.app.fetch(req)
    } finally {
      handling--
    }
  }
  const busy = () => handling + current.activeStreams()
  let served: Awaited<ReturnType<typeof runtime.serve>>
  try {
    served = await runtime.serve(handler, {
      port: opts.port,
      hostname: opts.host,
      // Not the config's limit: the app refuses an over-limit body in the client's own format
      // (by its declared length, before reading it), where the runtime's refusal is a bare 413.
      maxBodyBytes: MAX_BODY_BYTES_CEILING + 1024,
    })
  } catch (e) {
    // The instance's timers and store would keep a process that cannot listen alive forever.
    await current.close()
    throw e
  }
  const url = `http://${served.hostname.includes(':') ? `[${served.hostname}]` : served.hostname}:${served.port}`
  await current.started(served.port)
  // Start-up parses large modules (the tokenizer's ranks are a 1.1 MB file): give that garbage back.
  runtime.collectGarbage()
  const reclaim = reclaimAfterBursts(busy)

  async function reload(): Promise<string> {
    if (!opts.configPath) throw new Error('Cannot reload: running the demo config, there is no file to re-read')
    const loaded = await loadConfigFile(opts.configPath, opts.env, { knownTransformer })
    if (!loaded.ok) {
      throw new Error(`Config reload rejected, keeping the running config:\n  ${loaded.error.join('\n  ')}`)
    }
    const next = await buildInstance(loaded.value.config, { ...opts, rawConfig: loaded.value.raw }, () => reload())
    const old = current
    current = next
    await next.started(served.port)
    old.retire()
    return `config reloaded from ${opts.configPath} (${loaded.value.config.providers.length} providers)`
  }

  return {
    url,
    reload,
    activeRequests: busy,
    async shutdown(drainMs) {
      const log = opts.log
      clearInterval(reclaim)
      log.info('shutting down: no new connections, draining streams', {
        active: current.activeStreams(),
        drain_ms: drainMs,
      })
      const stopping = served.stop(false)
      const deadline = Date.now() + drainMs
      while (busy() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      if (busy() > 0) {
        log.warn('drain deadline passed: ending the remaining streams with an in-stream error', { active: busy() })
        current.abortStreams('Switchyard is shutting down: the stream was ended before completion')
        const grace = Date.now() + 2_000
        while (current.activeStreams() > 0 && Date.now() < grace) await new Promise((r) => setTimeout(r, 20))
      }
      await Promise.race([stopping, new Promise((r) => setTimeout(r, 1_000))])
      await served.stop(true)
      await current.close()
      log.info('stopped')
    },
  }
}

/**
 * After a burst of streams, give the memory back once the instance is idle again: the
 * collector would get there eventually, but an operator sizing a box watches RSS, and an idle
 * moment is when a full collection costs nobody anything. Checks once a second.
 */
function reclaimAfterBursts(busy: () => number, burst = 100): ReturnType<typeof setInterval> {
  let peak = 0
  return setInterval(() => {
    const now = busy()
    if (now > peak) peak = now
    if (now === 0 && peak >= burst) {
      peak = 0
      runtime.collectGarbage()
    }
  }, 1_000)
}
