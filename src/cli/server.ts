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
import { createServerMemory } from '../compose.ts'
import { systemClock } from '../lib/clock.ts'
import { removePidFile, writePidFile } from './pidfile.ts'
import { VERSION } from '../version.ts'
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
  /** Instances a reload replaced that still serve what they began; each is closed once idle. */
  retiredInstances(): number
  /** Re-reads and re-validates the config file; an invalid file is rejected and the old config stays. */
  reload(): Promise<string>
}

/** An instance and how many of its handlers are still working. */
interface Serving {
  readonly instance: Instance
  handling: number
}

export async function buildServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  // One recorder of recent requests and timelines for the server's life: a reload keeps the
  // dashboard's history, one start time (a reload is not a restart: /health's uptime goes on),
  // what agents' conversations in progress rely on (their next turn may come after a reload) and
  // routing's measurements of the same upstreams.
  const clock = systemClock()
  const opts = {
    ...options,
    live: options.live ?? createLiveRecorder(clock),
    startedAt: options.startedAt ?? clock(),
    memory: options.memory ?? createServerMemory(clock),
  }
  // Before listening, so the first requests a client can send find compiled code (docs/benchmarks.md, "Fifth pass").
  if (opts.warmup) {
    const w = await warmUp({ upstreams: config.providers.map((p) => p.format), ...opts.warmup })
    const fields = { requests: w.requests, failed: w.failed, ms: Math.round(w.ms) }
    if (w.failed) opts.log.warn('start-up warm-up: some synthetic requests failed', fields)
    else opts.log.debug('start-up warm-up done', fields)
  }
  // An instance and its handlers still working (before a stream is committed), which count for
  // draining like open streams.
  let current: Serving = { instance: await buildInstance(config, opts, () => reload()), handling: 0 }
  // Instances a reload replaced, still serving what they began: drained and ended with the
  // current one at shutdown, and closed (stores flushed, timers stopped) once they are idle.
  const retired = new Set<Serving>()
  const handler = async (req: Request) => {
    const serving = current
    serving.handling++
    try {
      return await serving.instance.app.fetch(req)
    } finally {
      serving.handling--
    }
  }
  const load = (x: Serving) => x.handling + x.instance.activeStreams()
  const busy = () => {
    let n = load(current)
    for (const x of retired) n += load(x)
    return n
  }
  let sweep: ReturnType<typeof setInterval> | undefined
  const closeIdleRetired = () => {
    for (const x of retired) {
      if (load(x) > 0) continue
      retired.delete(x)
      // Its last bookings are in the store once it has closed: the current instance reads them.
      void x.instance.close().then(() => current.instance.resyncUsage())
    }
    if (retired.size === 0 && sweep !== undefined) {
      clearInterval(sweep)
      sweep = undefined
    }
  }
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
    await current.instance.close()
    throw e
  }
  const url = `http://${served.hostname.includes(':') ? `[${served.hostname}]` : served.hostname}:${served.port}`
  // The PID file is the process's, not an instance's: written once it listens, removed when the
  // server stops (a replaced instance closing must leave it, or `stop` and `status` lose the server).
  const pidDir = opts.dataDir === ':memory:' ? undefined : opts.dataDir
  if (pidDir) {
    writePidFile(pidDir, {
      pid: process.pid,
      host: opts.host,
      port: served.port,
      version: VERSION,
      startedAt: new Date(opts.startedAt).toISOString(),
    })
  }
  // Start-up parses large modules (the tokenizer's ranks are a 1.1 MB file): give that garbage back.
  runtime.reclaimMemory()
  const reclaim = reclaimAfterBursts(busy)

  async function reload(): Promise<string> {
    if (!opts.configPath) throw new Error('Cannot reload: running the demo config, there is no file to re-read')
    const loaded = await loadConfigFile(opts.configPath, opts.env, { knownTransformer })
    if (!loaded.ok) {
      throw new Error(`Config reload rejected, keeping the running config:\n  ${loaded.error.join('\n  ')}`)
    }
    const next = await buildInstance(loaded.value.config, { ...opts, rawConfig: loaded.value.raw }, () => reload())
    const old = current
    current = { instance: next, handling: 0 }
    old.instance.retire()
    retired.add(old)
    closeIdleRetired()
    if (retired.size > 0 && sweep === undefined) {
      sweep = setInterval(closeIdleRetired, 1_000)
      ;(sweep as { unref?: () => void }).unref?.()
    }
    return `config reloaded from ${opts.configPath} (${loaded.value.config.providers.length} providers)`
  }

  return {
    url,
    reload,
    activeRequests: busy,
    retiredInstances: () => retired.size,
    async shutdown(drainMs) {
      const log = opts.log
      clearInterval(reclaim)
      const all = [current, ...retired]
      const streams = () => all.reduce((n, x) => n + x.instance.activeStreams(), 0)
      log.info('shutting down: no new connections, draining streams', { active: streams(), drain_ms: drainMs })
      const stopping = served.stop(false)
      const deadline = Date.now() + drainMs
      while (busy() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const late = busy()
      if (late > 0) {
        log.warn('drain deadline passed: ending the remaining streams with an in-stream error', { active: late })
      }
      // Whether or not any is open: a connection accepted before the listener closed may still
      // reach a handler while the runtime winds down (Deno serves them), and its stream must end
      // at once, not stream on from an instance being closed.
      for (const x of all) {
        x.instance.abortStreams('Switchyard is shutting down: the stream was ended before completion')
      }
      const grace = Date.now() + 2_000
      while (streams() > 0 && Date.now() < grace) await new Promise((r) => setTimeout(r, 20))
      await Promise.race([stopping, new Promise((r) => setTimeout(r, 1_000))])
      await served.stop(true)
      if (sweep !== undefined) clearInterval(sweep)
      retired.clear()
      for (const x of all) await x.instance.close()
      if (pidDir) removePidFile(pidDir, process.pid)
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
      runtime.reclaimMemory()
    }
  }, 1_000)
}
