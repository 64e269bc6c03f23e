/**
 * Fleet mode: named API keys' usage (requests, tokens, cost, today's cost) summed over the fleet
 * in `GET /v1/usage` (scope `fleet`, the default), from two instances on one real Redis (its own
 * redis-server on a free port). The counters are by key name, batched with the usage flush.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { startFleet } from '../../src/fleet/fleet.ts'
import { connectRedis, script } from '../../src/fleet/redis.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { silentLogger } from '../../src/log.ts'
import { anthropicBody, configOf, testConfigFile } from '../integration/helpers.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'
import { recording, type ScriptCall } from './slot.ts'

/** Every key with its hash fields and values (or its string value), flattened: what Redis holds. */
const DUMP = script(`local out = {}
for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do
  table.insert(out, k)
  local t = redis.call('TYPE', k).ok
  if t == 'hash' then for _, v in ipairs(redis.call('HGETALL', k)) do table.insert(out, v) end end
  if t == 'string' then table.insert(out, redis.call('GET', k)) end
end
return out`)

interface KeyRow {
  requests: number
  inputTokens: number
  outputTokens: number
  costUsd: number
  todayUsd: number
  budgetUsdPerDay?: number
}
interface UsageBody {
  scope?: string
  keys: Record<string, KeyRow>
}

describe("named keys' usage across the fleet", () => {
  let redis: TestRedis
  const open: { close(): Promise<void> }[] = []
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    await redis.stop()
  })

  it("GET /v1/usage on either instance shows every instance's requests, tokens and cost per key; scope=instance its own", async () => {
    const mock = createMockUpstream({})
    const file = testConfigFile({
      APIKEY: 'sk-admin',
      Keys: [
        { name: 'team-a', key: 'sk-team-a-0123456789', budgetUsdPerDay: 100 },
        { name: 'team-b', key: 'sk-team-b-0123456789' },
        { name: 'idle', key: 'sk-idle-0123456789' },
      ],
      Fleet: { redis: redis.url, keyPrefix: 'ku1:', heartbeatMs: 200, commandTimeoutMs: 1_000 },
    })
    ;(file.Providers as Record<string, unknown>[])[0]!.pricing = { input_per_million: 3, output_per_million: 15 }
    const start = async (id: string): Promise<AppInstance> => {
      const f = { ...file, Fleet: { ...(file.Fleet as object), instanceId: id } }
      const i = await createInstance(configOf(f), { dataDir: ':memory:', fetch: mock.fetch, log: silentLogger })
      open.push(i)
      return i
    }
    const a = await start('a')
    const b = await start('b')
    const send = async (i: AppInstance, key: string, stream = false) => {
      const r = await i.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify(anthropicBody('anth,mock-a:chunks=8', stream ? { stream: true } : {})),
      })
      assert.equal(r.status, 200)
      await r.text()
    }
    await send(a, 'sk-team-a-0123456789')
    await send(a, 'sk-team-a-0123456789', true)
    for (let i = 0; i < 3; i++) await send(b, 'sk-team-a-0123456789', i === 0)
    await send(b, 'sk-team-b-0123456789')
    const usage = async (i: AppInstance, query = '') => {
      const r = await i.app.request(`/v1/usage${query}`, { headers: { 'x-api-key': 'sk-admin' } })
      assert.equal(r.status, 200)
      return await r.json() as UsageBody
    }
    // Each instance's own figures; reading them also lets each flush its totals first.
    const ownA = await usage(a, '?scope=instance')
    const ownB = await usage(b, '?scope=instance')
    assert.equal(ownA.scope, 'instance')
    assert.equal(ownA.keys['team-a']?.requests, 2)
    assert.equal(ownB.keys['team-a']?.requests, 3)
    assert.ok((ownA.keys['team-a']?.costUsd ?? 0) > 0, 'priced')
    await usage(b) // flushes b's totals
    for (const i of [a, b]) {
      const u = await usage(i)
      assert.equal(u.scope, 'fleet')
      const t = u.keys['team-a']!
      const sum = (f: keyof KeyRow) => Number(ownA.keys['team-a']![f]) + Number(ownB.keys['team-a']![f])
      assert.equal(t.requests, 5, 'two on a, three on b (streamed ones counted once each)')
      assert.equal(t.inputTokens, sum('inputTokens'))
      assert.equal(t.outputTokens, sum('outputTokens'))
      assert.ok(Math.abs(t.costUsd - sum('costUsd')) < 1e-9, `${t.costUsd} vs ${sum('costUsd')}`)
      assert.ok(Math.abs(t.todayUsd - t.costUsd) < 1e-9, "all of it today (Redis's day)")
      assert.equal(t.budgetUsdPerDay, 100, 'the configured budget stays')
      assert.equal(u.keys['team-b']?.requests, 1)
      assert.deepEqual(
        [u.keys.idle?.requests, u.keys.idle?.costUsd],
        [0, 0],
        'a configured key no instance used shows zeros',
      )
    }
    // Only key names reach Redis, never a key.
    const f = await startFleet({
      redis: redis.url,
      keyPrefix: 'ku1:',
      commandTimeoutMs: 1_000,
      heartbeatMs: 200,
      leaseTtlMs: 30_000,
      cluster: false,
      instanceId: 'reader',
    }, { log: silentLogger, version: 'test' })
    open.push(f)
    const dump = (await f.redis.run(DUMP, [], ['ku1:'])) as string[]
    assert.ok(dump.some((x) => x.includes('team-a')))
    assert.ok(!dump.some((x) => x.includes('sk-team')), 'no key in Redis')
  })

  it('a burst of requests is one write per day per flush, not one per request or per stream event', async () => {
    const calls: ScriptCall[] = []
    const cfg = {
      redis: redis.url,
      keyPrefix: 'ku2:',
      commandTimeoutMs: 1_000,
      heartbeatMs: 200,
      leaseTtlMs: 30_000,
      cluster: false,
      instanceId: 'x',
    }
    const f = await startFleet(cfg, {
      log: silentLogger,
      version: 'test',
      redis: recording(connectRedis(cfg, silentLogger), calls),
    })
    open.push(f)
    // The usage write is the one script called with the days set and two day hashes.
    const writes = () => calls.filter((c) => c.keys.length === 3 && c.keys[0] === f.keys.usageDays)
    const before = writes().length
    for (let i = 0; i < 500; i++) {
      f.parts.usage.addKey(i % 2 ? 'k1' : 'k2', { requests: 1, inputTokens: 10, outputTokens: 5, costUsd: 0.001 })
    }
    await f.parts.usage.flush()
    assert.equal(writes().length - before, 1)
    const snap = await f.parts.usage.snapshot()
    assert.equal(snap?.keys.k1?.requests, 250)
    assert.equal(snap?.keys.k2?.outputTokens, 1_250)
    assert.ok(Math.abs((snap?.keys.k1?.todayUsd ?? 0) - 0.25) < 1e-9)
    assert.equal(writes().length - before, 1, 'nothing changed since: the read writes nothing')
  })
})
