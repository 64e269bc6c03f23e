/**
 * What the Responses API's WebSocket mode costs against plain HTTP streaming, turns sent as agents
 * send them: `bun harness/socket-turns.ts [--clients N] [--turns N] [--rounds N] [--chunks N]
 * [--delay MS] [--upstream F] [--runtime bun|deno]`. A mock process and a Switchyard process (the
 * harness's usual pair); `--clients` agents at once each send `--turns` sequential Responses turns
 * (`stream: true`, `--chunks` chunks `--delay` ms apart), over HTTP (`POST /v1/responses`,
 * keep-alive) or each over its own WebSocket (`response.create` frames), the two interleaved by
 * round. Every turn's events go through the harness's stream checker (every chunk once and in
 * order, one terminal event, usage as the mock counted it); one bad turn fails the run. Prints per
 * side: time to the first event and to `response.completed` (p50 / p99 ms), the proxy's
 * main-thread CPU per turn (µs) and its peak RSS (MB).
 */
import { parseArgs } from 'node:util'
import { killStarted, mainThreadCpuSec, ProcSampler } from './stress/proc.ts'
import { startMockProcess, startSwitchyard, viaProxy } from './stress/switchyard.ts'
import { type ClientFormat, StreamChecker } from './stress/check.ts'
import { fmt, markdownTable, percentile } from './stress/stats.ts'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1' },
    turns: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    chunks: { type: 'string', default: '20' },
    delay: { type: 'string', default: '0' },
    upstream: { type: 'string', default: 'openai' },
    runtime: { type: 'string', default: 'bun' },
  },
})
const CLIENTS = Number(values.clients)
const TURNS = Number(values.turns)
const ROUNDS = Number(values.rounds)
const CHUNKS = Number(values.chunks)
const MODEL = `m:chunks=${CHUNKS}:delay=${Number(values.delay)}`
/** A turn that has not completed by then fails the run (a lost event must not hang it). */
const TURN_MS = 30_000 + CHUNKS * Number(values.delay)
/** The same answer at once: warming up takes no time at any `--delay`. */
const WARM_MODEL = `m:chunks=${CHUNKS}`

interface Turn {
  readonly firstMs: number
  readonly doneMs: number
}

const body = (i: number, model: string) =>
  JSON.stringify({ model: viaProxy(model), stream: true, input: [{ role: 'user', content: `turn ${i}` }] })

/** The stream checker's verdict on one turn, thrown when it is not a whole, ordered answer. */
function check(c: StreamChecker, what: string): void {
  const r = c.end()
  if (!r.ok) throw new Error(`${what}: ${r.errors.join('; ')}`)
}

async function overHttp(url: string, n: number, model = MODEL): Promise<Turn[]> {
  const out: Turn[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(`${url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(i, model),
      signal: AbortSignal.timeout(TURN_MS),
    })
    const checker = new StreamChecker('responses', CHUNKS, CHUNKS)
    const reader = res.body!.getReader()
    const text = new TextDecoder()
    let first = 0
    for (;;) {
      const r = await reader.read()
      if (r.done) break
      if (first === 0) first = performance.now() - t0
      checker.push(text.decode(r.value, { stream: true }))
    }
    check(checker, `HTTP turn ${i} (status ${res.status})`)
    out.push({ firstMs: first, doneMs: performance.now() - t0 })
  }
  return out
}

async function overSocket(url: string, n: number, model = MODEL): Promise<Turn[]> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`)
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('WebSocket handshake refused'))
  })
  const out: Turn[] = []
  try {
    for (let i = 0; i < n; i++) out.push(await socketTurn(ws, i, model))
  } finally {
    ws.onclose = null
    ws.close()
  }
  return out
}

/** One turn on an open socket: its frames checked as the SSE events they would have been. */
function socketTurn(ws: WebSocket, i: number, model: string): Promise<Turn> {
  return new Promise<Turn>((resolve, reject) => {
    const t0 = performance.now()
    const checker = new StreamChecker('responses', CHUNKS, CHUNKS)
    let first = 0
    const timer = setTimeout(() => reject(new Error(`WebSocket turn ${i}: not completed in ${TURN_MS} ms`)), TURN_MS)
    ws.onclose = () => reject(new Error(`WebSocket turn ${i}: the socket closed`))
    ws.onmessage = (e) => {
      if (first === 0) first = performance.now() - t0
      const data = String(e.data)
      checker.push(`data: ${data}\n\n`)
      const type = (JSON.parse(data) as { type: string }).type
      if (type !== 'response.completed' && type !== 'error' && type !== 'response.failed') return
      clearTimeout(timer)
      try {
        check(checker, `WebSocket turn ${i}`)
        resolve({ firstMs: first, doneMs: performance.now() - t0 })
      } catch (e) {
        reject(e)
      }
    }
    ws.send(`{"type":"response.create",${body(i, model).slice(1)}`)
  })
}

/** `clients` agents at once, each sending its turns one after another. */
const together = async (run: typeof overHttp, url: string): Promise<Turn[]> =>
  (await Promise.all(Array.from({ length: CLIENTS }, () => run(url, TURNS)))).flat()

const p = (xs: readonly number[], q: number) => fmt(percentile(xs, q), 2)

const mock = await startMockProcess()
const proxy = await startSwitchyard(mock.url, values.upstream as ClientFormat, [MODEL, WARM_MODEL], 10_000, {}, {
  runtime: values.runtime as 'bun' | 'deno',
})
try {
  // Warm both paths until compiled, then measure.
  await overHttp(proxy.url, 200, WARM_MODEL)
  await overSocket(proxy.url, 200, WARM_MODEL)
  const rows: Record<'http' | 'socket', { turns: Turn[]; cpuUs: number[]; peakMb: number[] }> = {
    http: { turns: [], cpuUs: [], peakMb: [] },
    socket: { turns: [], cpuUs: [], peakMb: [] },
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [side, run] of [['http', overHttp], ['socket', overSocket]] as const) {
      const sampler = new ProcSampler(proxy.pid)
      sampler.start()
      const cpu0 = mainThreadCpuSec(proxy.pid) ?? 0
      const turns = await together(run, proxy.url)
      const cpu1 = mainThreadCpuSec(proxy.pid) ?? 0
      rows[side].turns.push(...turns)
      rows[side].cpuUs.push(Math.round((cpu1 - cpu0) * 1e6 / turns.length))
      rows[side].peakMb.push(Math.round(sampler.stop().peakRssMb * 10) / 10)
    }
  }
  console.log(
    `${CLIENTS} client(s) × ${TURNS} sequential turns × ${ROUNDS} rounds, interleaved, ${CHUNKS} chunks ${values.delay} ms apart, upstream ${values.upstream}, proxy on ${values.runtime}; every turn checked`,
  )
  console.log(markdownTable(
    [
      'path',
      'first event p50 / p99 ms',
      'response.completed p50 / p99 ms',
      'proxy CPU µs per turn (per round)',
      'proxy peak RSS MB (per round)',
    ],
    (['http', 'socket'] as const).map((side) => {
      const { turns, cpuUs, peakMb } = rows[side]
      const first = turns.map((t) => t.firstMs)
      const done = turns.map((t) => t.doneMs)
      return [
        side === 'http' ? 'HTTP `POST /v1/responses`' : 'WebSocket `response.create`',
        `${p(first, 0.5)} / ${p(first, 0.99)}`,
        `${p(done, 0.5)} / ${p(done, 0.99)}`,
        cpuUs.join(', '),
        peakMb.join(', '),
      ]
    }),
  ))
} finally {
  await proxy.stop()
  await mock.stop()
  killStarted()
}
