/**
 * The least a model-routing proxy can do, as a process the bench can measure in Switchyard's
 * place (`bun run harness bench --floor`): read the JSON body, take the `provider,` prefix off
 * `model` (the one field every router must read), serialise it again, forward it with the
 * client's headers to the same path on the upstream, and stream the answer back untouched. No
 * validation, routing, translation, limits, retries, usage or logging: whatever it costs, any
 * proxy of the same runtime pays at least that, so its row in the bench is the floor under
 * Switchyard's.
 *
 * `--tap` reads the answer in JavaScript, as any proxy must that counts usage, translates or can
 * continue a stream: a streamed answer chunk by chunk, each handed on through a stream of its
 * own; a JSON answer whole, as text, sent on as it is. The floor under proxies that look at the
 * answer, where the plain forwarder lets the runtime pipe it natively.
 * `GET /health` answers 200 (harness/memory.ts waits for it).
 *
 *   bun harness/forwarder.ts --upstream http://127.0.0.1:PORT [--port 0] [--tap]
 */
import { parseArgs } from 'node:util'

const { values: v } = parseArgs({
  options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' }, tap: { type: 'boolean' } },
})
if (v.upstream === undefined || !/^http:\/\/127\.0\.0\.1:\d+$/.test(v.upstream)) {
  throw new Error('--upstream http://127.0.0.1:PORT is required (the harness only sends load to this machine)')
}
const upstream = v.upstream

/** Hop-by-hop and length headers the runtime sets again for the re-serialised body. */
const DROPPED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'])

/** The body read chunk by chunk in JavaScript and enqueued, untouched, in a stream of its own. */
function tapped(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read()
      if (r.done) c.close()
      else c.enqueue(r.value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
}

const server = Bun.serve({
  port: Number(v.port),
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url)
    if (req.method === 'GET' && url.pathname === '/health') return new Response('ok')
    const body = (await req.json()) as { model?: unknown }
    if (typeof body.model === 'string') body.model = body.model.slice(body.model.indexOf(',') + 1)
    const headers = new Headers()
    for (const [k, val] of req.headers) if (!DROPPED.has(k)) headers.set(k, val)
    const res = await fetch(upstream + url.pathname + url.search, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: req.signal,
    })
    if (!v.tap || !res.body) return new Response(res.body, { status: res.status, headers: res.headers })
    // A JSON answer is read whole (what a proxy counting its usage parses); a stream is tapped.
    const streamed = res.headers.get('content-type')?.startsWith('text/event-stream') === true
    const answer = streamed ? tapped(res.body) : await res.text()
    return new Response(answer, { status: res.status, headers: res.headers })
  },
})

console.log(`listening on http://127.0.0.1:${server.port}`)
