/**
 * Where one stream's time to first byte goes, over real sockets in one process: the mock
 * upstream and a real instance (upstream fetch over HTTP to the mock) are served on 127.0.0.1,
 * and a client opens `--n` streams one after another, direct to the mock and through the
 * proxy, interleaved. Timestamps (ms after the client's send) at each stage of the proxied
 * streams: handler called, upstream fetch sent, upstream headers, each upstream body chunk,
 * handler returned, client headers, client first byte. Prints the p50/p90 of each stage and the
 * added TTFB (proxy minus direct).
 *
 *   bun harness/ttfb-probe.ts [--n 200] [--root DIR] [--upstream anthropic|openai]
 *   deno run -A harness/ttfb-probe.ts
 *
 * `--model` sets the mock knobs of the measured streams, `--warmup N` / `--warmup-model M` the
 * unmeasured ones first (e.g. 3000 of `mock-stream:chunks=2:delay=0` to warm the JIT quickly),
 * `--gap-ms MS` a pause before each measured stream (idle, or a busy loop with `--spin`).
 * The three share one event loop, so the figures are each stage's place in one stream's
 * timeline, not the proxy's cost alone; `--root` loads `src/` of another checkout.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    root: { type: 'string' },
    upstream: { type: 'string', default: 'anthropic' },
    model: { type: 'string', default: 'mock-stream:chunks=20:delay=10' },
    warmup: { type: 'string', default: '20' },
    'warmup-model': { type: 'string' },
    'gap-ms': { type: 'string', default: '0' },
    spin: { type: 'boolean', default: false },
  },
})
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)
const FORMAT = v.upstream === 'openai' ? 'openai' : 'anthropic'

const { startMockServer } = await import(`${ROOT}/src/demo/server.ts`)
const { createInstance } = await import(`${ROOT}/src/compose.ts`)
const { parseConfig } = await import(`${ROOT}/src/config/load.ts`)
const { knownTransformer } = await import(`${ROOT}/src/formats/index.ts`)
const { createLogger } = await import(`${ROOT}/src/log.ts`)
const { runtime } = await import(`${ROOT}/src/runtime/index.ts`)

const mock = await startMockServer({ port: 0 })
const PATH = FORMAT === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'
const MODEL = v.model
/** The model of the unmeasured warm-up streams (default the measured one): a short one warms the JIT quickly. */
const WARM = v['warmup-model'] ?? MODEL

/** Stage timestamps of the proxied stream in flight (one at a time). */
let t0 = 0
let marks: Record<string, number> = {}
const mark = (name: string) => {
  marks[name] ??= performance.now() - t0
}
// More stages: add `;(globalThis as { __mark?: (n: string) => void }).__mark?.('name')` lines to
// src/ for a run (not committed); each is timed like the ones below.
Object.assign(globalThis, { __mark: mark })

/** The upstream fetch, timed: sent, headers, and each body chunk as the proxy reads it. */
const timedFetch = async (req: Request): Promise<Response> => {
  mark('upstream fetch sent')
  const res = await fetch(req)
  mark('upstream headers')
  if (!res.body) return res
  const reader = res.body.getReader()
  let n = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read()
      if (r.done) return c.close()
      if (n < 3) mark(`upstream chunk ${++n}`)
      c.enqueue(r.value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  }, { highWaterMark: 0 })
  return new Response(body, { status: res.status, headers: res.headers })
}

const file = {
  LOG: false,
  Providers: [{
    name: 'm',
    api_base_url: `${mock.url}${PATH}`,
    api_key: 'k',
    models: [MODEL, WARM],
    ...(FORMAT === 'anthropic' ? { transformer: { use: ['Anthropic'] } } : {}),
  }],
  Router: { default: `m,${MODEL}` },
}
const parsed = parseConfig(JSON.stringify(file), {}, { knownTransformer })
if (!parsed.ok) throw new Error(parsed.error.join('; '))
const inst = await createInstance(parsed.value.config, {
  dataDir: ':memory:',
  fetch: timedFetch,
  log: createLogger({ enabled: !!process.env.PROBE_LOG }),
})
const proxy = await runtime.serve(async (req: Request) => {
  mark('handler called')
  const res = await inst.app.fetch(req)
  mark('handler returned')
  return res
}, { port: 0, hostname: '127.0.0.1', idleTimeoutSec: 255 })
const proxyUrl = `http://127.0.0.1:${proxy.port}`

const body = (model: string) =>
  JSON.stringify({
    model,
    max_tokens: 1024,
    stream: true,
    messages: [{ role: 'user', content: 'Count with sequence tags.' }],
  })
const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'x' }

/** One stream: ms to headers and to the first body bytes, then read to its end. */
async function one(url: string, model: string): Promise<{ headers: number; first: number }> {
  t0 = performance.now()
  marks = {}
  const res = await fetch(url + '/v1/messages', { method: 'POST', headers, body: body(model) })
  const h = performance.now() - t0
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
  const reader = res.body!.getReader()
  await reader.read()
  const first = performance.now() - t0
  while (!(await reader.read()).done) { /* drain */ }
  return { headers: h, first }
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const direct: number[] = []
const proxied: number[] = []
const stages: Record<string, number[]> = {}
for (let i = 0; i < Number(v.warmup); i++) {
  await one(mock.url, WARM)
  await one(proxyUrl, `m,${WARM}`)
}
/** Between two measured streams: idle (a timer) or, with `--spin`, a busy loop for `--gap-ms`. */
const gap = async () => {
  const ms = Number(v['gap-ms'])
  if (ms <= 0) return
  if (!v.spin) return await new Promise((r) => setTimeout(r, ms))
  for (const end = performance.now() + ms; performance.now() < end;) { /* busy */ }
}
for (let i = 0; i < N; i++) {
  await gap()
  direct.push((await one(mock.url, MODEL)).first)
  await gap()
  const r = await one(proxyUrl, `m,${MODEL}`)
  proxied.push(r.first)
  for (const [k, x] of Object.entries({ ...marks, 'client headers': r.headers, 'client first byte': r.first })) {
    ;(stages[k] ??= []).push(x)
  }
}
const f = (x: number) => x.toFixed(3).padStart(8)
console.log(
  `${'Bun' in globalThis ? 'bun' : 'deno'}, ${N} sequential streams, upstream ${FORMAT}; ms after the client's send`,
)
console.log(`${'stage'.padEnd(22)}      p50      p90`)
for (const [k, xs] of Object.entries(stages).sort((a, b) => pct(a[1], 0.5) - pct(b[1], 0.5))) {
  console.log(`${k.padEnd(22)} ${f(pct(xs, 0.5))} ${f(pct(xs, 0.9))}`)
}
console.log(`${'direct first byte'.padEnd(22)} ${f(pct(direct, 0.5))} ${f(pct(direct, 0.9))}`)
const added = proxied.map((p, i) => p - direct[i]!)
console.log(`${'added TTFB'.padEnd(22)} ${f(pct(added, 0.5))} ${f(pct(added, 0.9))}`)
await proxy.stop(true)
await inst.close()
await mock.stop()
process.exit(0)
