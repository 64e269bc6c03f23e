/**
 * RSS of every process of a Switchyard instance: idle (after one request, so the tokenizer and
 * the translation path are loaded), at its peak during 1,000 concurrent streams, and 3 s after
 * a burst of 5,000 (and `--after` seconds after, when more than 3); the mock's own figures
 * beside them. Every stream is checked as in the stress run.
 *
 *   bun harness/memory.ts [--after 3] [--runtime bun|deno] [--deno-flags '--v8-flags=…'] [--bun-flags=--smol] [--upstream openai|anthropic] [--root DIR] [--exe FILE] [--relaunch] [--floor [--tap]] [--streams 1000] [--burst 5000] [--chunks 20]
 *
 * `--exe` starts a compiled binary (`npm run build`'s `dist/switchyard`) instead of `bun
 * src/cli.ts`: users run both, and the bundler drops modules the runtime loads (zod's locales).
 * `--root` starts the `src/cli.ts` of another checkout (before/after comparisons in one run);
 * `--relaunch` starts without BUN_CONFIG_MAX_HTTP_REQUESTS, as a user's `switchyard start`
 * does, so Bun's `start` starts again with it set: in place, one process (parent + child where
 * `execve` is missing, or for a `--root` older than that). `--upstream
 * anthropic` makes the upstream speak the client's format (pass-through) instead of OpenAI's
 * (translated). `--chunks` sets how many chunks (10 ms apart) each stream has: longer answers
 * show what an open stream holds as it grows. `--floor` measures `harness/forwarder.ts` (under Bun,
 * pass-through) in Switchyard's place, `--tap` its variant that reads the answer in JavaScript: the
 * least a proxy on this runtime holds per stream, natively piped or looked at.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, killStarted, readProc, rerunWithFetchLimit, untilHealthy } from './stress/proc.ts'
import { PATHS, requestBody, runStreams } from './stress/run.ts'
import { ccrConfig, cliStartArgs, forwarderArgs, startMockProcess, viaProxy } from './stress/switchyard.ts'
import { fmt, markdownTable } from './stress/stats.ts'

const rerun = rerunWithFetchLimit()
if (rerun !== undefined) process.exit(rerun)

const { values: v } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'bun' },
    root: { type: 'string' },
    relaunch: { type: 'boolean', default: false },
    streams: { type: 'string', default: '1000' },
    burst: { type: 'string', default: '5000' },
    chunks: { type: 'string', default: '20' },
    after: { type: 'string', default: '3' },
    json: { type: 'string' },
    'deno-flags': { type: 'string', default: '' },
    'bun-flags': { type: 'string', default: '' },
    upstream: { type: 'string', default: 'openai' },
    exe: { type: 'string' },
    floor: { type: 'boolean', default: false },
    tap: { type: 'boolean', default: false },
  },
})
if (v.tap && !v.floor) throw new Error('--tap is a variant of the --floor forwarder: give --floor too')
if (v.floor && (v.exe || v.root || v.runtime !== 'bun' || v.relaunch)) {
  throw new Error('--floor runs harness/forwarder.ts under Bun: --exe, --root, --runtime and --relaunch do not apply')
}
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const CHUNKS = Number(v.chunks)
const STREAM_MODEL = `mock-stream:chunks=${CHUNKS}:delay=10`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The pid and every descendant (Bun's relaunch child, Deno's none). */
function tree(pid: number): number[] {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim().split(/\s+/)) {
        if (task) out.push(Number(task))
      }
    } catch { /* gone */ }
  }
  return out
}

const rssOf = (pids: readonly number[]) => pids.map((p) => readProc(p)?.rssMb ?? Number.NaN)

async function main(): Promise<void> {
  const mock = await startMockProcess()
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-memory-'))
  const port = await freePort()
  const config = join(dir, 'config.json')
  writeFileSync(
    config,
    JSON.stringify(ccrConfig(mock.url, v.upstream === 'anthropic' ? 'anthropic' : 'openai', ['mock-stream'], port)),
  )
  const cmd = v.exe ? resolve(v.exe) : v.runtime === 'deno' ? join(ROOT, 'node_modules/.bin/deno') : process.execPath
  const startArgs = cliStartArgs(config, port, ['--max-streams', '20000'], ROOT)
  const args = v.exe ? startArgs.slice(1) : [
    ...(v.runtime === 'deno'
      ? ['run', '-A', ...(v['deno-flags'] ? v['deno-flags'].split(' ') : [])]
      : v['bun-flags']
      ? v['bun-flags'].split(' ')
      : []),
    ...startArgs,
  ]
  const env: Record<string, string | undefined> = { ...process.env }
  if (v.relaunch) delete env.BUN_CONFIG_MAX_HTTP_REQUESTS
  const proxy = v.floor
    ? spawn(process.execPath, forwarderArgs(mock.url, { tap: v.tap, port }), {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    })
    : spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env })
  const url = `http://127.0.0.1:${port}`
  try {
    await untilHealthy(url)
    const headers = { 'content-type': 'application/json', 'x-api-key': 'harness', 'anthropic-version': '2023-06-01' }
    const warm = await fetch(url + PATHS.anthropic, {
      method: 'POST',
      headers,
      body: requestBody('anthropic', viaProxy('mock-stream:chunks=5:delay=0'), false),
    })
    if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}`)
    await warm.arrayBuffer()
    await sleep(3_000)
    const pids = tree(proxy.pid!)
    const idle = rssOf(pids)
    const peak = [...idle]
    const timer = setInterval(() =>
      rssOf(pids).forEach((r, i) => {
        peak[i] = Math.max(peak[i]!, r)
      }), 25)
    const run = (n: number) =>
      runStreams({
        url,
        clientFormat: 'anthropic',
        streams: n,
        chunks: CHUNKS,
        tokensPerChunk: 1,
        model: viaProxy(STREAM_MODEL),
        timeoutMs: 120_000,
      })
    const r1 = await run(Number(v.streams))
    const at1k = [...peak]
    peak.fill(0)
    const r5 = await run(Number(v.burst))
    clearInterval(timer)
    const atBurst = [...peak]
    await sleep(3_000)
    const after = rssOf(pids)
    // A later reading too: a runtime may give a burst's memory back only some seconds after (V8's memory reducer).
    const late = Number(v.after) > 3 ? (await sleep((Number(v.after) - 3) * 1000), rssOf(pids)) : undefined
    const mockRss = readProc(mock.pid)?.rssMb ?? Number.NaN
    const rows = pids.map((p, i) => [
      i === 0
        ? `proxy (${v.floor ? 'bun' : v.runtime}${v.relaunch && pids.length > 1 ? ', relaunch parent' : ''})`
        : 'proxy (relaunched child)',
      String(p),
      fmt(idle[i]!, 1),
      fmt(at1k[i]!, 1),
      fmt(atBurst[i]!, 1),
      fmt(after[i]!, 1),
      ...(late ? [fmt(late[i]!, 1)] : []),
    ])
    if (pids.length > 1) {
      rows.push([
        'proxy, all processes',
        '',
        ...[idle, at1k, atBurst, after, ...(late ? [late] : [])].map((xs) => fmt(xs.reduce((s, x) => s + x, 0), 1)),
      ])
    }
    rows.push(['mock (bun)', String(mock.pid), '', '', '', fmt(mockRss, 1), ...(late ? [''] : [])])
    console.log(
      `${
        v.floor ? `harness/forwarder.ts${v.tap ? ' --tap' : ''}` : v.exe ? `exe ${resolve(v.exe)}` : `root ${ROOT}`
      }; ${v.streams} streams: ${r1.completed}/${r1.streams} complete; burst ${v.burst}: ${r5.completed}/${r5.streams} complete`,
    )
    console.log(
      markdownTable([
        'process',
        'pid',
        'idle RSS MB',
        `peak RSS MB, ${v.streams} streams`,
        `peak RSS MB, ${v.burst}-stream burst`,
        'RSS MB 3 s after the burst',
        ...(late ? [`RSS MB ${v.after} s after the burst`] : []),
      ], rows),
    )
    if (v.json) {
      writeFileSync(
        v.json,
        JSON.stringify(
          {
            root: ROOT,
            runtime: v.runtime,
            pids,
            idle,
            at1k,
            atBurst,
            after,
            late,
            mockRss,
            complete: [r1.completed, r5.completed],
          },
          null,
          2,
        ),
      )
    }
    if (r1.failed + r5.failed > 0) {
      console.error(r1.sampleErrors, r5.sampleErrors)
      process.exitCode = 1
    }
  } finally {
    proxy.kill('SIGTERM')
    await mock.stop()
    rmSync(dir, { recursive: true, force: true })
    killStarted()
  }
}

await main()
