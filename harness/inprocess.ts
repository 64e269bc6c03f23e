/**
 * CPU per proxied request with the sockets taken away: a loop over `app.fetch` of a real
 * instance whose upstream is the in-process mock (instant pacing), minus the same loop against
 * the mock alone. CPU time (`process.cpuUsage`), not wall time, so other load on the machine
 * changes the figures far less. Runs under Bun and Deno:
 *
 *   bun harness/inprocess.ts [--n 3000] [--rounds 3] [--only CASE_INDEX] [--root DIR]
 *   deno run -A harness/inprocess.ts [--n 3000]
 *
 * `--root` loads `src/` of another checkout, so a before/after pair runs in one process.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { inProcessInstance } from './inprocess-instance.ts'

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '3000' },
    root: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
})
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)

const { buildConversation } = await import(`${ROOT}/src/tokens/estimate.bench.ts`)

const { mock, inst } = await inProcessInstance(ROOT, () => Promise.resolve())

interface Case {
  readonly name: string
  readonly path: string
  readonly body: string
  readonly upstreamModel: string
  readonly upstreamPath: string
}
const pad = 'lorem ipsum '.repeat(Math.ceil(65536 / 12)).slice(0, 65536)
const msg = (model: string, stream: boolean, content = 'Count with sequence tags.') =>
  JSON.stringify({ model, max_tokens: 1024, stream, messages: [{ role: 'user', content }] })
const CASES: Case[] = [
  {
    name: 'JSON, anthropic → openai (5 chunks)',
    path: '/v1/messages',
    body: msg('oai,mock-o:chunks=5', false),
    upstreamModel: 'mock-o:chunks=5',
    upstreamPath: '/v1/chat/completions',
  },
  {
    name: 'JSON 64 KB, anthropic → openai',
    path: '/v1/messages',
    body: msg('oai,mock-o:chunks=5', false, pad),
    upstreamModel: 'mock-o:chunks=5',
    upstreamPath: '/v1/chat/completions',
  },
  {
    name: 'stream, anthropic → openai (20 chunks)',
    path: '/v1/messages',
    body: msg('oai,mock-o:chunks=20', true),
    upstreamModel: 'mock-o:chunks=20',
    upstreamPath: '/v1/chat/completions',
  },
  {
    name: 'JSON, 150k-token (850 KB) agent conversation, anthropic → anthropic',
    path: '/v1/messages',
    body: JSON.stringify({ ...buildConversation(1, 170), model: 'anth,mock-a:chunks=5', stream: false }),
    upstreamModel: 'mock-a:chunks=5',
    upstreamPath: '/v1/messages',
  },
  {
    name: 'JSON, the same conversation translated, anthropic → openai',
    path: '/v1/messages',
    body: JSON.stringify({ ...buildConversation(1, 170), model: 'oai,mock-o:chunks=5', stream: false }),
    upstreamModel: 'mock-o:chunks=5',
    upstreamPath: '/v1/chat/completions',
  },
  {
    name: 'stream, anthropic → anthropic passthrough (20 chunks)',
    path: '/v1/messages',
    body: msg('anth,mock-a:chunks=20', true),
    upstreamModel: 'mock-a:chunks=20',
    upstreamPath: '/v1/messages',
  },
  {
    // Claude Code 2.x names its session in metadata.user_id (a JSON text): read, and its prompt remembered.
    name: "JSON, anthropic → openai, with Claude Code's session id",
    path: '/v1/messages',
    body: JSON.stringify({
      ...JSON.parse(msg('oai,mock-o:chunks=5', false)),
      metadata: {
        user_id: JSON.stringify({
          device_id: 'd'.repeat(64),
          account_uuid: '6b7e1c52-0f5e-4a8e-9c1d-2b6f4e8a9c10',
          session_id: '7d3b1c52-0f5e-4a8e-9c1d-2b6f4e8a9c10',
        }),
      },
    }),
    upstreamModel: 'mock-o:chunks=5',
    upstreamPath: '/v1/chat/completions',
  },
]

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

async function loop(n: number, one: () => Promise<unknown>): Promise<number> {
  const c0 = cpuUs()
  for (let i = 0; i < n; i++) await one()
  return (cpuUs() - c0) / n
}

const viaProxy = (c: Case) => {
  // A client over HTTP sends content-length (without it the body-limit middleware buffers the body itself).
  const headers = {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    'content-length': String(new TextEncoder().encode(c.body).length),
  }
  return () => one(c, headers)
}
const one = async (c: Case, headers: Record<string, string>) => {
  const res = await inst.app.fetch(new Request(`http://proxy.test${c.path}`, { method: 'POST', body: c.body, headers }))
  if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}
const direct = (c: Case) => {
  const body = JSON.stringify({
    ...JSON.parse(c.body),
    model: c.upstreamModel,
    ...(c.upstreamPath.includes('chat') && JSON.parse(c.body).stream
      ? { stream_options: { include_usage: true } }
      : {}),
  })
  return async () => {
    const res: Response = await mock.fetch(
      new Request(`http://mock.test${c.upstreamPath}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      }),
    )
    await res.arrayBuffer()
  }
}

const rows: string[] = []
for (const c of v.only === undefined ? CASES : [CASES[Number(v.only)]!]) {
  await loop(300, viaProxy(c))
  await loop(300, direct(c))
  mock.reset()
  const p: number[] = []
  const d: number[] = []
  for (let r = 0; r < Number(v.rounds); r++) {
    p.push(await loop(N, viaProxy(c)))
    d.push(await loop(N, direct(c)))
    mock.reset()
  }
  const min = (xs: number[]) => Math.min(...xs)
  rows.push(`| ${c.name} | ${min(p).toFixed(1)} | ${min(d).toFixed(1)} | ${(min(p) - min(d)).toFixed(1)} |`)
}
const rt = (globalThis as { Bun?: { version: string } }).Bun
  ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
console.log(`${rt}, root ${ROOT}, ${N} requests × ${v.rounds} rounds per case, best round`)
console.log('| case | app.fetch + mock CPU µs/req | mock alone CPU µs/req | proxy CPU µs/req |')
console.log('| --- | --- | --- | --- |')
for (const r of rows) console.log(r)
await inst.close()
