/**
 * Fleet mode: named API keys' budgets and rpm counted for the whole fleet in a real Redis (its
 * own redis-server on a free port), and decided locally when Redis is gone.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type Fleet, startFleet } from '../../src/fleet/fleet.ts'
import type { FleetConfig, NamedKey } from '../../src/config/types.ts'
import { KeyLedger } from '../../src/keys/ledger.ts'
import { silentLogger } from '../../src/log.ts'
import { script } from '../../src/fleet/redis.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const t0 = performance.now()
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const ALL_KEYS = script(`return redis.call('KEYS', '*')`)
const SPENT = script(
  `local out = {} for _, k in ipairs(redis.call('KEYS', '*spend*')) do table.insert(out, redis.call('HGET', k, ARGV[1]) or '0') end return out`,
)

describe('named API keys across the fleet', () => {
  let redis: TestRedis
  let n = 0
  const open: Fleet[] = []
  const cfg = (): FleetConfig => ({
    redis: redis.url,
    keyPrefix: `k${++n}:`,
    commandTimeoutMs: 1_000,
    heartbeatMs: 100,
    leaseTtlMs: 30_000,
    cluster: false,
  })
  const pair = async (keys: NamedKey[]): Promise<[KeyLedger, KeyLedger, Fleet, Fleet]> => {
    const c = cfg()
    const a = await startFleet({ ...c, instanceId: 'a' }, { log: silentLogger, version: 'test' })
    const b = await startFleet({ ...c, instanceId: 'b' }, { log: silentLogger, version: 'test' })
    open.push(a, b)
    return [new KeyLedger(keys, undefined, a.parts.keyLimits), new KeyLedger(keys, undefined, b.parts.keyLimits), a, b]
  }

  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    await redis.stop()
  })

  it("an rpm is the fleet's: two instances together admit it once, not twice", async () => {
    const [a, b, fa, fb] = await pair([{ name: 'ci', key: 'sk-secret-1', rpm: 6 }])
    let admitted = 0
    for (let i = 0; i < 12; i++) if ((await (i % 2 ? a : b).check('ci', Date.now())) === undefined) admitted++
    // A link that failed meanwhile decides locally, on its share of the members it last saw: say so.
    assert.equal(admitted, 6, `links ${fa.redis.state}/${fb.redis.state}, members ${fa.size()}/${fb.size()}`)
    const r = await a.check('ci', Date.now())
    assert.equal(r?.reason, 'rpm')
    assert.ok(r && r.retryAfterMs > 0 && r.retryAfterMs <= 10_000)
    // Only key names reach Redis, never the key.
    const all = (await fa.redis.run(ALL_KEYS, [], [])) as string[]
    assert.ok(all.some((k) => k.includes('{keys}:rpm:ci')))
    assert.equal(all.some((k) => k.includes('sk-secret')), false)
  })

  it("a daily budget is the fleet's: what one instance spent refuses the key on the other", async () => {
    const [a, b] = await pair([{ name: 'ci', key: 'x', budgetUsdPerDay: 1 }])
    assert.equal(await b.check('ci', Date.now()), undefined)
    a.record('ci', Date.now(), { inputTokens: 10, outputTokens: 5, costUsd: 0.6 })
    b.record('ci', Date.now(), { inputTokens: 10, outputTokens: 5, costUsd: 0.5 })
    let refused: Awaited<ReturnType<KeyLedger['check']>>
    await until('refused on a', async () => (refused = await a.check('ci', Date.now())) !== undefined)
    assert.equal(refused?.reason, 'budget')
    assert.match(
      refused?.message ?? '',
      /"ci" has spent \$1\.10 of its \$1\.00 daily budget: it resets at \d{4}-\d\d-\d\dT00:00:00/,
    )
    assert.ok(refused && refused.retryAfterMs > 0 && refused.retryAfterMs <= 86_400_000)
  })

  it('Redis gone: each instance decides on its share of the rpm and the spend last seen, within a command timeout', async () => {
    const keys: NamedKey[] = [{ name: 'ci', key: 'x', rpm: 8 }, { name: 'spent', key: 'y', budgetUsdPerDay: 1 }]
    const [a, b, fa] = await pair(keys)
    await until('two members', () => fa.size() === 2)
    b.record('spent', Date.now(), { inputTokens: 1, outputTokens: 1, costUsd: 0.7 })
    await until(
      'the spend in Redis',
      async () =>
        ((await fa.redis.run(SPENT, [], ['spent'])) as string[] | undefined)?.some((v) => Number(v) >= 0.7) === true,
    )
    assert.equal(await a.check('spent', Date.now()), undefined, 'the fleet spend (0.70) is seen')
    a.record('spent', Date.now(), { inputTokens: 1, outputTokens: 1, costUsd: 0.4 })
    await redis.kill()
    try {
      const t0 = performance.now()
      let admitted = 0
      for (let i = 0; i < 10; i++) if ((await a.check('ci', Date.now())) === undefined) admitted++
      assert.ok(performance.now() - t0 < 3_000, 'no request waits on a dead Redis for long')
      assert.equal(admitted, 4, 'half of the rpm: the fleet had two members')
      // 0.70 seen in Redis plus 0.40 spent here since: over the budget without Redis.
      const r = await a.check('spent', Date.now())
      assert.equal(r?.reason, 'budget')
      assert.match(r?.message ?? '', /spent \$1\.10 of its \$1\.00/)
    } finally {
      await redis.restart()
    }
  })
})
