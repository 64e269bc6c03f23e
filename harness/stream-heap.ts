/**
 * What an open stream holds on the JS heap: N streams opened in-process over `app.fetch` (the
 * in-process mock, its chunks held back by a gate), each read to its first bytes, then the heap
 * counted by object type (`bun:jsc` heapStats) against the same process idle. Bun only:
 *
 *   bun harness/stream-heap.ts [--n 1000] [--root DIR] [--top 25] [--mock-only] [--chunks 1]
 *
 * Streams use `chunks=<max(20, 3 + --chunks)>:delay=10`, so after `--chunks` chunks the mock waits at a
 * closed gate (one chunk at a time is let through for every stream at once: what a stream holds
 * as its answer grows). `--mock-only` opens the same streams on the mock alone, to subtract its share.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { inProcessInstance } from './inprocess-instance.ts'
import { heapStats } from 'bun:jsc'

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    'mock-only': { type: 'boolean', default: false },
    root: { type: 'string' },
    top: { type: 'string', default: '25' },
    chunks: { type: 'string', default: '1' },
  },
})
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)
const K = Math.max(1, Number(v.chunks))
const MODEL = `mock-o:chunks=${Math.max(20, K + 3)}:delay=10`
let open = false
const waiting: (() => void)[] = []
// The mock's waits: instant until the gate closes, then held until it opens again.
const sleep = () => (open ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)))
const { mock, inst } = await inProcessInstance(ROOT, sleep)
const body = JSON.stringify({
  model: `oai,${MODEL}`,
  max_tokens: 1024,
  stream: true,
  messages: [{ role: 'user', content: 'Count with sequence tags.' }],
})
const upstreamBody = JSON.stringify({
  model: MODEL,
  max_tokens: 1024,
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Count with sequence tags.' }],
})
const post = () =>
  v['mock-only']
    ? mock.fetch(
      new Request('http://mock.test/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: upstreamBody,
      }),
    )
    : inst.app.fetch(
      new Request('http://sy.test/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        body,
      }),
    )

// Warm up with the gate open: one full stream.
open = true
await (await post()).text()
open = false
Bun.gc(true)
const idle = heapStats()
const readers: ReadableStreamDefaultReader<Uint8Array>[] = []
for (let i = 0; i < N; i++) {
  const res = await post()
  readers.push(res.body!.getReader())
}
// Each stream's first chunk read as a client would; the mock then waits at the gate (delay=10).
await Promise.all(readers.map((r) => r.read()))
await new Promise((r) => setTimeout(r, 50))
// Then one more chunk for every stream at a time, read as it comes, until each has sent K.
for (let k = 1; k < K; k++) {
  const reads = readers.map((r) => r.read())
  for (const w of waiting.splice(0)) w()
  await Promise.all(reads)
  // Every stream's next pull waits at the gate again (frames without a delay may pass first).
  for (let t = 0; t < 100 && waiting.length < N; t++) await new Promise((r) => setTimeout(r, 1))
}
Bun.gc(true)
const busy = heapStats()
const per = (n: number) => (n / N).toFixed(2)
console.log(
  `${N} open streams: heap ${(idle.heapSize / 1e6).toFixed(1)} → ${(busy.heapSize / 1e6).toFixed(1)} MB, ${
    ((busy.heapSize - idle.heapSize) / N / 1024).toFixed(1)
  } KB per stream; objects ${idle.objectCount} → ${busy.objectCount} (${
    per(busy.objectCount - idle.objectCount)
  } per stream); RSS ${(process.memoryUsage().rss / 1e6).toFixed(1)} MB`,
)
const rows = Object.entries(busy.objectTypeCounts).map(([k, c]) => [k, c - (idle.objectTypeCounts[k] ?? 0)] as const)
  .filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]).slice(0, Number(v.top))
console.log('| object type | per stream |\n| --- | --- |')
for (const [k, d] of rows) console.log(`| ${k} | ${per(d)} |`)
open = true
for (const w of waiting.splice(0)) w()
for (const r of readers) await r.cancel()
process.exit(0)
