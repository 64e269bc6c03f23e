/**
 * CPU per stream set-up in a burst, with the sockets taken away: N streaming requests opened at
 * once over `app.fetch` of a real instance (the in-process mock upstream, its chunks held back
 * by a gate after the first), each read to its first client bytes. The CPU time
 * (`process.cpuUsage`) from the first request to the last stream's first bytes, minus the same
 * burst against the mock alone, divided by N, is what the proxy spends to set a stream up: the
 * work a burst of stream openings serialises on the event loop before anyone's first byte.
 * Runs under Bun and Deno:
 *
 *   bun harness/burst-setup.ts [--n 500] [--rounds 5] [--chunks 20] [--root DIR]
 *   deno run -A harness/burst-setup.ts [--n 500]
 *
 * `--chunks 1`: each stream is one chunk and its end, so streams opened first end (and run their
 * end-of-stream work: stats, telemetry) while the later ones are still being set up, as in a
 * burst over real sockets; the figure is then the CPU until the last stream's first bytes.
 * `--root` loads `src/` of another checkout (before/after pairs). Best of `--rounds` is
 * printed beside the median: other load on the machine only ever adds.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { inProcessInstance } from './inprocess-instance.ts'

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '5' },
    root: { type: 'string' },
    chunks: { type: 'string', default: '20' },
  },
})
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)

let open = true
const waiting: (() => void)[] = []
// The mock's waits: instant while the gate is open, held while it is closed.
const sleep = () => (open ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)))
const { mock, inst } = await inProcessInstance(ROOT, sleep)

const MODEL = `mock-o:chunks=${v.chunks}:delay=10`
const clientBody = JSON.stringify({
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
const viaProxy = () =>
  inst.app.fetch(
    new Request('http://sy.test/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(clientBody.length) },
      body: clientBody,
    }),
  ) as Promise<Response>
const direct = () =>
  mock.fetch(
    new Request('http://mock.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: upstreamBody,
    }),
  ) as Promise<Response>

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

/** One burst: N opened at once, each read to its first bytes; CPU µs per stream to get there. */
async function burst(post: () => Promise<Response>): Promise<number> {
  open = false
  const c0 = cpuUs()
  const readers = await Promise.all(Array.from({ length: N }, async () => {
    const reader = (await post()).body!.getReader()
    await reader.read()
    return reader
  }))
  const used = (cpuUs() - c0) / N
  // Let every stream run to its end, then settle, so the next round starts from idle.
  open = true
  for (const w of waiting.splice(0)) w()
  await Promise.all(readers.map(async (r) => {
    while (!(await r.read()).done) { /* drain */ }
  }))
  await new Promise((r) => setTimeout(r, 100))
  return used
}

const rounds = Number(v.rounds)
const proxied: number[] = []
const mocked: number[] = []
// Unmeasured warm-up of both paths: JIT compilation is a start-up cost.
await burst(viaProxy)
await burst(direct)
for (let i = 0; i < rounds; i++) {
  mocked.push(await burst(direct))
  proxied.push(await burst(viaProxy))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const best = (xs: number[]) => Math.min(...xs)
const runtimeName = 'Bun' in globalThis ? 'bun' : 'deno'
console.log(
  `${runtimeName}, ${N} streams at once: set-up CPU per stream (proxy minus mock alone): best ${
    (best(proxied) - best(mocked)).toFixed(1)
  } µs, median ${(median(proxied) - median(mocked)).toFixed(1)} µs (proxy ${best(proxied).toFixed(1)} / ${
    median(proxied).toFixed(1)
  }, mock alone ${best(mocked).toFixed(1)} / ${median(mocked).toFixed(1)})`,
)
await inst.close?.()
process.exit(0)
