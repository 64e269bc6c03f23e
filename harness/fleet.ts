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
import { type Child, freePort, spawnServer } from './stress/proc.ts'
import { startRedis } from './stress/redis.ts'
import { cliStartArgs, startMockProcess } from './stress/switchyard.ts'
import { fmt, markdownTable, summarise } from './stress/stats.ts'

const RUNTIME = process.execPath
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
    return spawnServer(RUNTIME, cliStartArgs(path, port), 30_000)
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
}
type Load = Omit<Side, 'admitted' | 'propagationMs' | 'redisMs'>

/**
 * Scripts Redis has run so far (`EVALSHA` and `EVAL` in `INFO commandstats`; the commands a
 * script runs inside count separately there), read on a socket of its own. Every fleet call on
 * the request path and in the background is one script.
 */
function redisScripts(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' })
    let buf = ''
    sock.setTimeout(2_000, () => {
      sock.destroy()
      reject(new Error('INFO commandstats: no answer'))
    })
    sock.once('error', reject)
    sock.once('connect', () => sock.write('INFO commandstats\r\n'))
    sock.on('data', (d) => {
      buf += d.toString()
      const len = Number(/^\$(\d+)\r\n/.exec(buf)?.[1])
      if (!(buf.length >= len + String(len).length + 5)) return
      sock.destroy()
      let calls = 0
      for (const m of buf.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(m[2])
      resolve(calls)
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
  let commands = 0
  let requests = 0
  for (let i = 0; i < rounds; i++) {
    for (const [k, procs] of [[0, shared], [1, alone]] as const) {
      const before = await redisScripts(fleets.redisPort)
      const r = await throughput(procs, 8, ms)
      if (k === 0) {
        commands += (await redisScripts(fleets.redisPort)) - before
        requests += r.rps.reduce((s, x) => s + x, 0) * (ms / 1000)
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
    }
  }
  return [{ ...side(0), redisPerRequest: commands / Math.max(1, requests) }, side(1)]
}

async function redisLatency(p: Child): Promise<number | undefined> {
  const h = (await (await fetch(`${p.url}/health`)).json()) as { fleet?: { redis_latency_ms: number | null } }
  return h.fleet?.redis_latency_ms ?? undefined
}

export async function runFleet(a: FleetArgs): Promise<number> {
  const mock = await startMockProcess()
  const redis = await startRedis()
  try {
    process.stderr.write(`fleet: ${a.instances} instances, mock ${mock.url}, redis ${redis.url}\n`)
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
        'errors',
      ], [row('fleet (Redis)', shared), row('separate instances', alone)]),
      `Fleet mode: ${
        fmt((100 * sum(shared.rps)) / Math.max(1, sum(alone.rps)), 0)
      } % of the separate instances' RPS, p50 ${shared.p50 >= alone.p50 ? '+' : ''}${
        fmt(shared.p50 - alone.p50, 2)
      } ms (a provider with limits: admissions from the local quota pools); without limits ${
        shared.p50Free >= alone.p50Free ? '+' : ''
      }${fmt(shared.p50Free - alone.p50Free, 2)} ms (no round trip). Load average ${
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
