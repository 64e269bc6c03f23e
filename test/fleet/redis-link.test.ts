/**
 * The fleet's Redis link against a busy event loop: an answer that arrived while the loop was
 * stalled is not a timeout (the link stays `ok`), and a Redis that really does not answer is
 * still given up within about twice the command timeout. And what the link says in the log: a
 * flapping link at most once per quiet interval, but an outage that starts inside that interval
 * still gets its line and, when it ends, its recovery line (a Redis killed 2 s after a flap used
 * to go unlogged, its end too).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connectRedis, type FleetRedis, script } from '../../src/fleet/redis.ts'
import { createLogger, type Logger, silentLogger } from '../../src/log.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'
import { until } from './support.ts'

const ONE = script('return 1')
/** Keeps the Redis server itself busy for `ARGV[1]` ms (a slow script, as a slow Redis would be). */
const BUSY = script(`local t0 = redis.call('TIME') local e = 0
repeat local t = redis.call('TIME') e = (t[1] - t0[1]) * 1000 + (t[2] - t0[2]) / 1000 until e >= tonumber(ARGV[1])
return 1`)

describe('the fleet Redis link on a busy event loop', () => {
  let redis: TestRedis
  const links: FleetRedis[] = []
  const link = async (log: Logger = silentLogger) => {
    const r = connectRedis({
      redis: redis.url,
      keyPrefix: 'link:',
      commandTimeoutMs: 50,
      heartbeatMs: 100,
      leaseTtlMs: 30_000,
      cluster: false,
    }, log)
    links.push(r)
    await r.ready(5_000)
    await until('connected', async () => (await r.run(ONE, [], [])) === 1, 5_000)
    return r
  }
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(links.map((l) => l.close()))
    await redis.stop()
  })

  it('an answer that came during a 150 ms stall is an answer, not a timeout of the 50 ms deadline', async () => {
    const r = await link()
    for (let i = 0; i < 3; i++) {
      const pending = r.run(ONE, [], [])
      // Once the command is written (commands of one tick go out together, after it), the loop stalls.
      await new Promise((res) => setImmediate(res))
      const end = performance.now() + 150
      while (performance.now() < end) { /* a burst of other work on the one event loop */ }
      assert.equal(await pending, 1)
      assert.equal(r.state, 'ok')
    }
  })

  it('a Redis that does not answer is still given up: undefined and degraded, long before it answers', async () => {
    const r = await link()
    const other = await link()
    // Redis is busy for 2 s: an answer, had the link waited for it, would be 1.
    void other.run(BUSY, [], [2_000])
    await new Promise((res) => setTimeout(res, 20))
    assert.equal(await r.run(ONE, [], []), undefined)
    assert.equal(r.state, 'degraded')
    await until('Redis free again', async () => (await r.run(ONE, [], [])) === 1, 10_000)
  })

  it('a short stall is logged; an outage inside the quiet interval is logged too, with its end', async () => {
    const lines: string[] = []
    const r = await link(createLogger({ write: (l) => lines.push(l) }))
    const other = await link()
    const down = () => lines.filter((l) => l.includes('Redis unavailable')).length
    const back = () => lines.filter((l) => l.includes('reachable again')).length

    // A flap: Redis does not answer for 300 ms.
    void other.run(BUSY, [], [300])
    await new Promise((res) => setTimeout(res, 20))
    assert.equal(await r.run(ONE, [], []), undefined)
    assert.equal(down(), 1)
    await until('free again', async () => (await r.run(ONE, [], [])) === 1, 5_000)
    assert.equal(back(), 1)

    // A second flap at once is inside the quiet interval: no new line.
    void other.run(BUSY, [], [300])
    await new Promise((res) => setTimeout(res, 20))
    assert.equal(await r.run(ONE, [], []), undefined)
    await until('free again', async () => (await r.run(ONE, [], [])) === 1, 5_000)
    assert.equal(down(), 1)
    assert.equal(back(), 1)

    // An outage, still inside the interval: Redis silent for 4.5 s, the link degraded throughout.
    void other.run(BUSY, [], [4_500])
    await new Promise((res) => setTimeout(res, 20))
    assert.equal(await r.run(ONE, [], []), undefined)
    assert.equal(r.state, 'degraded')
    await until('the outage logged', () => down() === 2, 6_000)
    assert.equal(r.state, 'degraded', 'logged while it lasts, not after')
    await until('free again', async () => (await r.run(ONE, [], [])) === 1, 10_000)
    assert.equal(back(), 2)
  })
})
