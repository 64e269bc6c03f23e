/**
 * What a fresh instance's idle RSS is made of: each row is a fresh process that imports the
 * groups of modules up to that row (cumulative), collects garbage, idles and reads its RSS and
 * JS heap; the last rows start a real instance (`src/cli.ts start`, as `harness/memory.ts`
 * does) and read its RSS before and after one request (the tokenizer and translation path).
 *
 *   bun harness/idle-breakdown.ts [--runtime bun|deno] [--root DIR] [--repeat 1] [--instance-only]
 *
 * `--root` measures another checkout's `src/` (before/after comparisons; under Deno its
 * packages come from this checkout, so compare Deno runs without `--root`). Deltas between rows
 * are what the row's group adds on top of everything above it, so the order matters: shared
 * dependencies are charged to the first group that imports them.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type * as Proc from './stress/proc.ts'
import type * as Run from './stress/run.ts'
import type * as Switchyard from './stress/switchyard.ts'
import type * as Stats from './stress/stats.ts'

// The harness's own modules are imported by the parent only: a child row must load nothing but its groups.
interface ParentModules {
  readonly proc: typeof Proc
  readonly run: typeof Run
  readonly switchyard: typeof Switchyard
  readonly stats: typeof Stats
}
const parentModules = async (): Promise<ParentModules> => ({
  proc: await import('./stress/proc.ts'),
  run: await import('./stress/run.ts'),
  switchyard: await import('./stress/switchyard.ts'),
  stats: await import('./stress/stats.ts'),
})

/** Cumulative import groups, cheapest and most basic first. Paths under `src/` are relative to the root. */
export const GROUPS: readonly { readonly name: string; readonly imports: readonly string[] }[] = [
  { name: 'runtime alone (empty server)', imports: [] },
  { name: '+ hono', imports: ['hono'] },
  { name: '+ zod', imports: ['zod'] },
  { name: '+ @hono/zod-openapi', imports: ['@hono/zod-openapi'] },
  { name: '+ the four formats (src/formats/index.ts)', imports: ['src/formats/index.ts'] },
  {
    name: '+ tokenizer and pricing (src/tokens/estimate.ts, pricing.ts)',
    imports: ['src/tokens/estimate.ts', 'src/tokens/pricing.ts'],
  },
  { name: '+ node:sqlite store (src/store/db.ts)', imports: ['src/store/db.ts'] },
  { name: '+ dashboard (src/ui/route.ts)', imports: ['src/ui/route.ts'] },
  { name: '+ the edge and its routes (src/app.ts)', imports: ['src/app.ts'] },
  { name: '+ the composition root (src/compose.ts)', imports: ['src/compose.ts'] },
  {
    name: '+ the CLI and its start command (src/cli/commands.ts, start.ts)',
    imports: ['src/cli/commands.ts', 'src/cli/start.ts'],
  },
]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A group's module as the root's own code sees it: `src/…` under the root; a package resolved
 * from the root's `node_modules` under Bun (a copy from elsewhere would be a second instance).
 * Deno resolves packages from this checkout, so under Deno `--root` counts the package rows twice.
 */
function specifier(root: string, m: string): string {
  if (m.startsWith('src/')) return join(root, m)
  return 'Bun' in globalThis ? Bun.resolveSync(m, root) : m
}

/** The child: import, collect, idle, print one JSON line. */
async function child(root: string, upTo: number): Promise<void> {
  const isDeno = 'Deno' in globalThis
  const server = isDeno
    ? (globalThis as unknown as { Deno: { serve(o: object, h: () => Response): unknown } }).Deno.serve(
      { port: 0, hostname: '127.0.0.1', onListen() {} },
      () => new Response('ok'),
    )
    : Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('ok') })
  void server
  for (const g of GROUPS.slice(0, upTo + 1)) {
    for (const m of g.imports) await import(specifier(root, m))
  }
  const gc = () => isDeno ? (globalThis as { gc?: () => void }).gc?.() : Bun.gc(true)
  gc()
  await sleep(1_000)
  gc()
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024
  let heap: number
  let objects = Number.NaN
  if (isDeno) {
    heap = (globalThis as unknown as { Deno: { memoryUsage(): { heapUsed: number } } }).Deno.memoryUsage().heapUsed
  } else {
    const { heapStats } = await import('bun:jsc')
    const s = heapStats()
    heap = s.heapSize
    objects = s.objectCount
  }
  console.log(JSON.stringify({ rss, heapMb: heap / 2 ** 20, objects }))
  process.exit(0)
}

interface Row {
  readonly rss: number
  readonly heapMb: number
  readonly objects: number
}

function importRow(runtimeName: string, root: string, upTo: number): Row {
  const self = new URL(import.meta.url).pathname
  const cmd = runtimeName === 'deno' ? join(root, 'node_modules/.bin/deno') : process.execPath
  const args = runtimeName === 'deno'
    ? ['run', '-A', '--v8-flags=--expose-gc', self, '--child', String(upTo), '--root', root]
    : [self, '--child', String(upTo), '--root', root]
  // Run from the root so bare specifiers (hono, zod) resolve to that checkout's node_modules.
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`row ${upTo} failed: ${r.stderr}`)
  return JSON.parse(line) as Row
}

/** A real instance, one process: RSS after start (and /health), then 3 s after one translated request. */
async function instanceRows(
  runtimeName: string,
  root: string,
  m: ParentModules,
): Promise<{ started: number; afterOne: number; firstMs: number }> {
  const { freePort, killStarted, readProc, untilHealthy } = m.proc
  const { PATHS, requestBody } = m.run
  const { ccrConfig, cliStartArgs, startMockProcess, viaProxy } = m.switchyard
  const mock = await startMockProcess()
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-idle-'))
  const port = await freePort()
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify(ccrConfig(mock.url, 'openai', ['mock-stream'], port)))
  const cmd = runtimeName === 'deno' ? join(root, 'node_modules/.bin/deno') : process.execPath
  const args = [...(runtimeName === 'deno' ? ['run', '-A'] : []), ...cliStartArgs(config, port, [], root)]
  // With the limit already set, Bun's `start` does not relaunch itself: one process to read.
  const proxy = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '65000' },
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await untilHealthy(url)
    await sleep(3_000)
    const started = readProc(proxy.pid!)?.rssMb ?? Number.NaN
    const t0 = performance.now()
    const warm = await fetch(url + PATHS.anthropic, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'harness', 'anthropic-version': '2023-06-01' },
      body: requestBody('anthropic', viaProxy('mock-stream:chunks=5:delay=0'), false),
    })
    if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}`)
    await warm.arrayBuffer()
    const firstMs = performance.now() - t0
    await sleep(3_000)
    return { started, afterOne: readProc(proxy.pid!)?.rssMb ?? Number.NaN, firstMs }
  } finally {
    proxy.kill('SIGTERM')
    await mock.stop()
    killStarted()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'bun' },
      root: { type: 'string' },
      child: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      'instance-only': { type: 'boolean', default: false },
    },
  })
  const root = resolve(v.root ?? new URL('../', import.meta.url).pathname)
  if (v.child !== undefined) return child(root, Number(v.child))
  const repeat = Number(v.repeat)
  const m = await parentModules()
  const { fmt, markdownTable } = m.stats
  const rows: string[][] = []
  let prev: number | undefined
  for (let i = 0; i < (v['instance-only'] ? 0 : GROUPS.length); i++) {
    const runs = Array.from({ length: repeat }, () => importRow(v.runtime!, root, i))
    const rss = Math.min(...runs.map((r) => r.rss))
    const best = runs.find((r) => r.rss === rss)!
    rows.push([
      GROUPS[i]!.name,
      fmt(rss, 1),
      prev === undefined ? '' : fmt(rss - prev, 1),
      fmt(best.heapMb, 1),
      Number.isNaN(best.objects) ? '' : String(best.objects),
    ])
    prev = rss
  }
  const { started, afterOne, firstMs } = await instanceRows(v.runtime!, root, m)
  rows.push([
    'instance started (`src/cli.ts start`, 3 s after /health)',
    fmt(started, 1),
    prev === undefined ? '' : fmt(started - prev, 1),
    '',
    '',
  ])
  rows.push([
    `instance after one translated request (+3 s; it took ${fmt(firstMs, 1)} ms)`,
    fmt(afterOne, 1),
    fmt(afterOne - started, 1),
    '',
    '',
  ])
  console.log(`${v.runtime} ${root}${repeat > 1 ? ` (best of ${repeat} per row)` : ''}`)
  console.log(markdownTable(['imported (cumulative)', 'RSS MB', 'Δ MB', 'JS heap MB', 'objects'], rows))
}

await main()
