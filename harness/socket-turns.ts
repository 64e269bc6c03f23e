/**
 * What the Responses API's WebSocket mode costs against plain HTTP streaming, one turn at a time
 * as an agent sends them: `bun harness/socket-turns.ts [--turns N] [--rounds N] [--upstream F]
 * [--runtime bun|deno]`. A mock process and a Switchyard process (the harness's usual pair); the
 * load generator sends `--turns` sequential Responses turns (`stream: true`, 20 chunks, no delay)
 * over HTTP (`POST /v1/responses`, keep-alive) and over one WebSocket (`response.create` frames),
 * interleaved by round, and prints per side: time to the first event and to `response.completed`
 * (p50 / p99 ms) and the proxy's main-thread CPU per turn (µs). Every turn must end in
 * `response.completed`, or the run fails.
 */
import { parseArgs } from 'node:util'
import { killStarted, mainThreadCpuSec } from './stress/proc.ts'
import { startMockProcess, startSwitchyard, viaProxy } from './stress/switchyard.ts'
import type { ClientFormat } from './stress/check.ts'
import { nearestRank } from '../src/lib/nearest-rank.ts'
import { createSseDecoder } from '../src/formats/index.ts'

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    upstream: { type: 'string', default: 'openai' },
    runtime: { type: 'string', default: 'bun' },
  },
})
const TURNS = Number(values.turns)
const ROUNDS = Number(values.rounds)
const MODEL = 'm:chunks=20'

interface Turn {
  readonly firstMs: number
  readonly doneMs: number
}

const body = (i: number) =>
  JSON.stringify({ model: viaProxy(MODEL), stream: true, input: [{ role: 'user', content: `turn ${i}` }] })

async function overHttp(url: string, n: number): Promise<Turn[]> {
  const out: Turn[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(`${url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(i),
    })
    const reader = res.body!.getReader()
    const decoder = createSseDecoder()
    const text = new TextDecoder()
    let first = 0
    let done = false
    for (;;) {
      const r = await reader.read()
      if (r.done) break
      for (const ev of decoder.push(text.decode(r.value, { stream: true }))) {
        if (first === 0) first = performance.now() - t0
        if (ev.event === 'response.completed') done = true
      }
    }
    if (!done) throw new Error(`HTTP turn ${i} ended without response.completed (status ${res.status})`)
    out.push({ firstMs: first, doneMs: performance.now() - t0 })
  }
  return out
}

async function overSocket(url: string, n: number): Promise<Turn[]> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`)
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('WebSocket handshake refused'))
  })
  const out: Turn[] = []
  for (let i = 0; i < n; i++) {
    const turn = await new Promise<Turn>((resolve, reject) => {
      const t0 = performance.now()
      let first = 0
      ws.onmessage = (e) => {
        if (first === 0) first = performance.now() - t0
        const type = (JSON.parse(String(e.data)) as { type: string }).type
        if (type === 'response.completed') resolve({ firstMs: first, doneMs: performance.now() - t0 })
        else if (type === 'error' || type === 'response.failed') reject(new Error(`turn ${i}: ${String(e.data)}`))
      }
      ws.send(`{"type":"response.create",${body(i).slice(1)}`)
    })
    out.push(turn)
  }
  ws.close()
  return out
}

const p = (xs: readonly number[], q: number) => (nearestRank([...xs].sort((a, b) => a - b), q) ?? NaN).toFixed(2)

const mock = await startMockProcess()
const proxy = await startSwitchyard(mock.url, values.upstream as ClientFormat, [MODEL], 1_000, {}, {
  runtime: values.runtime as 'bun' | 'deno',
})
try {
  // Warm both paths until compiled, then measure.
  await overHttp(proxy.url, 200)
  await overSocket(proxy.url, 200)
  const rows: Record<'http' | 'socket', { turns: Turn[]; cpuUs: number[] }> = {
    http: { turns: [], cpuUs: [] },
    socket: { turns: [], cpuUs: [] },
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [side, run] of [['http', overHttp], ['socket', overSocket]] as const) {
      const cpu0 = mainThreadCpuSec(proxy.pid) ?? 0
      const turns = await run(proxy.url, TURNS)
      const cpu1 = mainThreadCpuSec(proxy.pid) ?? 0
      rows[side].turns.push(...turns)
      rows[side].cpuUs.push(Math.round((cpu1 - cpu0) * 1e6 / TURNS))
    }
  }
  console.log(
    `${TURNS} sequential turns × ${ROUNDS} rounds, interleaved, upstream ${values.upstream}, proxy on ${values.runtime}`,
  )
  console.log(
    '| path | first event p50 / p99 ms | response.completed p50 / p99 ms | proxy CPU µs per turn (per round) |',
  )
  console.log('| --- | --- | --- | --- |')
  for (const side of ['http', 'socket'] as const) {
    const { turns, cpuUs } = rows[side]
    const first = turns.map((t) => t.firstMs)
    const done = turns.map((t) => t.doneMs)
    console.log(
      `| ${side === 'http' ? 'HTTP `POST /v1/responses`' : 'WebSocket `response.create`'} | ${p(first, 0.5)} / ${
        p(first, 0.99)
      } | ${p(done, 0.5)} / ${p(done, 0.99)} | ${cpuUs.join(', ')} |`,
    )
  }
} finally {
  await proxy.stop()
  await mock.stop()
  killStarted()
}
