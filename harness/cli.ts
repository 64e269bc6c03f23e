/**
 * `bun run harness [--streams N --chunks N …]`: stress run through Switchyard with every
 * stream checked; `bun run harness bench`: overhead benchmark (harness/bench.ts).
 * Only talks to 127.0.0.1 (or --target), bounded by a global timeout.
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CLIENT_FORMATS, type ClientFormat } from './stress/check.ts'
import type { HarnessArgs } from './stress/args.ts'
import type { StreamRunReport } from './stress/run.ts'
import { runStreams } from './stress/run.ts'
import type { Child } from './stress/proc.ts'
import { killStarted, ProcSampler, rerunWithFetchLimit } from './stress/proc.ts'
import { startForwarder, startMockProcess, startSwitchyard, viaProxy } from './stress/switchyard.ts'
import { fmt, markdownTable } from './stress/stats.ts'
import { runBench } from './bench.ts'
import { runFleet } from './fleet.ts'
import { runRecovery } from './stress/recovery.ts'
import { runAlertScenario } from './alerts.ts'

const HELP = `bun run harness [bench|recovery|fleet] [options]
bun run harness alerts     one mock target degrades ×3 mid-run; the alert must reach a local webhook sink

  --streams N          concurrent streams (default 100)
  --chunks N           chunks per stream (default 20)
  --delay-ms MS        delay between chunks (default 10)
  --tokens N           tokens per chunk (default 1)
  --upstream F         upstream format the mock speaks to the proxy (alias --format):
                       anthropic | openai | responses | gemini (default openai)
  --client F           format the harness speaks to the proxy (alias --client-format), same choices (default anthropic)
  --target URL         measure this proxy instead of starting Switchyard (route it to --mock-port)
  --target-pid PID     with --target: read that process's RSS and CPU from /proc
  --mock-port N        port for the mock (default: a free one)
  --json FILE          write the report as JSON
  --timeout-s S        global timeout (default 300; bench 900)
  --no-usage-check     do not require usage equal to the generated tokens (proxies that drop usage)
  --cut-rate R         the mock cuts this share (0..1) of the proxied run's streams at a random event; every
                       stream must still arrive complete and identical to the uncut answer (the proxy continues
                       it). Usage is not checked then: a continued answer reports its last attempt's usage
  bench options: --quick (smaller bench for CI smoke runs), --fleet (the proxy in fleet mode, on its own redis-server),
                --limits (the provider has an rpm and a maxConcurrent that never bind: every request passes the limiter),
                --floor (harness/forwarder.ts in the proxy's place: parse, rewrite model, forward, stream back; needs
                the same --client and --upstream format: the least any proxy on this runtime costs), --tap (with --floor:
                the forwarder reads the answer in JS, a stream chunk by chunk and JSON whole, as any proxy that counts usage must),
                --only streams (only the streaming TTFB phase: the burst of stream set-ups), --runtime bun|deno (the proxy's),
                --root DIR (the proxy is src/cli.ts of that checkout: before/after pairs with one harness)
  stress options: --root DIR and --runtime bun|deno, as for bench (the started Switchyard's checkout and runtime);
                 --floor [--tap], as for bench (a fresh forwarder in Switchyard's place; not with --cut-rate)
  recovery options: --outage-s S (primary down for S s, default 20), --every-ms MS (one request every MS, default 1000)
  fleet options: --instances N (default 3), --quick: N instances with and without a shared Redis`

export type { HarnessArgs }

const asFormat = (v: string | undefined, d: ClientFormat): ClientFormat => {
  if (v === undefined) return d
  if (!(CLIENT_FORMATS as readonly string[]).includes(v)) {
    throw new Error(`Invalid format "${v}": expected ${CLIENT_FORMATS.join(', ')}`)
  }
  return v as ClientFormat
}

const asInt = (v: string | undefined, d: number, name: string): number => {
  if (v === undefined) return d
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`Invalid --${name} "${v}": expected a number >= 0`)
  return n
}

const asRate = (v: string | undefined): number => {
  if (v === undefined) return 0
  const n = Number(v)
  if (!(n >= 0 && n <= 1)) throw new Error(`Invalid --cut-rate "${v}": expected a number in [0, 1]`)
  return n
}

/** Parse argv (after `harness`) into options, or undefined when help was asked for. */
export function parseHarnessArgs(argv: readonly string[]): HarnessArgs | undefined {
  const { values: v, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      streams: { type: 'string' },
      chunks: { type: 'string' },
      'delay-ms': { type: 'string' },
      tokens: { type: 'string' },
      format: { type: 'string' },
      'client-format': { type: 'string' },
      upstream: { type: 'string' },
      client: { type: 'string' },
      target: { type: 'string' },
      'mock-port': { type: 'string' },
      json: { type: 'string' },
      'timeout-s': { type: 'string' },
      quick: { type: 'boolean' },
      fleet: { type: 'boolean' },
      limits: { type: 'boolean' },
      floor: { type: 'boolean' },
      tap: { type: 'boolean' },
      'no-usage-check': { type: 'boolean' },
      'target-pid': { type: 'string' },
      'cut-rate': { type: 'string' },
      'outage-s': { type: 'string' },
      'every-ms': { type: 'string' },
      instances: { type: 'string' },
      only: { type: 'string' },
      root: { type: 'string' },
      runtime: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (v.help === true) return undefined
  const command = positionals[0] === 'bench' || positionals[0] === 'recovery' || positionals[0] === 'fleet'
    ? positionals[0]
    : 'stress'
  if (positionals[0] !== undefined && command === 'stress') {
    throw new Error(`Unknown command "${positionals[0]}": expected bench, recovery, fleet or none`)
  }
  if (v.only !== undefined && v.only !== 'streams') throw new Error(`Invalid --only "${v.only}": expected streams`)
  if (v.runtime !== undefined && v.runtime !== 'bun' && v.runtime !== 'deno') {
    throw new Error(`Invalid --runtime "${v.runtime}": expected bun or deno`)
  }
  if (v.floor === true && (v.upstream ?? v.format ?? 'openai') !== (v.client ?? v['client-format'] ?? 'anthropic')) {
    throw new Error('--floor forwards without translating: give the same --client and --upstream (e.g. both anthropic)')
  }
  if (v.tap === true && v.floor !== true) {
    throw new Error('--tap is a variant of the --floor forwarder: give --floor too')
  }
  if (v.floor === true && (v.root !== undefined || v.runtime !== undefined || v.target !== undefined)) {
    throw new Error('--floor runs harness/forwarder.ts under Bun: --root, --runtime and --target do not apply')
  }
  if (v.floor === true && v['cut-rate'] !== undefined) {
    throw new Error('--cut-rate needs a proxy that continues cut streams: the --floor forwarder passes the cut on')
  }
  const target = v.target?.replace(/\/+$/, '')
  if (target !== undefined && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(target)) {
    throw new Error(`Refusing --target ${target}: the harness only sends load to this machine (127.0.0.1)`)
  }
  return {
    command,
    streams: asInt(v.streams, 100, 'streams'),
    chunks: asInt(v.chunks, 20, 'chunks'),
    delayMs: asInt(v['delay-ms'], 10, 'delay-ms'),
    tokens: Math.max(1, asInt(v.tokens, 1, 'tokens')),
    format: asFormat(v.upstream ?? v.format, 'openai'),
    clientFormat: asFormat(v.client ?? v['client-format'], 'anthropic'),
    target,
    mockPort: asInt(v['mock-port'], 0, 'mock-port'),
    json: v.json,
    timeoutS: asInt(v['timeout-s'], command === 'bench' ? 900 : 300, 'timeout-s'),
    quick: v.quick === true,
    skipUsage: v['no-usage-check'] === true,
    targetPid: v['target-pid'] === undefined ? undefined : asInt(v['target-pid'], 0, 'target-pid'),
    cutRate: asRate(v['cut-rate']),
    outageS: asInt(v['outage-s'], 20, 'outage-s'),
    everyMs: Math.max(50, asInt(v['every-ms'], 1000, 'every-ms')),
    instances: Math.max(2, asInt(v.instances, 3, 'instances')),
    fleet: v.fleet === true,
    limits: v.limits === true,
    ...(v.floor === true ? { floor: true } : {}),
    ...(v.tap === true ? { tap: true } : {}),
    ...(v.only === 'streams' ? { only: 'streams' as const } : {}),
    runtime: v.runtime === 'deno' ? 'deno' : 'bun',
    ...(v.root === undefined ? {} : { root: resolve(v.root) }),
  }
}

/** The model string carrying the mock knobs for a run. */
export const mockModel = (a: Pick<HarnessArgs, 'chunks' | 'delayMs' | 'tokens'>): string =>
  `mock-model:chunks=${a.chunks}:delay=${a.delayMs}:tokens=${a.tokens}`

interface Measured {
  readonly report: StreamRunReport
  readonly proc: Record<string, { peakRssMb: number; cpuSec: number }>
}

async function measured(
  url: string,
  model: string,
  a: HarnessArgs,
  label: string,
  procs: Record<string, { readonly pid: number } | undefined>,
): Promise<Measured> {
  // Warm-up (unmeasured): JIT, connection pools and first-request paths on both ends.
  await runStreams({
    url,
    clientFormat: a.clientFormat,
    streams: Math.min(20, a.streams),
    chunks: a.chunks,
    tokensPerChunk: a.tokens,
    model,
    timeoutMs: a.timeoutS * 1000,
  })
  const samplers = Object.entries(procs).flatMap((
    [k, c],
  ) => (c === undefined ? [] : [[k, new ProcSampler(c.pid)] as const]))
  for (const [, s] of samplers) s.start()
  const isTty = process.stderr.isTTY === true
  let last = 0
  const report = await runStreams({
    url,
    clientFormat: a.clientFormat,
    streams: a.streams,
    chunks: a.chunks,
    tokensPerChunk: a.tokens,
    model,
    timeoutMs: a.timeoutS * 1000,
    skipUsage: a.skipUsage,
    onProgress: (done, failed) => {
      if (!isTty && done - last < a.streams / 10 && done !== a.streams) return
      last = done
      process.stderr.write(
        `${isTty ? '\r' : ''}${label}: ${done}/${a.streams} streams done, ${failed} failed${isTty ? '' : '\n'}`,
      )
    },
  })
  if (isTty) process.stderr.write('\n')
  return { report, proc: Object.fromEntries(samplers.map(([k, s]) => [k, s.stop()])) }
}

function row(label: string, m: Measured, who: string, procOnly = false): string[] {
  const r = m.report
  const p = m.proc[who]
  const proc = [fmt(p?.peakRssMb ?? Number.NaN), fmt(p?.cpuSec ?? Number.NaN, 2)]
  if (procOnly) return [label, ...HEADER.slice(1, -2).map(() => ''), ...proc]
  return [
    label,
    `${r.completed}/${r.failed}`,
    fmt(r.ttfbMs.p50),
    fmt(r.ttfbMs.p95),
    fmt(r.ttfbMs.p99),
    fmt(r.ttftMs.p50),
    fmt(r.ttftMs.p99),
    fmt(r.totalMs.p50),
    fmt(r.totalMs.p99),
    fmt(r.chunksPerSec, 0),
    fmt(r.tokensPerSec, 0),
    ...proc,
  ]
}

const HEADER = [
  'run',
  'completed/failed',
  'TTFB p50 ms',
  'p95',
  'p99',
  'first token p50 ms',
  'p99',
  'total p50 ms',
  'p99',
  'chunks/s',
  'tokens/s',
  'peak RSS MB',
  'CPU s',
]

async function stress(a: HarnessArgs): Promise<number> {
  const mock = await startMockProcess(a.mockPort)
  let proxy: Child | undefined
  try {
    process.stderr.write(`mock: ${mock.url}\n`)
    const direct = await measured(mock.url, mockModel(a), a, 'mock alone', { mock })
    // With --cut-rate only the proxied run is cut: the mock alone has nobody to continue its streams.
    const proxied = a.cutRate > 0 ? `${mockModel(a)}:cut-rate=${a.cutRate}` : mockModel(a)
    if (a.target === undefined) {
      proxy = a.floor === true
        ? await startForwarder(mock.url, a.tap === true)
        : await startSwitchyard(mock.url, a.format, [proxied], Math.max(1000, a.streams * 2), {}, {
          runtime: a.runtime,
          ...(a.root === undefined ? {} : { root: a.root }),
        })
    }
    const url = a.target ?? (proxy as Child).url
    const who = a.target !== undefined
      ? '--target'
      : a.floor === true
      ? `harness/forwarder.ts${a.tap === true ? ' --tap' : ''}, started by the harness`
      : 'Switchyard, started by the harness'
    process.stderr.write(`proxy: ${url} (${who})\n`)
    const proxyPid = proxy ?? (a.targetPid === undefined ? undefined : { pid: a.targetPid })
    await fetch(`${mock.url}/_mock/attempts`, { method: 'DELETE' })
    const through = await measured(
      url,
      viaProxy(proxied),
      a.cutRate > 0 ? { ...a, skipUsage: true } : a,
      'through proxy',
      { proxy: proxyPid, mock },
    )
    console.log(
      `\n${a.streams} streams × ${a.chunks} chunks @ ${a.delayMs} ms, client ${a.clientFormat} → upstream ${a.format}\n`,
    )
    console.log(
      markdownTable(HEADER, [
        row('mock alone', direct, 'mock'),
        row('through proxy', through, 'proxy'),
        row('mock during proxied run', through, 'mock', true),
      ]),
    )
    for (const [name, m] of [['mock alone', direct], ['through proxy', through]] as const) {
      for (const e of m.report.sampleErrors) console.log(`${name}: ${e}`)
    }
    if (a.cutRate > 0) console.log(await cutReport(mock.url, through.report))
    if (a.json !== undefined) writeFileSync(a.json, JSON.stringify({ args: a, direct, proxy: through }, null, 2))
    return direct.report.failed + through.report.failed === 0 ? 0 : 1
  } finally {
    await proxy?.stop()
    await mock.stop()
  }
}

/**
 * A primary down for `--outage-s` behind a CCR `fallback`, one request every `--every-ms`:
 * how long after its recovery the primary serves again (exit 1 if any request failed or it
 * took 30 s or more).
 */
async function recovery(a: HarnessArgs): Promise<number> {
  const mock = await startMockProcess(a.mockPort)
  let proxy: Child | undefined
  try {
    const primary = `${mockModel(a)}:outage=${a.outageS * 1_000}`
    const fallback = `${mockModel(a)}:key=fallback`
    proxy = await startSwitchyard(mock.url, a.format, [primary, fallback], 100, {
      Router: { default: viaProxy(primary), fallbackToOtherTiers: false },
      fallback: { default: [viaProxy(fallback)] },
    })
    const afterMs = 45_000
    process.stderr.write(
      `mock: ${mock.url}\nproxy: ${proxy.url}\nprimary down for ${a.outageS} s, then ${
        afterMs / 1_000
      } s more; one request every ${a.everyMs} ms\n`,
    )
    const r = await runRecovery({
      url: proxy.url,
      model: viaProxy(primary),
      primary: viaProxy(primary),
      outageMs: a.outageS * 1_000,
      everyMs: a.everyMs,
      afterMs,
      onProgress: (l) => process.stderr.write(`${l}\n`),
    })
    const back = r.recoveredAfterMs === undefined ? 'never' : `${fmt(r.recoveredAfterMs / 1_000, 1)} s`
    console.log(
      `recovery: ${
        r.requests - r.failed
      }/${r.requests} requests answered; primary serving again ${back} after it recovered; primary share afterwards ${
        fmt(100 * r.primaryShareAfter, 0)
      } %`,
    )
    return r.failed === 0 && r.recoveredAfterMs !== undefined && r.recoveredAfterMs < 30_000 ? 0 : 1
  } finally {
    await proxy?.stop()
    await mock.stop()
  }
}

/** How many upstream streams the mock cut during the proxied run (warm-up included) and how many client streams still completed. */
async function cutReport(mockUrl: string, r: StreamRunReport): Promise<string> {
  const body = (await (await fetch(`${mockUrl}/_mock/attempts`)).json()) as { attempts: { outcome: string }[] }
  const cut = body.attempts.filter((x) => x.outcome === 'cut').length
  return `cut-rate: the mock cut ${cut} upstream streams (warm-up included); ${r.completed}/${r.streams} client streams (${
    fmt((100 * r.completed) / Math.max(1, r.streams), 1)
  } %) complete and identical to the uncut answer`
}

/** `harness alerts`: prints what the webhook sink received; exit 0 when the scenario passed. */
async function alerts(): Promise<number> {
  const r = await runAlertScenario()
  const hook = r.deliveries[0]
  console.log(
    `alert fired ${r.firedAfter ?? 'never'} requests after the ×3 step; firing: ${r.firing.join('; ') || 'none'}`,
  )
  console.log(`resolved ${r.resolvedAfter ?? 'never'} requests after the recovery`)
  console.log(
    `webhook sink (127.0.0.1) received ${r.deliveries.length} POST(s): ${
      r.deliveries.map((d) => `${d.body.event} ${d.body.alert?.rule}`).join(', ')
    }`,
  )
  console.log(`first: ${hook?.body.text ?? 'none'}`)
  if (r.metricsLine) console.log(r.metricsLine)
  for (const p of r.problems) console.log(`problem: ${p}`)
  return r.ok ? 0 : 1
}

async function main(): Promise<number> {
  if (process.argv[2] === 'alerts') return await alerts()
  const rerun = rerunWithFetchLimit()
  if (rerun !== undefined) return rerun
  let a: HarnessArgs | undefined
  try {
    a = parseHarnessArgs(process.argv.slice(2))
  } catch (e) {
    console.error((e as Error).message)
    return 2
  }
  if (a === undefined) {
    console.log(HELP)
    return 0
  }
  const guard = setTimeout(() => {
    console.error(`harness: global timeout of ${a.timeoutS} s reached`)
    killStarted()
    process.exit(3)
  }, a.timeoutS * 1000 + 30_000)
  const interrupt = (): void => {
    killStarted()
    process.exit(130)
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    if (a.command === 'fleet') {
      return await runFleet({
        instances: a.instances,
        quick: a.quick,
        ...(a.json === undefined ? {} : { json: a.json }),
      })
    }
    return a.command === 'bench' ? await runBench(a) : a.command === 'recovery' ? await recovery(a) : await stress(a)
  } catch (e) {
    console.error(`harness: ${(e as Error).message}`)
    return 2
  } finally {
    clearTimeout(guard)
  }
}

if (import.meta.main) process.exit(await main())
