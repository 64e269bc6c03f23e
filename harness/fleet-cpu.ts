/**
 * CPU per proxied request of one instance, plain or in fleet mode (on a redis-server of its
 * own), sockets taken away: a closed loop over `app.fetch` (upstream: the in-process mock)
 * whose provider has an rpm and a maxConcurrent that never bind. CPU time
 * (`process.cpuUsage`), the lowest of `--rounds`. One mode per process, so a fleet instance's
 * link and timers never land on the plain figure; run the modes alternately:
 *
 *   bun harness/fleet-cpu.ts --mode plain|fleet [--n 3000] [--rounds 3] [--concurrency 10] [--pause-ms 0.2] [--root DIR]
 *
 * `--pause-ms` makes the mock wait per chunk, so requests take real time and the fleet's
 * timers count; `--root` loads `src/` of another checkout (before/after pairs).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startRedis } from './stress/redis.ts'

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '3000' },
    root: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1' },
    'pause-ms': { type: 'string', default: '0' },
    mode: { type: 'string', default: 'fleet' },
  },
})
const ROOT = resolve(v.root ?? new URL('../', import.meta.url).pathname)
const N = Number(v.n)
const C = Number(v.concurrency)

const { createMockUpstream } = await import(`${ROOT}/src/demo/upstream.ts`)
const { createInstance } = await import(`${ROOT}/src/compose.ts`)
const { parseConfig } = await import(`${ROOT}/src/config/load.ts`)
const { knownTransformer } = await import(`${ROOT}/src/formats/index.ts`)
const { createLogger } = await import(`${ROOT}/src/log.ts`)

const redis = v.mode === 'fleet' ? await startRedis() : undefined
const PAUSE = Number(v['pause-ms'])
// --pause-ms: the mock waits this long per chunk, so requests take real time (timers then count).
const mock = createMockUpstream({
  sleep: () => PAUSE > 0 ? new Promise<void>((r) => setTimeout(r, PAUSE)) : Promise.resolve(),
})

async function instance(fleet: boolean) {
  const file = {
    LOG: false,
    Providers: [{
      name: 'oai',
      api_base_url: 'http://mock.test/v1/chat/completions',
      api_key: 'k2',
      models: ['mock-o'],
      rpm: 10_000_000,
      maxConcurrent: 100_000,
    }],
    Router: { default: 'oai,mock-o' },
    ...(fleet ? { Fleet: { redis: redis!.url, keyPrefix: `cpu${Date.now()}:` } } : {}),
  }
  const parsed = parseConfig(JSON.stringify(file), {}, { knownTransformer })
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  return await createInstance(parsed.value.config, {
    dataDir: ':memory:',
    fetch: (req: Request) => mock.fetch(req),
    log: createLogger({ enabled: false }),
  })
}

const body = JSON.stringify({
  model: 'oai,mock-o:chunks=5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Count with sequence tags.' }],
})
const headers = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'content-length': String(new TextEncoder().encode(body).length),
}
const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
// deno-lint-ignore no-explicit-any
async function loop(inst: any, n: number): Promise<number> {
  const one = async () => {
    const res = await inst.app.fetch(new Request('http://proxy.test/v1/messages', { method: 'POST', body, headers }))
    if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`)
    await res.arrayBuffer()
  }
  const c0 = cpuUs()
  await Promise.all(Array.from({ length: C }, async () => {
    for (let i = 0; i < n / C; i++) await one()
  }))
  return (cpuUs() - c0) / n
}

const inst = await instance(v.mode === 'fleet')
await loop(inst, 500)
const xs: number[] = []
for (let r = 0; r < Number(v.rounds); r++) xs.push(await loop(inst, N))
console.log(
  `${v.mode} c=${C} n=${N}: ${Math.min(...xs).toFixed(1)} µs/req (rounds ${xs.map((x) => x.toFixed(0)).join('/')})`,
)
await inst.close?.()
await redis?.stop()
process.exit(0)
