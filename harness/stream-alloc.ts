/**
 * JS cells allocated per stream and per chunk, counted rather than timed (so load does not move
 * them): `heapStats().objectTypeCounts` before and after N whole streams over `app.fetch` with the
 * collector off, minus the same streams on the in-process mock alone. Bun only:
 *
 *   BUN_JSC_useGC=0 bun harness/stream-alloc.ts [--n 300] [--root DIR]
 *
 * Rows: a translated stream (anthropic client → openai upstream) and a pass-through one
 * (anthropic → anthropic, continuation on), each at 20 and 200 chunks; the last column is the
 * cells of one more chunk (the difference between the two lengths, over 180).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CELL_KINDS as KINDS, cellsPerCall } from './cells.ts'
import { inProcessInstance } from './inprocess-instance.ts'

const { values: v } = parseArgs({ options: { n: { type: 'string', default: '300' }, root: { type: 'string' } } })
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)

const { mock, inst } = await inProcessInstance(ROOT, () => Promise.resolve())
const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }

/** Cells of every type allocated per call; the mock's attempt log is emptied after each measure. */
async function cells(one: () => Promise<void>): Promise<Record<string, number>> {
  const per = await cellsPerCall(one, N, 100)
  mock.reset()
  return per
}

/** The proxy's own cells per stream: through the proxy minus the mock alone. */
async function stream(upstream: 'oai' | 'anth', chunks: number): Promise<Record<string, number>> {
  const model = upstream === 'oai' ? `mock-o:chunks=${chunks}` : `mock-a:chunks=${chunks}`
  const path = upstream === 'oai' ? '/v1/chat/completions' : '/v1/messages'
  const base = { max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Count with sequence tags.' }] }
  const viaBody = JSON.stringify({ ...base, model: `${upstream},${model}` })
  const directBody = JSON.stringify({
    ...base,
    model,
    ...(upstream === 'oai' ? { stream_options: { include_usage: true } } : {}),
  })
  const via = await cells(async () => {
    const res = await inst.app.fetch(
      new Request('http://proxy.test/v1/messages', { method: 'POST', body: viaBody, headers }),
    )
    await res.arrayBuffer()
  })
  const direct = await cells(async () => {
    const res: Response = await mock.fetch(
      new Request(`http://mock.test${path}`, { method: 'POST', body: directBody, headers }),
    )
    await res.arrayBuffer()
  })
  const own: Record<string, number> = {}
  for (const k of Object.keys(via)) own[k] = via[k]! - (direct[k] ?? 0)
  return own
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0)
const row = (name: string, r: Record<string, number>) =>
  `| ${name} | ${KINDS.map((k) => (r[k] ?? 0).toFixed(1)).join(' | ')} | ${total(r).toFixed(1)} |`
console.log(`bun ${Bun.version}, root ${ROOT}, ${N} streams per row, the proxy's cells (the mock's taken away)`)
console.log(`| row | ${KINDS.join(' | ')} | all types |`)
console.log(`| --- |${' --- |'.repeat(KINDS.length + 1)}`)
for (const [name, up] of [['translated, anthropic → openai', 'oai'], ['pass-through, anthropic', 'anth']] as const) {
  const short = await stream(up, 20)
  const long = await stream(up, 200)
  const chunk: Record<string, number> = {}
  for (const k of Object.keys(long)) chunk[k] = (long[k]! - (short[k] ?? 0)) / 180
  console.log(row(`${name}, per stream of 20 chunks`, short))
  console.log(row(`${name}, per stream of 200 chunks`, long))
  console.log(row(`${name}, per chunk`, chunk))
}
await inst.close()
