/**
 * `bun run harness fleet --instances N`: N Switchyard processes against one mock upstream,
 * once sharing a Redis (fleet mode) and once each on its own, and a table of what fleet mode
 * buys and costs: limit accuracy (a shared rpm against N × the budget), breaker propagation
 * time (tripped through one instance, seen by the others), and per-instance and fleet
 * throughput with the added p50 latency. Everything on 127.0.0.1, bounded in count and time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { PATHS, requestBody } from './stress/run.ts'
import { type Child, freePort, readProc, spawnServer } from './stress/proc.ts'
import { startRedis } from './stress/redis.ts'
import { cliStartArgs, startMockProcess } from './stress/switchyard.ts'
import { fmt, markdownTable, summarise } from './stress/stats.ts'

const RUNTIME = process.execPath
/** `SWITCHYARD_FLEET_ROOT=/path/to/checkout`: the instances run that checkout's src/cli.ts (default: this one). */
const INSTANCE_ROOT = process.env.SWITCHYARD_FLEET_ROOT
const HEADERS = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'harness' }

export interface FleetArgs {
  readonly instances: number
  readonly quick: boolean
  readonly json?: string
}

/** Providers: `fast` for throughput (limits that never bind, so the admission script runs), `limited` with a small rpm, `flaky` always failing, `free` without limits. */
function config(
  mockUrl: string,
  port: number,
  rpm: number,
  redis: string | undefined,
  prefix: string,
): Record<string, unknown> {
  const p = (name: string, model: string, extra: Record<string, unknown> = {}) => ({
    name,
    api_base_url: `${mockUrl}/v1/chat/completions`,
    api_key: 'k',
    models: [model],
    ...extra,
  })
  return {
    HOST: '127.0.0.1',
    PORT: port,
    LOG_LEVEL: 'warn',
    Providers: [
      p('fast', 'mock-fast:chunks=5:delay=0', { rpm: 10_000_000, maxConcurrent: 100_000 }),
      p('limited', 'mock-fast:chunks=5:delay=0', { rpm }),
      p('flaky', 'mock-fail:status=500'),
      // No limits: fleet mode spends no Redis round trip on its requests.
      p('free', 'mock-fast:chunks=5:delay=0'),
    ],
    Router: {
      default: 'fast,mock-fast:chunks=5:delay=0',
      tierRetries: { default: { max_retries: 0 }, 'tier-0': { max_retries: 0 } },
      fallbackToOtherTiers: false,
      breaker: { consecutiveFailures: 3, cooldownMs: 60_000, maxCooldownMs: 60_000, minRequestsForRate: 1_000_000 },
    },
    ...(redis ? { Fleet: { redis, keyPrefix: prefix, heartbeatMs: 250 } } : {}),
  }
}

async function startFleetOf(
  n: number,
  mockUrl: string,
  rpm: number,
  redis: string | undefined,
  prefix: string,
): Promise<{ procs: Child[]; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-fleet-'))
  const procs = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const port = await freePort()
    const path = join(dir, `config-${i}.json`)
    writeFileSync(path, JSON.stringify(config(mockUrl, port, rpm, redis, prefix)))
    const args = cliStartArgs(path, port)
    // Another checkout's instances under this harness: a before/after with the same measurement.
    if (INSTANCE_ROOT !== undefined) args[0] = join(INSTANCE_ROOT, 'src/cli.ts')
    return spawnServer(RUNTIME, args, 30_000)
  }))
  return {
    procs,
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function post(url: string, model: string): Promise<number> {
  try {
    const res = await fetch(url + PATHS.anthropic, {
      method: 'POST',
      body: requestBody('anthropic', model, false),
      headers: HEADERS,
      signal: AbortSignal.timeout(10_000),
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return -1
  }
}

/** `total` requests to `limited`, spread over the instances: how many the upstream saw. */
async function limitAccuracy(procs: readonly Child[], total: number): Promise<number> {
  const statuses = await Promise.all(
    Array.from({ length: total }, (_, i) => post(procs[i % procs.length]!.url, 'limited,mock-fast:chunks=5:delay=0')),
  )
  return statuses.filter((s) => s === 200).length
}

/** Trips `flaky` through the first instance; ms until every other instance reports it open (undefined: not within 3 s). */
async function breakerPropagation(procs: readonly Child[]): Promise<number | undefined> {
  for (let i = 0; i < 3; i++) await post(procs[0]!.url, 'flaky,mock-fail:status=500')
  const t0 = performance.now()
  const open = async (p: Child) => {
    const body = (await (await fetch(`${p.url}/v1/latencies`, { headers: HEADERS })).json()) as {
      targets: { target: string; breaker: string }[]
    }
    return body.targets.some((t) => t.target === 'flaky,mock-fail:status=500' && t.breaker === 'open')
  }
  while (performance.now() - t0 < 3_000) {
    if ((await Promise.all(procs.slice(1).map(open))).every(Boolean)) return performance.now() - t0
    await new Promise((r) => setTimeout(r, 2))
  }
  return undefined
}

/** Closed loop on every instance at once for `ms`: per-instance RPS and p50 latency. */
async function throughput(
  procs: readonly Child[],
  concurrency: number,
  ms: number,
  model = FAST,
): Promise<{ rps: number[]; p50: number; errors: number }> {
  const lat: number[] = []
  let errors = 0
  const end = performance.now() + ms
  const counts = await Promise.all(procs.map(async (p) => {
    let n = 0
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now()
        const status = await post(p.url, model)
        if (status === 200) {
          n++
          lat.push(performance.now() - s)
        } else errors++
      }
    }))
    return n
  }))
  return { rps: counts.map((c) => c / (ms / 1000)), p50: summarise(lat).p50, errors }
}

const FAST = 'fast,mock-fast:chunks=5:delay=0'
const FREE = 'free,mock-fast:chunks=5:delay=0'

interface Side {
  readonly admitted: number
  readonly propagationMs: number | undefined
  readonly rps: number[]
  readonly p50: number
  readonly p50Free: number
  readonly errors: number
  readonly redisMs?: number
  /** Redis scripts per request in the throughput rounds (background work included). */
  readonly redisPerRequest?: number
  /** CPU time of the instances (user + system, from /proc) per request in the throughput rounds, µs. */
  readonly cpuUs: number
  /** Redis's own CPU time per request in the throughput rounds (`INFO cpu`), µs. */
  readonly redisCpuUs?: number
}
type Load = Omit<Side, 'admitted' | 'propagationMs' | 'redisMs'>

/**
 * What Redis has done so far, read on a socket of its own: `scripts` run (`EVALSHA` and `EVAL`
 * in `INFO commandstats`; the commands a script runs inside count separately there; every fleet
 * call on the request path and in the background is one script) and its CPU seconds (`INFO cpu`).
 */
function redisStats(port: number): Promise<{ scripts: number; cpuSec: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' })
    let buf = ''
    sock.setTimeout(2_000, () => {
      sock.destroy()
      reject(new Error('INFO: no answer'))
    })
    sock.once('error', reject)
    sock.once('connect', () => sock.write('INFO everything\r\n'))
    sock.on('data', (d) => {
      buf += d.toString()
      const len = Number(/^\$(\d+)\r\n/.exec(buf)?.[1])
      if (!(buf.length >= len + String(len).length + 5)) return
      sock.destroy()
      let scripts = 0
      for (const m of buf.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) scripts += Number(m[2])
      let cpuSec = 0
      for (const m of buf.matchAll(/^used_cpu_(sys|user):([\d.]+)/gm)) cpuSec += Number(m[2])
      resolve({ scripts, cpuSec })
    })
  })
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length)

/** Throughput rounds alternate between the two fleets (A B A B), so machine drift hits both alike. */
async function compare(
  a: FleetArgs,
  fleets: { shared: readonly Child[]; alone: readonly Child[]; redisPort: number },
): Promise<[Load, Load]> {
  const { shared, alone } = fleets
  const rounds = a.quick ? 2 : 4
  const ms = a.quick ? 700 : 1_500
  await throughput(shared, 2, 300)
  await throughput(alone, 2, 300)
  const runs: [{ rps: number[]; errors: number }[], { rps: number[]; errors: number }[]] = [[], []]
  const lat: [number[], number[]] = [[], []]
  const free: [number[], number[]] = [[], []]
  const redis = { scripts: 0, cpuSec: 0 }
  const cpuSec = [0, 0]
  const requests = [0, 0]
  const procCpu = (procs: readonly Child[]) => procs.reduce((s, p) => s + (readProc(p.pid)?.cpuSec ?? Number.NaN), 0)
  for (let i = 0; i < rounds; i++) {
    for (const [k, procs] of [[0, shared], [1, alone]] as const) {
      const before = await redisStats(fleets.redisPort)
      const cpu0 = procCpu(procs)
      const r = await throughput(procs, 8, ms)
      cpuSec[k]! += procCpu(procs) - cpu0
      requests[k]! += r.rps.reduce((s, x) => s + x, 0) * (ms / 1000)
      if (k === 0) {
        const after = await redisStats(fleets.redisPort)
        redis.scripts += after.scripts - before.scripts
        redis.cpuSec += after.cpuSec - before.cpuSec
      }
      runs[k].push(r)
      // Added latency is read at concurrency 1, where the machine is not saturated.
      lat[k].push((await throughput(procs, 1, ms / 2)).p50)
      free[k].push((await throughput(procs, 1, ms / 2, FREE)).p50)
    }
  }
  const side = (k: 0 | 1): Load => {
    const n = runs[k][0]?.rps.length ?? 0
    return {
      rps: Array.from({ length: n }, (_, i) => mean(runs[k].map((r) => r.rps[i] ?? 0))),
      p50: mean(lat[k]),
      p50Free: mean(free[k]),
      errors: runs[k].reduce((s, r) => s + r.errors, 0),
      cpuUs: (1e6 * cpuSec[k]!) / Math.max(1, requests[k]!),
    }
  }
  const n0 = Math.max(1, requests[0]!)
  return [{ ...side(0), redisPerRequest: redis.scripts / n0, redisCpuUs: (1e6 * redis.cpuSec) / n0 }, side(1)]
}

async function redisLatency(p: Child): Promise<number | undefined> {
  const h = (await (await fetch(`${p.url}/health`)).json()) as { fleet?: { redis_latency_ms: number | null } }
  return h.fleet?.redis_latency_ms ?? undefined
}

export async function runFleet(a: FleetArgs): Promise<number> {
  const mock = await startMockProcess()
  const redis = await startRedis()
  try {
    process.stderr.write(
      `fleet: ${a.instances} instances of ${INSTANCE_ROOT ?? 'this checkout'}, mock ${mock.url}, redis ${redis.url}\n`,
    )
    const rpm = 30
    const fleet = await startFleetOf(a.instances, mock.url, rpm, redis.url, `harness${Date.now()}:`)
    const separate = await startFleetOf(a.instances, mock.url, rpm, undefined, 'unused:')
    let shared: Side
    let alone: Side
    try {
      const [t1, t2] = await compare(a, { shared: fleet.procs, alone: separate.procs, redisPort: redis.port })
      const redisMs = await redisLatency(fleet.procs[0]!)
      shared = {
        ...t1,
        admitted: await limitAccuracy(fleet.procs, rpm * 2),
        propagationMs: await breakerPropagation(fleet.procs),
        ...(redisMs === undefined ? {} : { redisMs }),
      }
      alone = {
        ...t2,
        admitted: await limitAccuracy(separate.procs, rpm * 2),
        propagationMs: await breakerPropagation(separate.procs),
      }
    } finally {
      await fleet.stop()
      await separate.stop()
    }
    const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0)
    const row = (label: string, s: Side) => [
      label,
      `${s.admitted} / 30 (sent 60)`,
      s.propagationMs === undefined ? 'never (3 s)' : `${fmt(s.propagationMs, 1)} ms`,
      s.rps.map((r) => fmt(r, 0)).join(' / '),
      fmt(sum(s.rps), 0),
      fmt(s.p50, 2),
      fmt(s.p50Free, 2),
      s.redisPerRequest === undefined ? '-' : fmt(s.redisPerRequest, 3),
      fmt(s.cpuUs, 0),
      s.redisCpuUs === undefined ? '-' : fmt(s.redisCpuUs, 0),
      String(s.errors),
    ]
    const md = [
      `### Fleet of ${a.instances} (one mock upstream, non-streaming; RPS at concurrency 8 per instance, p50 at concurrency 1; rounds interleaved)`,
      markdownTable([
        'mode',
        'rpm 30 admitted',
        'breaker seen by the others',
        'RPS per instance',
        'fleet RPS',
        'p50 ms (c=1)',
        'p50 ms no limits (c=1)',
        'Redis scripts / request (c=8, background included)',
        'instances CPU µs / request (c=8)',
        'Redis CPU µs / request (c=8)',
        'errors',
      ], [row('fleet (Redis)', shared), row('separate instances', alone)]),
      `Fleet mode: ${
        fmt((100 * sum(shared.rps)) / Math.max(1, sum(alone.rps)), 0)
      } % of the separate instances' RPS, p50 ${shared.p50 >= alone.p50 ? '+' : ''}${
        fmt(shared.p50 - alone.p50, 2)
      } ms (a provider with \`rpm\` and \`maxConcurrent\`); without limits ${
        shared.p50Free >= alone.p50Free ? '+' : ''
      }${fmt(shared.p50Free - alone.p50Free, 2)} ms (no round trip). CPU per request at c=8: ${
        fmt(shared.cpuUs, 0)
      } µs in the instances + ${fmt(shared.redisCpuUs ?? Number.NaN, 0)} µs in Redis, against ${
        fmt(alone.cpuUs, 0)
      } µs for separate instances. Load average ${
        loadavg().map((l) => l.toFixed(2)).join(' ')
      }; Redis round trip by the last heartbeat: ${shared.redisMs === undefined ? '-' : `${shared.redisMs} ms`}).`,
    ].join('\n\n')
    console.log(`\n${md}\n`)
    if (a.json !== undefined) {
      writeFileSync(a.json, JSON.stringify({ args: a, fleet: shared, separate: alone, markdown: md }, null, 2))
    }
    return shared.errors + alone.errors === 0 ? 0 : 1
  } finally {
    await redis.stop()
    await mock.stop()
  }
}
