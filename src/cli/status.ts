/** `switchyard status` and `switchyard stop`, through the PID file in the data dir. */
import { homedir } from 'node:os'
import type { CliOptions } from './options.ts'
import { readConfig } from './options.ts'
import type { Env } from './options.ts'
import { pidPath, type PidRecord, probeInstance, processAlive, readPidFile, removePidFile } from './pidfile.ts'
import { clientSettings, localBaseUrl } from './env.ts'
import { join } from 'node:path'
import { LOG_FILE, startInBackground, stopService } from './service.ts'
import { describePortHolder } from './port-holder.ts'

export const dataDirOf = (opts: CliOptions, env: Env) =>
  opts.dataDir ?? env.SWITCHYARD_DATA_DIR ?? `${homedir()}/.switchyard`

async function findRunning(
  opts: CliOptions,
  env: Env,
): Promise<{ rec?: PidRecord; health?: Record<string, unknown>; message?: string }> {
  const dir = dataDirOf(opts, env)
  const rec = readPidFile(dir)
  if (!rec) return { message: `not running (no PID file at ${pidPath(dir)})` }
  const probe = await probeInstance(rec)
  if (probe.running) return { rec, health: probe.health }
  removePidFile(dir, rec.pid)
  return {
    message: `not running: removed a stale PID file (pid ${rec.pid} ${
      processAlive(rec.pid) ? 'is another program' : 'has exited'
    }, port ${rec.port} does not answer as Switchyard)`,
  }
}

export async function runStatus(opts: CliOptions, env: Env): Promise<number> {
  const found = await findRunning(opts, env)
  if (!found.rec) {
    console.log(found.message)
    // Another data dir's instance (or one started by hand) may still hold the configured port.
    const c = (await readConfig(opts, env)).config
    const host = opts.host ?? c?.host ?? '127.0.0.1'
    const port = opts.port ?? c?.port ?? 3456
    const holder = await describePortHolder({ host, port, dataDir: dataDirOf(opts, env) })
    if (holder) console.log(`port ${port}: ${holder}`)
    return 1
  }
  const { rec, health } = found
  console.log(
    `running: pid ${rec.pid}, http://${rec.host}:${rec.port}, version ${String(health?.version)}, uptime ${
      Math.round(Number(health?.uptime_s))
    } s, active streams ${String(health?.active_streams)}`,
  )
  for (const line of fleetLines(health?.fleet)) console.log(line)
  const cfg = await readConfig(opts, env)
  const key = cfg.config?.apiKey ?? cfg.config?.keys?.[0]?.key
  try {
    const res = await fetch(`${localBaseUrl(rec.host, rec.port)}/v1/latencies`, {
      headers: key ? { 'x-api-key': key } : {},
      signal: AbortSignal.timeout(2_000),
    })
    if (res.ok) {
      const body = (await res.json()) as {
        targets?: { target: string; tier?: string; breaker: string; ewma_latency_ms?: number | null; samples: number }[]
      }
      for (const t of body.targets ?? []) {
        console.log(
          `  ${t.target.padEnd(40)} breaker ${t.breaker.padEnd(9)} ewma ${
            t.ewma_latency_ms == null ? '-' : `${Math.round(t.ewma_latency_ms)} ms`
          }  samples ${t.samples}`,
        )
      }
    }
  } catch { /* tiers are a bonus; the instance itself answered */ }
  return 0
}

/** The fleet part of `/health` as `status` prints it (nothing when fleet mode is off). */
export function fleetLines(fleet: unknown): string[] {
  if (typeof fleet !== 'object' || fleet === null) return []
  const f = fleet as {
    instance_id?: string
    state?: string
    redis?: string
    redis_latency_ms?: number | null
    perf_leader?: boolean
    members?: { id: string; ttl_ms: number; self: boolean; version?: string }[]
  }
  const latency = typeof f.redis_latency_ms === 'number' ? `${f.redis_latency_ms} ms` : '-'
  const members = f.members ?? []
  return [
    `fleet: ${String(f.state)}${
      f.state === 'degraded' ? ' (Redis unreachable: serving on local state)' : ''
    }, instance ${String(f.instance_id)}, redis ${String(f.redis)} (${latency}), ${members.length} member${
      members.length === 1 ? '' : 's'
    }${f.perf_leader ? ', leads the performance tests' : ''}`,
    ...members.map((m) =>
      `  ${m.self ? '*' : ' '} ${m.id.padEnd(38)} ttl ${Math.max(0, Math.round(m.ttl_ms))} ms${
        m.version ? `  v${m.version}` : ''
      }`
    ),
  ]
}

/** Stop (when running), then start again in the background and wait until it answers. */
export async function runRestart(opts: CliOptions, env: Env): Promise<number> {
  const dir = dataDirOf(opts, env)
  const found = await findRunning(opts, env)
  if (found.rec) {
    const s = await stopService(dir, (opts.shutdownTimeoutSec + 5) * 1000)
    if (!s.stopped) {
      console.error(`pid ${found.rec.pid} still running after ${opts.shutdownTimeoutSec + 5} s`)
      return 1
    }
    console.log(`stopped pid ${found.rec.pid}`)
  }
  const { settings, errors } = await clientSettings(opts, env)
  if (!settings) {
    for (const e of errors) console.error(e)
    return 2
  }
  const started = await startInBackground({
    opts,
    env,
    host: settings.host,
    port: settings.port,
    dataDir: dir,
    timeoutMs: 20_000,
  })
  if (!started.ok) {
    console.error(`switchyard restart: ${started.message}`)
    return 1
  }
  console.log(
    `started${started.pid ? ` pid ${started.pid}` : ''} on ${localBaseUrl(settings.host, settings.port)}${
      dir === ':memory:' ? '' : ` (output: ${join(dir, LOG_FILE)})`
    }`,
  )
  return 0
}

export async function runStop(opts: CliOptions, env: Env): Promise<number> {
  const found = await findRunning(opts, env)
  if (!found.rec) {
    console.log(found.message)
    return 1
  }
  const { pid } = found.rec
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + (opts.shutdownTimeoutSec + 5) * 1000
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  if (processAlive(pid)) {
    console.error(`pid ${pid} still running after ${opts.shutdownTimeoutSec + 5} s`)
    return 1
  }
  console.log(`stopped pid ${pid}`)
  return 0
}
