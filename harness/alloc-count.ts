/**
 * JS cells allocated per request, counted rather than timed (so load does not move them):
 * `heapStats().objectTypeCounts` before and after N calls with the collector off. Bun only:
 *
 *   BUN_JSC_useGC=0 bun harness/alloc-count.ts [--n 1000] [--root DIR]
 *
 * Rows: the small pass-through request through `app.fetch` (anthropic → anthropic, JSON, the
 * in-process mock included), the mock alone, and two stages in isolation: the routing plan of
 * an explicit target and the finished-request telemetry (log off).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CELL_KINDS as KINDS, cellsPerCall } from './cells.ts'
import { inProcessInstance } from './inprocess-instance.ts'

const { values: v } = parseArgs({ options: { n: { type: 'string', default: '1000' }, root: { type: 'string' } } })
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)

const { mock, inst } = await inProcessInstance(ROOT, () => Promise.resolve())
const deps = inst.services.deps

async function count(name: string, one: () => unknown): Promise<string> {
  const per = await cellsPerCall(one, N, 200)
  return `| ${name} | ${KINDS.map((k) => (per[k] ?? 0).toFixed(1)).join(' | ')} |`
}

const body = JSON.stringify({
  model: 'anth,mock-a:chunks=5',
  max_tokens: 1024,
  stream: false,
  messages: [{ role: 'user', content: 'Count with sequence tags.' }],
})
const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }
const viaProxy = async () => {
  const res = await inst.app.fetch(new Request('http://proxy.test/v1/messages', { method: 'POST', body, headers }))
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}
const upstreamBody = JSON.stringify({ ...JSON.parse(body), model: 'mock-a:chunks=5' })
const direct = async () => {
  const res: Response = await mock.fetch(
    new Request('http://mock.test/v1/messages', { method: 'POST', body: upstreamBody, headers }),
  )
  await res.arrayBuffer()
}
const trace = {
  id: 'r1',
  format: 'anthropic',
  scenario: 'explicit',
  target: 'anth,mock-a',
  tier: 'tier-1',
  attempts: 1,
  fallbacks: 0,
  status: 200,
  stream: false,
  estimatedInputTokens: 20,
  ttfbMs: 1.5,
  durationMs: 20.3,
  usage: { inputTokens: 9, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0 },
}
const tokens = deps.tokens.breakdown(JSON.parse(body))

const rows = [
  await count('request through `app.fetch` (mock included)', viaProxy),
  await count('mock alone', direct),
  await count('routing plan (explicit target)', () => deps.routing.plan('explicit', 'anth,mock-a', undefined, 20)),
  await count('finished-request telemetry (log off)', () => deps.telemetry.request({ ...trace }, tokens)),
]
mock.reset()
console.log(`bun ${Bun.version}, root ${ROOT}, ${N} calls per row, cells allocated per call`)
console.log(`| row | ${KINDS.join(' | ')} |`)
console.log(`| --- |${' --- |'.repeat(KINDS.length)}`)
for (const r of rows) console.log(r)
await inst.close()
