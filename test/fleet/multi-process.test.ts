/**
 * Three Switchyard processes, one Redis, one upstream that counts what reaches it:
 * - a shared `rpm` and `maxConcurrent` hold for the fleet, where three separate instances
 *   send three times as much;
 * - a breaker tripped through one instance stops the other two from calling the upstream;
 * - Redis killed mid-run and restarted: no client request fails, membership comes back.
 * It spawns processes itself (like test/runtime), so it runs under `bun test` only.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Child, spawnServer } from '../../harness/stress/proc.ts'
import { runtime } from '../../src/runtime/index.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'
import { redisCli } from './cluster-redis.ts'

const isBun = 'Bun' in globalThis
const dir = mkdtempSync(join(tmpdir(), 'switchyard-fleet-'))

/** An OpenAI-format upstream that answers after `delayMs`, or 500 while failing, and counts. */
async function countingUpstream() {
  const st = { calls: 0, inFlight: 0, maxInFlight: 0, delayMs: 100, failing: false }
  const served = await runtime.serve(async () => {
    st.calls++
    st.inFlight++
    st.maxInFlight = Math.max(st.maxInFlight, st.inFlight)
    await new Promise((r) => setTimeout(r, st.delayMs))
    st.inFlight--
    if (st.failing) return Response.json({ error: { message: 'down', type: 'server_error' } }, { status: 500 })
    return Response.json({
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    })
  }, { port: 0, hostname: '127.0.0.1' })
  return {
    st,
    url: `http://127.0.0.1:${served.port}`,
    reset: () => Object.assign(st, { calls: 0, inFlight: 0, maxInFlight: 0, failing: false }),
    stop: () => served.stop(true),
  }
}

type Upstream = Awaited<ReturnType<typeof countingUpstream>>

let seq = 0
async function startInstances(
  up: Upstream,
  provider: Record<string, unknown>,
  fleet?: Record<string, unknown>,
  extra: readonly unknown[] = [],
): Promise<Child[]> {
  const name = `run${++seq}`
  const config = {
    LOG_LEVEL: 'warn',
    Providers: [
      { name: 'up', api_base_url: `${up.url}/v1/chat/completions`, api_key: 'k', models: ['m'], ...provider },
      ...extra,
    ],
    Router: {
      default: 'up,m',
      tierRetries: { default: { max_retries: 0 }, 'tier-0': { max_retries: 0 } },
      breaker: { consecutiveFailures: 3, cooldownMs: 30_000, maxCooldownMs: 60_000, minRequestsForRate: 1_000 },
    },
    // 200 ms: a loaded CI machine's slow answer must not turn the shared limit into local shares.
    ...(fleet ? { Fleet: { keyPrefix: `${name}:`, heartbeatMs: 200, commandTimeoutMs: 200, ...fleet } } : {}),
  }
  const path = join(dir, `${name}.json`)
  writeFileSync(path, JSON.stringify(config))
  return Promise.all(
    [0, 1, 2].map((i) =>
      spawnServer('node_modules/.bin/bun', [
        'src/cli.ts',
        'start',
        '--config',
        path,
        '--port',
        '0',
        '--data-dir',
        join(dir, `${name}-${i}`),
      ], 30_000)
    ),
  )
}

async function ask(url: string, model = 'm'): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(20_000),
  })
  await res.arrayBuffer()
  return res.status
}

async function health(url: string): Promise<{ fleet?: { state: string; members: unknown[] } }> {
  return (await (await fetch(`${url}/health`)).json()) as { fleet?: { state: string; members: unknown[] } }
}

/** The breaker state an instance reports for `target` (GET /v1/latencies; shared breakers included in fleet mode). */
async function breakerOf(url: string, target: string): Promise<string | undefined> {
  const body = (await (await fetch(`${url}/v1/latencies`)).json()) as { targets: { target: string; breaker: string }[] }
  return body.targets.find((t) => t.target === target)?.breaker
}

/** The response-cache keys under `prefix` in the Redis on `port`, one a line ('' when none). */
const cacheKeys = (port: number, prefix: string) => redisCli(port, ['--scan', '--pattern', `${prefix}cache:*`])

async function until(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const t0 = performance.now()
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe(
  'fleet: three processes, one Redis',
  { skip: !isBun && 'spawns processes itself; runs under bun test' },
  () => {
    let redis: TestRedis
    let up: Upstream
    const running: Child[] = []
    const start = async (
      provider: Record<string, unknown>,
      fleet?: Record<string, unknown>,
      extra: readonly unknown[] = [],
    ) => {
      const c = await startInstances(up, provider, fleet, extra)
      running.push(...c)
      return c
    }
    const stopAll = async (c: Child[]) => {
      await Promise.all(c.map((x) => x.stop()))
    }

    before(async () => {
      redis = await startRedis()
      up = await countingUpstream()
    })
    after(async () => {
      await stopAll(running)
      await up.stop()
      await redis.stop()
    })

    it('a shared rpm and maxConcurrent bound the fleet; three separate instances send three times as much', async () => {
      // Provider `up` has rpm 12; provider `slots` (same upstream) has maxConcurrent 2.
      const extra = [{
        name: 'slots',
        api_base_url: `${up.url}/v1/chat/completions`,
        api_key: 'k',
        models: ['m'],
        maxConcurrent: 2,
      }]
      const measure = async (c: Child[]) => {
        up.reset()
        // rpm: 8 requests per instance, one after another: 24 in all, twice the fleet's rpm.
        const rpm = await Promise.all(c.map(async (x) => {
          const out: number[] = []
          for (let i = 0; i < 8; i++) out.push(await ask(x.url))
          return out
        }))
        const rpmCalls = up.st.calls
        up.reset()
        // maxConcurrent: 4 requests per instance at once.
        const conc = await Promise.all(c.flatMap((x) => Array.from({ length: 4 }, () => ask(x.url, 'slots,m'))))
        return { rpmCalls, maxInFlight: up.st.maxInFlight, statuses: [...rpm.flat(), ...conc] }
      }
      const fleet = await start({ rpm: 12 }, { redis: redis.url }, extra)
      await until('members', async () => (await health(fleet[0]!.url)).fleet?.members.length === 3, 10_000)
      const shared = await measure(fleet)
      await stopAll(fleet)
      const separate = await measure(await start({ rpm: 12 }, undefined, extra))
      // One Lua script decides, so no tolerance is needed while Redis answers within the command
      // timeout; an answer slower than that admits on the local share (rpm 4 per instance).
      assert.ok(
        shared.rpmCalls >= 12 && shared.rpmCalls <= 12 + 4,
        `fleet sent ${shared.rpmCalls} upstream calls for rpm 12`,
      )
      assert.equal(separate.rpmCalls, 24, 'each separate instance admits its 8 under its own rpm 12')
      assert.ok(shared.maxInFlight <= 2, `fleet had ${shared.maxInFlight} calls in flight for maxConcurrent 2`)
      assert.ok(separate.maxInFlight >= 4, `separate instances had only ${separate.maxInFlight} in flight`)
      assert.ok(shared.statuses.every((s) => s === 200 || s === 429), JSON.stringify(shared.statuses))
    })

    it('a response cached through one instance is a hit on another; a breaker tripped through one stops the upstream traffic of the other two', async () => {
      const [a, b, c] = await start({}, { redis: redis.url })
      await until('members', async () => (await health(a!.url)).fleet?.members.length === 3, 10_000)
      // The response cache lives in Redis in fleet mode: an answer cached through a is a hit on b.
      up.reset()
      const cached = async (url: string) => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-switchyard-cache': 'on' },
          body: JSON.stringify({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'cache me' }] }),
        })
        await res.arrayBuffer()
        return res.headers.get('x-switchyard-cache')
      }
      assert.equal(await cached(a!.url), 'miss')
      // The entry is written once the answer has gone out: wait (bounded) until it is in Redis,
      // looking there directly (a lookup through b would itself miss and write it).
      await until('the cache entry written', async () => (await cacheKeys(redis.port, `run${seq}:`)) !== '', 5_000)
      assert.equal(await cached(b!.url), 'hit')
      assert.equal(await cached(c!.url), 'hit')
      assert.equal(up.st.calls, 1)
      up.reset()
      up.st.delayMs = 5
      up.st.failing = true
      // Three failures through a trip its breaker (consecutiveFailures 3, no retries).
      for (let i = 0; i < 3; i++) assert.equal(await ask(a!.url), 500)
      const tripped = up.st.calls
      assert.equal(tripped, 3)
      // a publishes the trip; b and c apply it when the message arrives: wait (bounded) for both.
      await until(
        "a's breaker seen open by b and c",
        async () => (await Promise.all([b!, c!].map((x) => breakerOf(x.url, 'up,m')))).every((s) => s === 'open'),
        5_000,
      )
      const others = await Promise.all([b!, c!].flatMap((x) => Array.from({ length: 5 }, () => ask(x.url))))
      assert.equal(up.st.calls, tripped, 'b and c called the upstream although a had tripped its breaker')
      assert.ok(others.every((s) => s === 503), JSON.stringify(others))
      up.st.failing = false
      up.st.delayMs = 100
    })

    it('Redis killed mid-run and restarted: no client request fails, the fleet rebuilds', async () => {
      const fleet = await start({ rpm: 100_000, maxConcurrent: 64 }, { redis: redis.url })
      await until('members', async () => (await health(fleet[0]!.url)).fleet?.members.length === 3, 10_000)
      up.reset()
      up.st.delayMs = 20
      const statuses: number[] = []
      let stop = false
      const clients = fleet.flatMap((x) =>
        [0, 1].map(async () => {
          while (!stop) statuses.push(await ask(x.url).catch(() => -1))
        })
      )
      await new Promise((r) => setTimeout(r, 500))
      await redis.kill()
      await until(
        'every instance reports degraded',
        async () => (await Promise.all(fleet.map((x) => health(x.url)))).every((h) => h.fleet?.state === 'degraded'),
        5_000,
      )
      const metrics = await (await fetch(`${fleet[0]!.url}/metrics`)).text()
      assert.match(metrics, /^switchyard_fleet_degraded 1$/m)
      await new Promise((r) => setTimeout(r, 500))
      await redis.restart()
      await until(
        'every instance is back and sees three members',
        async () =>
          (await Promise.all(fleet.map((x) => health(x.url)))).every((h) =>
            h.fleet?.state === 'ok' && h.fleet.members.length === 3
          ),
        10_000,
      )
      await new Promise((r) => setTimeout(r, 300))
      stop = true
      await Promise.all(clients)
      assert.ok(statuses.length >= 30, `only ${statuses.length} requests ran`)
      assert.deepEqual(
        statuses.filter((s) => s !== 200),
        [],
        `${statuses.filter((s) => s !== 200).length} of ${statuses.length} failed`,
      )
      // Usage: every instance's totals are in Redis again after the restart, each counted once.
      const fleetRequests = async () => ((await (await fetch(`${fleet[1]!.url}/v1/usage`)).json()) as {
        scope?: string
        total: { requests: number }
      })
      await until('fleet usage rebuilt', async () => (await fleetRequests()).total.requests === statuses.length, 8_000)
      assert.equal((await fleetRequests()).scope, 'fleet')
      // Degradation is logged once per instance, not once per request.
      for (const x of fleet) assert.equal((x.output().match(/Redis unavailable/g) ?? []).length, 1, x.output())
    })
  },
)
