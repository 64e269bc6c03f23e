/**
 * Fleet mode and a config reload: the instance a reload replaced is closed once its streams end,
 * and it shares its member id with the instance that replaced it, so closing it must let go of
 * its Redis link without leaving the fleet (which would take the live instance out with it).
 * Whole instances on a real Redis (its own redis-server on a free port).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { silentLogger } from '../../src/log.ts'
import { configOf, testConfigFile } from '../integration/helpers.ts'
import { connectRedis, script } from '../../src/fleet/redis.ts'
import { redisForSuite } from './support.ts'

const IS_MEMBER = script(`return redis.call('HEXISTS', KEYS[1], ARGV[1])`)

describe('fleet mode across a reload', () => {
  const suite = redisForSuite()
  const open = suite.open

  it('closing the replaced instance keeps the one that replaced it (same member id) in the fleet', async () => {
    const mock = createMockUpstream({})
    const file = testConfigFile({
      Fleet: { redis: suite.redis().url, keyPrefix: 'rl1:', heartbeatMs: 1_000, commandTimeoutMs: 1_000 },
    })
    const start = async (id: string): Promise<AppInstance> => {
      const f = { ...file, Fleet: { ...(file.Fleet as object), instanceId: id } }
      return await createInstance(configOf(f), { dataDir: ':memory:', fetch: mock.fetch, log: silentLogger })
    }
    const old = await start('x')
    const fresh = await start('x')
    const other = await start('y')
    open.push(fresh, other)
    old.retire()
    await old.close()
    // At once, before `x` beats again (every second): a LEAVE would have removed it, and resigned
    // its leadership. Then as the other instance sees it, for a few beats.
    const link = connectRedis({
      redis: suite.redis().url,
      keyPrefix: 'rl1:',
      commandTimeoutMs: 1_000,
      heartbeatMs: 1_000,
      leaseTtlMs: 30_000,
      cluster: false,
    }, silentLogger)
    try {
      await link.ready(2_000)
      assert.equal(await link.run(IS_MEMBER, ['rl1:{members}:info'], ['x']), 1, 'x is still a member')
    } finally {
      await link.close()
    }
    const members = async () => {
      const h = (await (await other.app.request('/health')).json()) as { fleet: { members: { id: string }[] } }
      return h.fleet.members.map((m) => m.id).sort()
    }
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(await members(), ['x', 'y'], `look ${i}`)
      await new Promise((r) => setTimeout(r, 300))
    }
    const own = (await (await fresh.app.request('/health')).json()) as { fleet: { state: string } }
    assert.equal(own.fleet.state, 'ok')
  })
})
