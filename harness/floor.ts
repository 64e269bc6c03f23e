/**
 * The floor under the per-request CPU target: what a proxy that does nothing but forward costs
 * in this runtime. Starts a trivial upstream (answers a fixed JSON) and a trivial forwarder
 * (Bun.serve whose handler is one fetch to the upstream, body passed through), each its own
 * process, drives the forwarder in a closed loop and reads both processes' CPU from /proc:
 *
 *   bun harness/floor.ts [--concurrency 50] [--seconds 3]
 *
 * Switchyard's own figure is the `proxy CPU µs/req` column of `bun run harness bench`.
 */
import { parseArgs } from 'node:util'
import { killStarted, readProc, spawnServer } from './stress/proc.ts'

const { values: v } = parseArgs({
  options: { concurrency: { type: 'string', default: '50' }, seconds: { type: 'string', default: '3' } },
})
const ANSWER = JSON.stringify({
  id: 'c1',
  object: 'chat.completion',
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1 },
})
const upstreamSrc =
  `const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (r) => { await r.arrayBuffer(); return new Response(${
    JSON.stringify(ANSWER)
  }, { headers: { 'content-type': 'application/json' } }) } }); console.log('listening on http://127.0.0.1:' + s.port)`
const forwarderSrc = (up: string) =>
  `const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (r) => { const res = await fetch(${
    JSON.stringify(up)
  } + '/v1/chat/completions', { method: 'POST', body: await r.text(), headers: { 'content-type': 'application/json' } }); return new Response(await res.text(), { status: res.status, headers: { 'content-type': 'application/json' } }) } }); console.log('listening on http://127.0.0.1:' + s.port)`

const up = await spawnServer(process.execPath, ['-e', upstreamSrc], 15_000)
const fwd = await spawnServer(process.execPath, ['-e', forwarderSrc(up.url)], 15_000)
const body = JSON.stringify({
  model: 'm',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'Count with sequence tags.' }],
})
try {
  const loop = async (url: string, ms: number): Promise<number> => {
    let n = 0
    const end = performance.now() + ms
    await Promise.all(Array.from({ length: Number(v.concurrency) }, async () => {
      while (performance.now() < end) {
        const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
        await res.arrayBuffer()
        n++
      }
    }))
    return n
  }
  await loop(fwd.url, 1_000) // warm-up
  const rows: string[] = []
  for (
    const [name, url, pid] of [['trivial upstream alone', up.url, up.pid], [
      'trivial forwarder (fetch to the upstream)',
      fwd.url,
      fwd.pid,
    ]] as const
  ) {
    const c0 = readProc(pid)?.cpuSec ?? Number.NaN
    const u0 = readProc(up.pid)?.cpuSec ?? Number.NaN
    const n = await loop(url, Number(v.seconds) * 1_000)
    const us = (((readProc(pid)?.cpuSec ?? Number.NaN) - c0) / n) * 1e6
    const upUs = (((readProc(up.pid)?.cpuSec ?? Number.NaN) - u0) / n) * 1e6
    rows.push(`| ${name} | ${v.concurrency} | ${n} | ${us.toFixed(0)} | ${upUs.toFixed(0)} |`)
  }
  console.log(
    `Bun ${
      (globalThis as unknown as { Bun: { version: string } }).Bun.version
    }; CPU from /proc (10 ms ticks), closed loop for ${v.seconds} s`,
  )
  console.log('| process measured | concurrency | requests | its CPU µs/req | upstream CPU µs/req |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const r of rows) console.log(r)
} finally {
  await fwd.stop()
  await up.stop()
  killStarted()
}
