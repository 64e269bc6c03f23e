/**
 * `bun run harness [--streams N --chunks N …]`: stress run through Switchyard with every
 * stream checked; `bun run harness bench`: overhead benchmark (harness/bench.ts).
 * Only talks to 127.0.0.1 (or --target), bounded by a global timeout.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { ClientFormat } from './stress/check.ts'
import type { HarnessArgs } from './stress/args.ts'
import type { StreamRunReport } from './stress/run.ts'
import { runStreams } from './stress/run.ts'
import type { Child } from './stress/proc.ts'
import { killStarted, ProcSampler } from './stress/proc.ts'
import { startMockProcess, startSwitchyard, viaProxy } from './stress/switchyard.ts'
import { fmt, markdownTable } from './stress/stats.ts'
import { runBench } from './bench.ts'

const HELP = `bun run harness [bench] [options]

  --streams N          concurrent streams (default 100)
  --chunks N           chunks per stream (default 20)
  --delay-ms MS        delay between chunks (default 10)
  --tokens N           tokens per chunk (default 1)
  --format F           upstream format the mock speaks to the proxy: anthropic | openai (default openai)
  --client-format F    format the harness speaks to the proxy: anthropic | openai (default anthropic)
  --target URL         measure this proxy instead of starting Switchyard (route it to --mock-port)
  --target-pid PID     with --target: read that process's RSS and CPU from /proc
  --mock-port N        port for the mock (default: a free one)
  --json FILE          write the report as JSON
  --timeout-s S        global timeout (default 300; bench 900)
  --no-usage-check     do not require usage equal to the generated tokens (proxies that drop usage)
  bench options: --quick (smaller bench for CI smoke runs)`

export type { HarnessArgs }

const asFormat = (v: string | undefined, d: ClientFormat): ClientFormat => {
  if (v === undefined) return d
  if (v !== 'anthropic' && v !== 'openai') throw new Error(`Invalid format "${v}": expected anthropic or openai`)
  return v
}

const asInt = (v: string | undefined, d: number, name: string): number => {
  if (v === undefined) return d
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`Invalid --${name} "${v}": expected a number >= 0`)
  return n
}

/** Parse argv (after `harness`) into options, or undefined when help was asked for. */
export function parseHarnessArgs(argv: readonly string[]): HarnessArgs | undefined {
  const { values: v, positionals } = parseArgs({
    args: [...argv], allowPositionals: true, options: {
      streams: { type: 'string' }, chunks: { type: 'string' }, 'delay-ms': { type: 'string' }, tokens: { type: 'string' },
      format: { type: 'string' }, 'client-format': { type: 'string' }, target: { type: 'string' }, 'mock-port': { type: 'string' },
      json: { type: 'string' }, 'timeout-s': { type: 'string' }, quick: { type: 'boolean' }, 'no-usage-check': { type: 'boolean' }, 'target-pid': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  })
  if (v.help === true) return undefined
  const command = positionals[0] === 'bench' ? 'bench' : 'stress'
  if (positionals[0] !== undefined && positionals[0] !== 'bench') throw new Error(`Unknown command "${positionals[0]}": expected bench or none`)
  const target = v.target?.replace(/\/+$/, '')
  if (target !== undefined && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(target)) {
    throw new Error(`Refusing --target ${target}: the harness only sends load to this machine (127.0.0.1)`)
  }
  return {
    command, streams: asInt(v.streams, 100, 'streams'), chunks: asInt(v.chunks, 20, 'chunks'),
    delayMs: asInt(v['delay-ms'], 10, 'delay-ms'), tokens: Math.max(1, asInt(v.tokens, 1, 'tokens')),
    format: asFormat(v.format, 'openai'), clientFormat: asFormat(v['client-format'], 'anthropic'), target,
    mockPort: asInt(v['mock-port'], 0, 'mock-port'), json: v.json, timeoutS: asInt(v['timeout-s'], command === 'bench' ? 900 : 300, 'timeout-s'),
    quick: v.quick === true, skipUsage: v['no-usage-check'] === true,
    targetPid: v['target-pid'] === undefined ? undefined : asInt(v['target-pid'], 0, 'target-pid'),
  }
}

/** The model string carrying the mock knobs for a run. */
export const mockModel = (a: Pick<HarnessArgs, 'chunks' | 'delayMs' | 'tokens'>): string =>
  `mock-model:chunks=${a.chunks}:delay=${a.delayMs}:tokens=${a.tokens}`

interface Measured { readonly report: StreamRunReport; readonly proc: Record<string, { peakRssMb: number; cpuSec: number }> }

async function measured(url: string, model: string, a: HarnessArgs, label: string, procs: Record<string, { readonly pid: number } | undefined>): Promise<Measured> {
  // Warm-up (unmeasured): JIT, connection pools and first-request paths on both ends.
  await runStreams({ url, clientFormat: a.clientFormat, streams: Math.min(20, a.streams), chunks: a.chunks, tokensPerChunk: a.tokens, model, timeoutMs: a.timeoutS * 1000 })
  const samplers = Object.entries(procs).flatMap(([k, c]) => (c === undefined ? [] : [[k, new ProcSampler(c.pid)] as const]))
  for (const [, s] of samplers) s.start()
  const isTty = process.stderr.isTTY === true
  let last = 0
  const report = await runStreams({
    url, clientFormat: a.clientFormat, streams: a.streams, chunks: a.chunks, tokensPerChunk: a.tokens, model,
    timeoutMs: a.timeoutS * 1000, skipUsage: a.skipUsage,
    onProgress: (done, failed) => {
      if (!isTty && done - last < a.streams / 10 && done !== a.streams) return
      last = done
      process.stderr.write(`${isTty ? '\r' : ''}${label}: ${done}/${a.streams} streams done, ${failed} failed${isTty ? '' : '\n'}`)
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
  return [label, `${r.completed}/${r.failed}`, fmt(r.ttfbMs.p50), fmt(r.ttfbMs.p95), fmt(r.ttfbMs.p99), fmt(r.ttftMs.p50), fmt(r.ttftMs.p99), fmt(r.totalMs.p50), fmt(r.totalMs.p99),
    fmt(r.chunksPerSec, 0), fmt(r.tokensPerSec, 0), ...proc]
}

const HEADER = ['run', 'completed/failed', 'TTFB p50 ms', 'p95', 'p99', 'first token p50 ms', 'p99', 'total p50 ms', 'p99', 'chunks/s', 'tokens/s', 'peak RSS MB', 'CPU s']

async function stress(a: HarnessArgs): Promise<number> {
  const mock = await startMockProcess(a.mockPort)
  let proxy: Child | undefined
  try {
    process.stderr.write(`mock: ${mock.url}\n`)
    const direct = await measured(mock.url, mockModel(a), a, 'mock alone', { mock })
    if (a.target === undefined) proxy = await startSwitchyard(mock.url, a.format, [mockModel(a)], Math.max(1000, a.streams * 2))
    const url = a.target ?? (proxy as Child).url
    process.stderr.write(`proxy: ${url}${a.target === undefined ? ' (Switchyard, started by the harness)' : ' (--target)'}\n`)
    const proxyPid = proxy ?? (a.targetPid === undefined ? undefined : { pid: a.targetPid })
    const through = await measured(url, viaProxy(mockModel(a)), a, 'through proxy', { proxy: proxyPid, mock })
    console.log(`\n${a.streams} streams × ${a.chunks} chunks @ ${a.delayMs} ms, client ${a.clientFormat} → upstream ${a.format}\n`)
    console.log(markdownTable(HEADER, [row('mock alone', direct, 'mock'), row('through proxy', through, 'proxy'), row('mock during proxied run', through, 'mock', true)]))
    for (const [name, m] of [['mock alone', direct], ['through proxy', through]] as const) {
      for (const e of m.report.sampleErrors) console.log(`${name}: ${e}`)
    }
    if (a.json !== undefined) writeFileSync(a.json, JSON.stringify({ args: a, direct, proxy: through }, null, 2))
    return direct.report.failed + through.report.failed === 0 ? 0 : 1
  } finally {
    await proxy?.stop()
    await mock.stop()
  }
}

/** Bun's fetch keeps at most 256 requests in flight unless this is raised before start-up. */
const MAX_HTTP = '65000'

async function main(): Promise<number> {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS === undefined && 'Bun' in globalThis) {
    const r = spawnSync(process.execPath, process.argv.slice(1), { stdio: 'inherit', env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: MAX_HTTP } })
    return r.status ?? 1
  }
  let a: HarnessArgs | undefined
  try {
    a = parseHarnessArgs(process.argv.slice(2))
  } catch (e) {
    console.error((e as Error).message)
    return 2
  }
  if (a === undefined) { console.log(HELP); return 0 }
  const guard = setTimeout(() => {
    console.error(`harness: global timeout of ${a.timeoutS} s reached`)
    killStarted()
    process.exit(3)
  }, a.timeoutS * 1000 + 30_000)
  const interrupt = (): void => { killStarted(); process.exit(130) }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    return a.command === 'bench' ? await runBench(a) : await stress(a)
  } catch (e) {
    console.error(`harness: ${(e as Error).message}`)
    return 2
  } finally {
    clearTimeout(guard)
  }
}

if (import.meta.main) process.exit(await main())
