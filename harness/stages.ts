/**
 * The cost of each stage of one request, measured one stage at a time in a tight loop
 * (CPU µs per call, best of several rounds), so the figures hold up on a busy machine:
 *
 *   bun harness/stages.ts [--root DIR]        deno run -A harness/stages.ts
 *
 * Stages: body validation (the route's zod schema, and the route's own check of a valid body), token estimate (warm cache), the routing
 * plan, request translation (Anthropic → OpenAI), per-event stream translation (OpenAI →
 * Anthropic, decode + translate + encode) and the passthrough tap (decode + usage tap), and the
 * finished-request telemetry (metrics, ledger, drift, log line off and on).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values: v } = parseArgs({ options: { root: { type: 'string' } } })
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const f = await import(`${ROOT}/src/formats/index.ts`)
const { createInstance } = await import(`${ROOT}/src/compose.ts`)
const { parseConfig } = await import(`${ROOT}/src/config/load.ts`)
const { createLogger } = await import(`${ROOT}/src/log.ts`)
const { createTelemetry } = await import(`${ROOT}/src/telemetry.ts`)

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
/** Best-of-5 CPU µs per call of `fn` over `n` calls. */
function measure(n: number, fn: (i: number) => unknown): number {
  let best = Infinity
  for (let r = 0; r < 6; r++) {
    const c0 = cpuUs()
    for (let i = 0; i < n; i++) fn(i)
    const us = (cpuUs() - c0) / n
    if (r > 0) best = Math.min(best, us) // round 0 warms the JIT
  }
  return best
}

const file = {
  LOG: false,
  Providers: [{ name: 'oai', api_base_url: 'http://mock.test/v1/chat/completions', api_key: 'k2', models: ['mock-o'] }],
  Router: { default: 'oai,mock-o' },
}
const parsed = parseConfig(JSON.stringify(file), {}, { knownTransformer: f.knownTransformer })
if (!parsed.ok) throw new Error(parsed.error.join('; '))
const inst = await createInstance(parsed.value.config, {
  dataDir: ':memory:',
  fetch: () => Promise.reject(new Error('no upstream')),
  log: createLogger({ enabled: false }),
})
const deps = inst.services.deps

const bodyText = JSON.stringify({
  model: 'oai,mock-o',
  max_tokens: 1024,
  stream: true,
  system: 'You are a careful engineer.',
  messages: [{ role: 'user', content: 'Count with sequence tags.' }],
})
const body = JSON.parse(bodyText)
const ctx = {
  model: 'mock-o',
  upstreamModel: 'mock-o',
  requestId: 'r1',
  estimatedInputTokens: 20,
  includeUsage: false,
  created: 1,
  toolNames: {},
}
const a2o = f.translationFor('anthropic', 'openai')!

// One OpenAI upstream stream of 20 text chunks, as the mock sends it.
const chunk = (delta: unknown, extra: Record<string, unknown> = {}) =>
  `data: ${
    JSON.stringify({
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'mock-o',
      choices: [{ index: 0, delta, finish_reason: null }],
      ...extra,
    })
  }\n\n`
const oaiStream = [
  chunk({ role: 'assistant', content: '' }),
  ...Array.from({ length: 20 }, (_, i) => chunk({ content: `[${String(i + 1).padStart(4, '0')}] ` })),
  chunk({}, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
  chunk({}, { choices: [], usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 } }),
  'data: [DONE]\n\n',
]
const enc = new TextEncoder()
const oaiBytes = oaiStream.map((s) => enc.encode(s))
const EVENTS = oaiStream.length

const rows: [string, number][] = []
const schema = (await import(`${ROOT}/src/formats/index.ts`)).AnthropicMessagesRequestSchema
rows.push([
  'body validation (zod, small body), per request',
  measure(20_000, () => schema.safeParse(JSON.parse(bodyText))),
])
// What the route runs for a valid body (src/lib/fast-accept.ts); a checkout without it has no such row.
const fast = await import(`${ROOT}/src/lib/fast-accept.ts`).catch(() => undefined)
if (fast) {
  const accepts = fast.fastAccept(schema)
  rows.push([
    'body validation as the route does it (fastAccept, zod only for a refused body), per request',
    measure(20_000, () => accepts(JSON.parse(bodyText)) || schema.safeParse(JSON.parse(bodyText))),
  ])
}
rows.push(['JSON.parse of the same body (for scale), per request', measure(20_000, () => JSON.parse(bodyText))])
rows.push([
  'token estimate (fresh body, warm cache), per request',
  measure(20_000, () => deps.tokens.estimate(JSON.parse(bodyText), 'anthropic')),
])
rows.push([
  'routing plan (explicit target), per request',
  measure(20_000, () => deps.routing.plan('explicit', 'oai,mock-o', undefined, 20)),
])
rows.push([
  'request translation anthropic → openai, per request',
  measure(20_000, () => a2o.request(body, { ...ctx, toolNames: {} })),
])
rows.push([
  'stream: decode + translate openai → anthropic + encode, per event',
  measure(2_000, () => {
    const dec = f.createSseDecoder()
    const td = new TextDecoder()
    const tr = a2o.stream({ ...ctx })
    for (const b of oaiBytes) {
      const out = []
      for (const ev of dec.push(td.decode(b, { stream: true }))) out.push(...tr.push(ev))
      if (out.length) enc.encode(out.map(f.encodeSse).join(''))
    }
    tr.end()
  }) / EVENTS,
])
rows.push([
  'stream: passthrough decode + usage tap, per event',
  measure(2_000, () => {
    const dec = f.createSseDecoder()
    const td = new TextDecoder()
    const tap = f.createUsageTap('openai')
    for (const b of oaiBytes) for (const ev of dec.push(td.decode(b, { stream: true }))) tap.observe(ev)
  }) / EVENTS,
])
const trace = {
  id: 'r1',
  format: 'anthropic',
  scenario: 'explicit',
  target: 'oai,mock-o',
  tier: 'tier-1',
  attempts: 1,
  fallbacks: 0,
  status: 200,
  stream: true,
  estimatedInputTokens: 20,
  ttfbMs: 1.5,
  durationMs: 20.3,
  usage: { inputTokens: 9, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0 },
}
const tokens = deps.tokens.breakdown(body)
rows.push([
  'telemetry of a finished request (metrics, ledger, drift; log off), per request',
  measure(20_000, () => deps.telemetry.request({ ...trace }, tokens)),
])
const lines: string[] = []
const logged = createTelemetry({
  log: createLogger({
    write: (l: string) => {
      if (lines.push(l) > 1000) lines.length = 0
    },
  }),
})
rows.push([
  'access log line (JSON, written to memory), per request',
  measure(20_000, () => logged.request({ ...trace }, undefined)),
])

const rt = (globalThis as { Bun?: { version: string } }).Bun
  ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
console.log(`${rt}, root ${ROOT}; CPU µs per call, best of 5 rounds`)
console.log('| stage | CPU µs |')
console.log('| --- | --- |')
for (const [name, us] of rows) if (!name.startsWith('(')) console.log(`| ${name} | ${us.toFixed(2)} |`)
await inst.close()
