/**
 * Bursts of streams opened at once, one after another, through one fresh proxy: per burst the
 * TTFB p50 / p99 and the proxy's CPU per stream by thread (its first thread, where Bun runs
 * JavaScript; Bun's HTTP client thread; the JIT compiler threads; the collector's helpers; all of
 * them), read from /proc (Linux). The first burst is a fresh proxy's; the later ones show when the
 * JIT goes quiet and what a warm proxy spends. Bun only (thread names are Bun's). Every stream is
 * checked as in the stress run.
 *
 *   bun harness/bursts.ts [--bursts 8] [--streams 500] [--upstream openai|anthropic] [--floor [--tap]] [--root DIR | --exe FILE] [--pause-ms 300]
 *
 * `--upstream anthropic` passes the client's format through, the default translates (anthropic
 * client → openai upstream). `--floor` puts `harness/forwarder.ts` in Switchyard's place
 * (pass-through), `--tap` its variant that reads the answer in JavaScript. `--root` starts the
 * `src/cli.ts` of another checkout, `--exe` a compiled binary (`npm run build`'s `dist/switchyard`).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type Child,
  killStarted,
  mainThreadCpuSec,
  readProc,
  rerunWithFetchLimit,
  threadCpuSec,
} from './stress/proc.ts'
import { runStreams } from './stress/run.ts'
import { startForwarder, startMockProcess, startSwitchyard, viaProxy } from './stress/switchyard.ts'
import { fmt, markdownTable } from './stress/stats.ts'

const rerun = rerunWithFetchLimit()
if (rerun !== undefined) process.exit(rerun)

const { values: v } = parseArgs({
  options: {
    bursts: { type: 'string', default: '8' },
    streams: { type: 'string', default: '500' },
    upstream: { type: 'string', default: 'openai' },
    floor: { type: 'boolean', default: false },
    tap: { type: 'boolean', default: false },
    root: { type: 'string' },
    exe: { type: 'string' },
    'pause-ms': { type: 'string', default: '300' },
  },
})
if (v.tap && !v.floor) throw new Error('--tap is a variant of the --floor forwarder: give --floor too')
if (v.floor && (v.root || v.exe)) {
  throw new Error('--root and --exe start another Switchyard: they do not apply to --floor')
}
if (v.root && v.exe) throw new Error('--root and --exe are two ways to start the proxy: give one')
if (v.upstream !== 'openai' && v.upstream !== 'anthropic') throw new Error('--upstream is openai or anthropic')
const BURSTS = Number(v.bursts)
const N = Number(v.streams)
const STREAM = 'mock-stream:chunks=20:delay=10'

/** CPU seconds of the proxy so far: all threads, and the ones this tool tells apart. */
function cpu(pid: number) {
  return {
    all: readProc(pid)?.cpuSec ?? Number.NaN,
    main: mainThreadCpuSec(pid) ?? Number.NaN,
    http: threadCpuSec(pid, 'HTTP Client') ?? 0,
    jit: threadCpuSec(pid, 'JITWorker') ?? 0,
    gc: threadCpuSec(pid, 'HeapHelper') ?? 0,
  }
}

async function main(): Promise<void> {
  const mock = await startMockProcess()
  let proxy: Child | undefined
  try {
    const format = v.floor ? 'anthropic' : v.upstream as 'openai' | 'anthropic'
    proxy = v.floor
      ? await startForwarder(mock.url, v.tap)
      : await startSwitchyard(mock.url, format, [STREAM], 20_000, {}, {
        ...(v.root ? { root: resolve(v.root) } : {}),
        ...(v.exe ? { exe: resolve(v.exe) } : {}),
      })
    const pid = proxy.pid
    const rows: string[][] = []
    let failed = 0
    for (let b = 0; b < BURSTS; b++) {
      const before = cpu(pid)
      const r = await runStreams({
        url: proxy.url,
        clientFormat: 'anthropic',
        streams: N,
        chunks: 20,
        tokensPerChunk: 1,
        model: viaProxy(STREAM),
        timeoutMs: 120_000,
      })
      const after = cpu(pid)
      // CPU ms per stream of this burst.
      const per = (k: keyof typeof before) => fmt(((after[k] - before[k]) * 1000) / N, 2)
      failed += r.failed
      rows.push([
        String(b + 1),
        fmt(r.ttfbMs.p50),
        fmt(r.ttfbMs.p99),
        per('all'),
        per('main'),
        per('http'),
        per('jit'),
        per('gc'),
        fmt(readProc(pid)?.rssMb ?? Number.NaN),
        `${r.completed}/${N}`,
      ])
      await new Promise((res) => setTimeout(res, Number(v['pause-ms'])))
    }
    const what = v.floor
      ? `harness/forwarder.ts${v.tap ? ' --tap' : ''}`
      : `Switchyard (${v.exe ? `exe ${resolve(v.exe)}` : resolve(v.root ?? '.')})`
    console.log(`${what}, anthropic client → ${v.floor ? 'anthropic' : v.upstream} upstream, ${BURSTS} bursts of ${N}`)
    console.log(
      markdownTable([
        'burst',
        'TTFB p50 ms',
        'TTFB p99 ms',
        'proxy CPU ms/stream, all threads',
        'first thread (JS)',
        'HTTP client',
        'JIT',
        'GC helpers',
        'RSS MB after',
        'complete',
      ], rows),
    )
    if (failed > 0) process.exitCode = 1
  } finally {
    await proxy?.stop()
    await mock.stop()
    killStarted()
  }
}

await main()
