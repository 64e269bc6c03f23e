import { createInstance } from './src/compose.ts'
import { parseConfig } from './src/config/load.ts'
import { knownTransformer } from './src/formats/index.ts'
import { createLogger } from './src/log.ts'
import { createMockUpstream } from './src/demo/upstream.ts'
const mock = createMockUpstream({ sleep: () => Promise.resolve() })
const file = { LOG: false, Providers: [{ name: 'oai', api_base_url: 'http://mock.test/v1/chat/completions', api_key: 'k2', models: ['mock-o'] }], Router: { default: 'oai,mock-o' } }
const p = parseConfig(JSON.stringify(file), {}, { knownTransformer }); if (!p.ok) throw 1
const inst = await createInstance(p.value.config, { dataDir: ':memory:', fetch: (r: Request) => mock.fetch(r), log: createLogger({ enabled: false }) })
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system }
const body = JSON.stringify({ model: 'oai,mock-o:chunks=5', max_tokens: 1024, messages: [{ role: 'user', content: 'Count with sequence tags.' }] })
async function m(name: string, mk: () => Request) {
  let best = Infinity
  for (let r = 0; r < 4; r++) { const c0 = cpu(); for (let i = 0; i < 3000; i++) { const res = await inst.app.fetch(mk()); await res.arrayBuffer() } const us = (cpu() - c0) / 3000; if (r) best = Math.min(best, us) }
  console.log(name, best.toFixed(1))
}
const H = { 'content-type': 'application/json' }
await m('new Request only (bench overhead)', () => new Request('http://x/health'))
await m('GET /health', () => new Request('http://x/health'))
await m('POST count_tokens', () => new Request('http://x/v1/messages/count_tokens', { method: 'POST', body, headers: H }))
await m('POST /v1/messages unknown provider (404 before plan)', () => new Request('http://x/v1/messages', { method: 'POST', body: body.replace('oai,', 'zzz,'), headers: H }))
await m('POST /v1/messages full', () => new Request('http://x/v1/messages', { method: 'POST', body, headers: H }))
const ob = JSON.stringify({ model: 'mock-o:chunks=5', stream: false, messages: [{ role: 'user', content: 'Count with sequence tags.' }] })
const c0 = cpu(); for (let i = 0; i < 3000; i++) { const res = await mock.fetch(new Request('http://mock.test/v1/chat/completions', { method: 'POST', body: ob, headers: H })); await res.arrayBuffer() } console.log('mock alone', ((cpu() - c0) / 3000).toFixed(1))
