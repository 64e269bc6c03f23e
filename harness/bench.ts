/**
 * `bun run harness bench`: direct-to-mock vs through-proxy, interleaved A B A B so drift in
 * the machine hits both sides alike. Non-streaming RPS/latency at fixed concurrency, the
 * large bodies (a 64 KB message, an agent's 150k-token conversation), streaming TTFB, and
 * 100/1,000/5,000 concurrent streams.
 */
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import type { HarnessArgs } from './stress/args.ts'
import type { ClientFormat } from './stress/check.ts'
import { pathOf, requestBody, runStreams } from './stress/run.ts'
import type { StreamRunReport } from './stress/run.ts'
import { ProcSampler, readProc, threadCpuSec } from './stress/proc.ts'
import { startForwarder, startMockProcess, startSwitchyard, viaProxy } from './stress/switchyard.ts'
import type { Child } from './stress/proc.ts'
import { startRedis } from './stress/redis.ts'
import type { Summary } from './stress/stats.ts'
import { fmt, markdownTable, summarise } from './stress/stats.ts'
import { buildConversation } from '../src/tokens/estimate.bench.ts'

const FAST = 'mock-fast:chunks=5:delay=0'
const STREAM = 'mock-stream:chunks=20:delay=10'
const HEADERS = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'x-api-key': 'harness',
  authorization: 'Bearer harness',
}

interface Side {
  readonly url: string
  readonly model: string
}
interface LoadResult {
  readonly requests: number
  readonly errors: number
  readonly rps: number
  readonly latencyMs: Summary
  readonly cpuSec: number
}

/** A request body for a model name: the harness's one-message body padded by this many bytes, or a body of its own. */
type Payload = number | ((model: string) => string)

/** Closed loop: `concurrency` workers send non-streaming requests back to back for `durMs`. */
async function closedLoop(
  side: Side,
  format: ClientFormat,
  concurrency: number,
  durMs: number,
  payload: Payload,
  pid?: number,
): Promise<LoadResult> {
  const body = typeof payload === 'number' ? requestBody(format, side.model, false, payload) : payload(side.model)
  const lat: number[] = []
  let errors = 0
  const sampler = pid === undefined ? undefined : new ProcSampler(pid)
  sampler?.start(200)
  const t0 = performance.now()
  const end = t0 + durMs
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const s = performance.now()
      try {
        const res = await fetch(side.url + pathOf(format, side.model, false), {
          method: 'POST',
          body,
          headers: HEADERS,
        })
        await res.arrayBuffer()
        if (res.status === 200) lat.push(performance.now() - s)
        else errors++
      } catch {
        errors++
      }
    }
  }))
  const secs = (performance.now() - t0) / 1000
  return {
    requests: lat.length,
    errors,
    rps: lat.length / secs,
    latencyMs: summarise(lat),
    cpuSec: sampler?.stop().cpuSec ?? Number.NaN,
  }
}

/** Run A and B alternately (A B A B …) `rounds` times so machine drift hits both sides alike. */
export async function interleaved<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  const ra: T[] = []
  const rb: T[] = []
  for (let i = 0; i < rounds; i++) {
    ra.push(await a())
    rb.push(await b())
  }
  return [ra, rb]
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length

interface BenchCtx {
  readonly a: HarnessArgs
  readonly direct: (m: string) => Side
  readonly proxied: (m: string) => Side
  readonly proxyPid: number | undefined
  readonly mockPid: number
  readonly dur: number
}

/**
 * Warm the proxy at concurrency 1 until its JIT compiler threads are idle (Bun: `JITWorker`):
 * after the 1 s warm-up at c=10, Switchyard's compiler threads still took ~0.45 s of CPU over the
 * next ~3 s of c=1 traffic (the floor's forwarder: none), all of it inside the c=1 rounds, on
 * the same two cores as the proxy, the mock and the load. Slices of 500 ms until 10,000
 * requests have run (tier-up follows execution counts: a slow first slice compiles nothing yet)
 * and the last slice added at most 10 ms of compiler CPU, 10 s at most; 3 s when the runtime
 * names no such thread.
 */
async function warmUntilCompiled(c: BenchCtx): Promise<string> {
  const pid = c.proxyPid
  const jit = () => (pid === undefined ? undefined : threadCpuSec(pid, 'JITWorker'))
  const j0 = jit()
  if (j0 === undefined) {
    await closedLoop(c.proxied(FAST), c.a.clientFormat, 1, 3_000, 0)
    return '3 s (no JIT thread to watch)'
  }
  let last = j0
  let ms = 0
  let requests = 0
  while (ms < 10_000) {
    requests += (await closedLoop(c.proxied(FAST), c.a.clientFormat, 1, 500, 0)).requests
    ms += 500
    const now = jit() ?? last
    const grew = now - last
    last = now
    if (requests >= 10_000 && grew <= 0.01) break
  }
  return `${ms / 1000} s, ${requests} requests, proxy JIT threads ${((last - j0) * 1000).toFixed(0)} ms CPU meanwhile`
}

async function nonStreaming(c: BenchCtx): Promise<{ rows: string[][]; json: unknown[] }> {
  const rows: string[][] = []
  const json: unknown[] = []
  // Unmeasured warm-up of both sides: JIT compilation is a start-up cost, not added latency.
  await closedLoop(c.direct(FAST), c.a.clientFormat, 10, 1_000, 0)
  await closedLoop(c.proxied(FAST), c.a.clientFormat, 10, 1_000, 0)
  const jit = await warmUntilCompiled(c)
  process.stderr.write(`warm-up at c=1: ${jit}\n`)
  for (const conc of c.a.quick ? [1, 10, 50] : [1, 10, 50, 200]) {
    const [d, p] = await interleaved(
      2,
      () => closedLoop(c.direct(FAST), c.a.clientFormat, conc, c.dur, 0),
      () => closedLoop(c.proxied(FAST), c.a.clientFormat, conc, c.dur, 0, c.proxyPid),
    )
    const dp50 = mean(d.map((x) => x.latencyMs.p50))
    const pp50 = mean(p.map((x) => x.latencyMs.p50))
    const dp99 = mean(d.map((x) => x.latencyMs.p99))
    const pp99 = mean(p.map((x) => x.latencyMs.p99))
    const drps = mean(d.map((x) => x.rps))
    const prps = mean(p.map((x) => x.rps))
    const cpuUs = (p.reduce((s, x) => s + x.cpuSec, 0) / p.reduce((s, x) => s + x.requests, 0)) * 1e6
    rows.push([
      String(conc),
      fmt(drps, 0),
      fmt(prps, 0),
      `${fmt((prps / drps) * 100, 0)} %`,
      fmt(dp50, 2),
      fmt(pp50, 2),
      fmt(pp50 - dp50, 2),
      fmt(dp99, 2),
      fmt(pp99, 2),
      fmt(pp99 - dp99, 2),
      fmt(cpuUs, 0),
      String(p.reduce((s, x) => s + x.errors, 0)),
    ])
    json.push({
      concurrency: conc,
      direct: d,
      proxy: p,
      addedP50Ms: pp50 - dp50,
      addedP99Ms: pp99 - dp99,
      cpuUsPerRequest: cpuUs,
    })
    process.stderr.write(`non-streaming c=${conc}: direct ${fmt(drps, 0)} rps, proxy ${fmt(prps, 0)} rps\n`)
  }
  return { rows, json }
}

/**
 * A coding agent's request as Claude Code sends it late in a session: a 150k-token conversation
 * (867 KB of JSON: system prompt, 30 tools, 510 messages), built by the token estimator's benchmark,
 * one tool with a `model` parameter as Claude Code's Agent tool has.
 */
function agentConversation(): (model: string) => string {
  const conversation: Record<string, unknown> = { ...buildConversation(1, 170), stream: false }
  const tools = conversation.tools as { input_schema: { properties: Record<string, unknown> } }[]
  tools[0]!.input_schema.properties.model = { type: 'string', enum: ['sonnet', 'opus', 'haiku'] }
  return (model) => JSON.stringify({ ...conversation, model })
}

/** Large bodies at concurrency 1: a 64 KB message (translated when the upstream is openai), and an agent's conversation. */
async function bigBodies(c: BenchCtx): Promise<{ rows: string[][]; json: unknown }> {
  const rows: string[][] = []
  const json: Record<string, unknown> = {}
  const conversation = agentConversation()
  const cases = [['64 KB message', 64 * 1024], ['150k-token agent conversation, 867 KB', conversation]] as const
  for (const [name, payload] of cases) {
    const [d, p] = await interleaved(
      2,
      () => closedLoop(c.direct(FAST), 'anthropic', 1, c.dur, payload),
      () => closedLoop(c.proxied(FAST), 'anthropic', 1, c.dur, payload, c.proxyPid),
    )
    const dp50 = mean(d.map((x) => x.latencyMs.p50))
    const pp50 = mean(p.map((x) => x.latencyMs.p50))
    const dp99 = mean(d.map((x) => x.latencyMs.p99))
    const pp99 = mean(p.map((x) => x.latencyMs.p99))
    const cpuMs = mean(p.map((x) => (x.cpuSec * 1000) / Math.max(1, x.requests)))
    rows.push([
      name,
      `anthropic → ${c.a.format}`,
      fmt(dp50, 2),
      fmt(pp50, 2),
      fmt(pp50 - dp50, 2),
      fmt(pp99 - dp99, 2),
      fmt(cpuMs, 2),
    ])
    json[name] = { direct: d, proxy: p, addedP50Ms: pp50 - dp50, proxyCpuMsPerRequest: cpuMs }
  }
  return { rows, json }
}

const streamsOf = (side: Side, c: BenchCtx, n: number): Promise<StreamRunReport> =>
  runStreams({
    url: side.url,
    clientFormat: c.a.clientFormat,
    streams: n,
    chunks: 20,
    tokensPerChunk: 1,
    model: side.model,
    timeoutMs: 120_000,
    skipUsage: c.a.skipUsage,
  })

/** CPU seconds of the proxy, the mock and this load generator while one round runs. */
interface RoundCpu {
  readonly proxy: number
  readonly mock: number
  readonly load: number
}

/** TTFB samples of one round: `n` concurrent streams, or 20 sequential single streams for n = 1. */
async function ttfbRound(
  side: Side,
  c: BenchCtx,
  n: number,
): Promise<{ ttfb: number[]; failed: number; cpu?: RoundCpu }> {
  if (n > 1) {
    const proxy = c.proxyPid === undefined ? undefined : new ProcSampler(c.proxyPid)
    const mock = new ProcSampler(c.mockPid)
    proxy?.start(1_000)
    mock.start(1_000)
    const load0 = process.cpuUsage()
    const r = await streamsOf(side, c, n)
    const load = process.cpuUsage(load0)
    const cpu = {
      proxy: proxy?.stop().cpuSec ?? Number.NaN,
      mock: mock.stop().cpuSec,
      load: (load.user + load.system) / 1e6,
    }
    return { ttfb: [r.ttfbMs.p50, r.ttfbMs.p99], failed: r.failed, cpu }
  }
  const samples: number[] = []
  let failed = 0
  for (let i = 0; i < 20; i++) {
    const r = await streamsOf(side, c, 1)
    samples.push(r.ttfbMs.p50)
    failed += r.failed
  }
  const s = summarise(samples)
  return { ttfb: [s.p50, s.p99], failed }
}

async function streamingTtfb(c: BenchCtx): Promise<{ rows: string[][]; json: unknown[] }> {
  const rows: string[][] = []
  const json: unknown[] = []
  for (const n of c.a.quick ? [1, 100] : [1, 500]) {
    const d: number[][] = []
    const p: number[][] = []
    const cpu: { direct: RoundCpu[]; proxy: RoundCpu[] } = { direct: [], proxy: [] }
    let failed = 0
    // Unmeasured warm-up round on both sides (a burst, or 20 sequential streams), as for the
    // non-streaming phase: JIT compilation of the streaming path is a start-up cost, not added
    // latency (its first round is reported apart). Without it the single-stream row measured the
    // first 40 requests of a fresh proxy, its p99 the very first one (docs/benchmarks.md, "Fourth pass").
    const cold = await ttfbRound(c.proxied(STREAM), c, n)
    await ttfbRound(c.direct(STREAM), c, n)
    for (let i = 0; i < 2; i++) {
      const rd = await ttfbRound(c.direct(STREAM), c, n)
      d.push(rd.ttfb)
      if (rd.cpu) cpu.direct.push(rd.cpu)
      const rp = await ttfbRound(c.proxied(STREAM), c, n)
      p.push(rp.ttfb)
      if (rp.cpu) cpu.proxy.push(rp.cpu)
      failed += rp.failed
    }
    failed += cold.failed
    const m = (rs: number[][], k: 0 | 1): number => mean(rs.map((r) => r[k] as number))
    // CPU ms per stream of a round, for one process (the floor: the mock and the load generator on the same cores).
    const per = (rs: RoundCpu[], k: keyof RoundCpu): string => fmt((mean(rs.map((r) => r[k])) / n) * 1000, 2)
    rows.push([
      n === 1 ? '1 (20 sequential)' : String(n),
      fmt(m(d, 0), 2),
      fmt(m(p, 0), 2),
      fmt(m(p, 0) - m(d, 0), 2),
      fmt(m(d, 1), 2),
      fmt(m(p, 1), 2),
      fmt(m(p, 1) - m(d, 1), 2),
      n === 1 ? '' : `${per(cpu.proxy, 'proxy')}`,
      n === 1 ? '' : `${per(cpu.direct, 'mock')} / ${per(cpu.proxy, 'mock')}`,
      n === 1 ? '' : `${per(cpu.direct, 'load')} / ${per(cpu.proxy, 'load')}`,
      fmt(cold.ttfb[1] as number, 2),
      String(failed),
    ])
    json.push({
      streams: n,
      directTtfbP50P99: d,
      proxyTtfbP50P99: p,
      proxyFailed: failed,
      cpuSec: cpu,
      coldProxyTtfbP50P99: cold.ttfb,
    })
    process.stderr.write(`streaming TTFB n=${n} done\n`)
  }
  return { rows, json }
}

async function concurrentStreams(
  c: BenchCtx,
): Promise<{ rows: string[][]; json: unknown[]; idleMb: number; afterMb: number }> {
  const rows: string[][] = []
  const json: unknown[] = []
  const idleMb = c.proxyPid === undefined ? Number.NaN : readProc(c.proxyPid)?.rssMb ?? Number.NaN
  for (const n of c.a.quick ? [100, 500] : [100, 1000, 5000]) {
    const sampler = c.proxyPid === undefined ? undefined : new ProcSampler(c.proxyPid)
    sampler?.start(25)
    const r = await streamsOf(c.proxied(STREAM), c, n)
    const s = sampler?.stop()
    rows.push([
      String(n),
      `${fmt((r.completed / n) * 100, 1)} %`,
      fmt(r.ttfbMs.p99, 1),
      fmt(r.totalMs.p99, 1),
      fmt(s?.peakRssMb ?? Number.NaN),
      fmt(((s?.cpuSec ?? Number.NaN) / n) * 1000, 2),
    ])
    json.push({ streams: n, report: r, peakRssMb: s?.peakRssMb, cpuSec: s?.cpuSec })
    process.stderr.write(
      `${n} concurrent streams: ${r.completed}/${n} complete${
        r.sampleErrors.length > 0 ? ` (${r.sampleErrors[0]})` : ''
      }\n`,
    )
  }
  await new Promise((r) => setTimeout(r, 3_000))
  const afterMb = c.proxyPid === undefined ? Number.NaN : readProc(c.proxyPid)?.rssMb ?? Number.NaN
  return { rows, json, idleMb, afterMb }
}

/** Limits the bench's load never reaches (`--limits`). */
const NEVER_BINDING_LIMITS = { rpm: 10_000_000, maxConcurrent: 100_000 }

interface Target {
  readonly url: string
  readonly pid: number | undefined
}

/**
 * Run `fn` against a proxy serving only `model` (or --target): one model per instance, so
 * the proxy's own routing choices cannot mix the phases' mock models.
 */
async function withProxy<T>(
  a: HarnessArgs & { readonly redisUrl?: string },
  mockUrl: string,
  model: string,
  fn: (t: Target) => Promise<T>,
): Promise<T> {
  if (a.target !== undefined) return fn({ url: a.target, pid: a.targetPid })
  if (a.floor === true) {
    const fwd = await startForwarder(mockUrl, a.tap === true)
    try {
      return await fn({ url: fwd.url, pid: fwd.pid })
    } finally {
      await fwd.stop()
    }
  }
  // --fleet: the same proxy in fleet mode; --limits: its provider has limits that never bind, so
  // every request passes the (fleet-wide) limiter.
  const fleet = a.redisUrl === undefined ? {} : { Fleet: { redis: a.redisUrl, keyPrefix: `bench${Date.now()}:` } }
  const proxy = await startSwitchyard(mockUrl, a.format, [model], 20_000, fleet, {
    runtime: a.runtime,
    ...(a.root === undefined ? {} : { root: a.root }),
    ...(a.limits ? { provider: NEVER_BINDING_LIMITS } : {}),
  })
  try {
    return await fn({ url: proxy.url, pid: proxy.pid })
  } finally {
    await proxy.stop()
  }
}

const ctxFor = (a: HarnessArgs, mock: Child, t: Target): BenchCtx => ({
  a,
  dur: a.quick ? 500 : 1500,
  proxyPid: t.pid,
  mockPid: mock.pid,
  direct: (m) => ({ url: mock.url, model: m }),
  proxied: (m) => ({ url: t.url, model: viaProxy(m) }),
})

/** The latency columns both direct-vs-proxy tables share. */
const LATENCY_COLUMNS = ['direct p50 ms', 'proxy p50 ms', 'added p50', 'direct p99 ms', 'proxy p99 ms', 'added p99']

/** The streaming TTFB table (the burst of stream set-ups). */
const ttfbTable = (a: HarnessArgs, st: { rows: string[][] }): string[] => [
  `### Streaming TTFB (20 chunks × 10 ms), interleaved, proxy on ${a.runtime}`,
  markdownTable([
    'concurrent streams',
    ...LATENCY_COLUMNS,
    'proxy CPU ms/stream',
    'mock CPU ms/stream (direct / via proxy)',
    'load generator CPU ms/stream (direct / via proxy)',
    'first (cold) burst: proxy p99 ms',
    'proxy failed',
  ], st.rows),
]

const loadLine = () => `Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`

function markdown(
  a: HarnessArgs,
  dur: number,
  ns: { rows: string[][] },
  bb: { rows: string[][] },
  st: { rows: string[][] },
  cs: { rows: string[][]; idleMb: number; afterMb: number },
): string {
  return [
    `### Non-streaming (client ${a.clientFormat} → upstream ${a.format}${a.fleet ? ', proxy in fleet mode' : ''}${
      a.limits ? ', provider with rpm and maxConcurrent' : ''
    }), closed loop, 2 × ${dur} ms per side, interleaved`,
    markdownTable([
      'concurrency',
      'direct RPS',
      'proxy RPS',
      'proxy/direct',
      ...LATENCY_COLUMNS,
      'proxy CPU µs/req',
      'errors',
    ], ns.rows),
    '### Large request bodies, concurrency 1 (translation on when upstream is openai)',
    markdownTable([
      'body',
      'client → upstream',
      'direct p50 ms',
      'proxy p50 ms',
      'added p50 ms',
      'added p99 ms',
      'proxy CPU ms/req',
    ], bb.rows),
    ...ttfbTable(a, st),
    '### Concurrent streams through the proxy (20 chunks × 10 ms)',
    markdownTable([
      'streams',
      'complete',
      'TTFB p99 ms',
      'total p99 ms',
      'proxy peak RSS MB',
      'proxy CPU s / 1,000 streams',
    ], cs.rows),
    `Proxy RSS idle before the concurrent-stream phase: ${fmt(cs.idleMb)} MB; 3 s after it: ${
      fmt(cs.afterMb)
    } MB. ${loadLine()}`,
  ].join('\n\n')
}

/** Run the whole benchmark; prints markdown tables, writes --json, exit code 1 on incomplete streams. */
export async function runBench(args: HarnessArgs): Promise<number> {
  const mock = await startMockProcess(args.mockPort)
  const redis = args.fleet && args.target === undefined ? await startRedis() : undefined
  const a = redis ? { ...args, redisUrl: redis.url } : args
  try {
    process.stderr.write(
      `bench: mock ${mock.url}, proxy ${
        a.target ??
          (a.floor
            ? `harness/forwarder.ts (--floor${a.tap ? ' --tap' : ''})`
            : `Switchyard (one instance per phase${redis ? `, fleet mode on ${redis.url}` : ''})`)
      }\n`,
    )
    if (a.only === 'streams') {
      const st = await withProxy(a, mock.url, STREAM, (t) => streamingTtfb(ctxFor(a, mock, t)))
      console.log(`\n${[...ttfbTable(a, st), loadLine()].join('\n\n')}\n`)
      if (a.json !== undefined) writeFileSync(a.json, JSON.stringify({ args: a, streamingTtfb: st.json }, null, 2))
      return st.json.some((x) => (x as { proxyFailed: number }).proxyFailed > 0) ? 1 : 0
    }
    const [ns, bb] = await withProxy(a, mock.url, FAST, async (t) => {
      const c = ctxFor(a, mock, t)
      return [await nonStreaming(c), await bigBodies(c)] as const
    })
    const [st, cs] = await withProxy(a, mock.url, STREAM, async (t) => {
      const c = ctxFor(a, mock, t)
      return [await streamingTtfb(c), await concurrentStreams(c)] as const
    })
    const md = markdown(a, a.quick ? 500 : 1500, ns, bb, st, cs)
    console.log(`\n${md}\n`)
    if (a.json !== undefined) {
      writeFileSync(
        a.json,
        JSON.stringify(
          {
            args: a,
            nonStreaming: ns.json,
            bigBody: bb.json,
            streamingTtfb: st.json,
            concurrent: cs.json,
            rss: { idleMb: cs.idleMb, afterMb: cs.afterMb },
            markdown: md,
          },
          null,
          2,
        ),
      )
    }
    const incomplete = cs.json.some((x) => (x as { report: StreamRunReport }).report.failed > 0)
    return incomplete ? 1 : 0
  } finally {
    await redis?.stop()
    await mock.stop()
  }
}
