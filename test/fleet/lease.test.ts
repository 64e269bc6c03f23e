/**
 * Quota leasing against a real Redis (its own redis-server on a free port): several
 * FleetLimiter instances on one Redis admit from local pools, yet never together more than a
 * limit (rpm, maxConcurrent); a crashed holder's slots come back after the lease TTL; idle
 * shares go back to Redis; limits too small to split stay exact, one round trip each.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { ProviderLimits } from '../../src/config/types.ts'
import type { Acquired } from '../../src/resilience/limiter.ts'
import { fleetKeys } from '../../src/fleet/keys.ts'
import { FleetLimiter } from '../../src/fleet/limiter.ts'
import { connectRedis, type FleetRedis, script } from '../../src/fleet/redis.ts'
import { silentLogger } from '../../src/log.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'

/** KEYS bucket; ARGV cap: the bucket's level now, on Redis's clock (as the limiter's scripts compute it). */
const LEVEL = script(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 't', 'at')
if not v[1] then return tostring(cap) end
return tostring(math.min(cap, tonumber(v[1]) + math.max(0, now - tonumber(v[2])) * cap / 60000))
`)
const ZCARD = script(`return redis.call('ZCARD', KEYS[1])`)

const acquire = async (l: FleetLimiter, est = 0, now = Date.now()): Promise<Acquired> => l.tryAcquire('p', est, now)

/** `link` with its script calls in flight kept in `pending`, so a test can wait for the background refills. */
const tracked = (link: FleetRedis, pending: Set<Promise<unknown>>): FleetRedis =>
  Object.assign(Object.create(link) as FleetRedis, {
    run: (...call: Parameters<FleetRedis['run']>) => {
      const p = link.run(...call)
      pending.add(p)
      void p.finally(() => pending.delete(p))
      return p
    },
  })

describe('fleet limits by quota leasing, over a real Redis', () => {
  let redis: TestRedis
  let n = 0
  const links: FleetRedis[] = []
  const limiters: FleetLimiter[] = []

  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(limiters.map((l) => l.close()))
    await Promise.all(links.map((l) => l.close()))
    await redis.stop()
  })

  /** `count` limiters on one prefix, each believing the fleet has `size` members. */
  const fleet = async (
    limits: ProviderLimits,
    o: { count: number; size?: number; leaseTtlMs?: number; now?: () => number },
  ) => {
    const prefix = `lease${++n}:`
    const keys = fleetKeys(prefix)
    const made: { limiter: FleetLimiter; link: FleetRedis }[] = []
    const pending = new Set<Promise<unknown>>()
    for (let i = 0; i < o.count; i++) {
      const link = connectRedis({
        redis: redis.url,
        keyPrefix: prefix,
        commandTimeoutMs: 1_000,
        heartbeatMs: 1_000,
        leaseTtlMs: o.leaseTtlMs ?? 30_000,
        cluster: false,
      }, silentLogger)
      await link.ready(2_000)
      links.push(link)
      const limiter = new FleetLimiter({
        redis: tracked(link, pending),
        keys,
        instanceId: `i${i}`,
        limits: new Map([['p', limits]]),
        leaseTtlMs: o.leaseTtlMs ?? 30_000,
        fleetSize: () => o.size ?? o.count,
        ...(o.now ? { now: o.now } : {}),
      })
      limiters.push(limiter)
      made.push({ limiter, link })
    }
    const k = keys.limits('p')
    // Read through the last link: the crash test closes the first.
    const reader = made.at(-1)!.link
    const level = async (key: 'rpm' | 'tpm', cap: number) => Number(await reader.run(LEVEL, [k[key]], [cap]))
    const slotsHeld = async () => Number(await reader.run(ZCARD, [k.slots], []))
    /** Resolves once no script call of the limiters is in flight (refills, returns, renewals). */
    const settled = async () => {
      while (pending.size > 0) await Promise.all([...pending])
    }
    return { made, limiters: made.map((m) => m.limiter), level, slotsHeld, settled }
  }

  it('rpm: three instances admit from local pools, mostly without a round trip, and never together past the limit', async () => {
    const rpm = 2_400
    const { limiters } = await fleet({ rpm }, { count: 3 })
    // The bucket is full at the first admission and refills 40 tokens a second from then on.
    const t0 = performance.now()
    // A first stretch well under the limit: nearly every admission is local.
    let admitted = 0
    await Promise.all(limiters.map(async (l) => {
      for (let i = 0; i < 300; i++) if ((await acquire(l)).ok) admitted++
    }))
    assert.equal(admitted, 900)
    const trips = limiters.reduce((s, l) => s + l.roundTrips, 0)
    assert.ok(trips <= 90, `${trips} of 900 admissions waited for Redis`)
    // Then each instance keeps asking until it is refused: together they get the bucket, no more.
    await Promise.all(limiters.map(async (l) => {
      while ((await acquire(l)).ok) admitted++
    }))
    // The bucket refills 40 tokens a second, and a refill answered after a refusal leaves a few
    // in a pool: the next refusal may come a few admissions later.
    let at = Date.now()
    let denied = await acquire(limiters[0]!, 0, at)
    for (let i = 0; denied.ok && i < 100; i++) {
      admitted++
      at = Date.now()
      denied = await acquire(limiters[0]!, 0, at)
    }
    const refilled = Math.ceil(((performance.now() - t0 + 50) * rpm) / 60_000)
    assert.ok(admitted <= rpm + refilled, `${admitted} admitted for rpm ${rpm} (+${refilled} refilled meanwhile)`)
    assert.ok(admitted >= rpm - 3 * (rpm / 24), `${admitted} admitted: shares were left unused`)
    assert.ok(!denied.ok && denied.reason === 'rpm' && denied.fleet === true && denied.retryInMs > 0)
    // Routing skips the provider until the hint runs out (read at the refusal's own time: the hint may be 1 ms).
    assert.deepEqual([...limiters[0]!.blocked(['p'], 0, at).keys()], ['p'])
  })

  it('maxConcurrent: slots leased in blocks never exceed the limit; released slots return to the pool, idle ones to Redis', async () => {
    const maxConcurrent = 96
    const { limiters, slotsHeld } = await fleet({ maxConcurrent }, { count: 3 })
    const held: Acquired[] = []
    await Promise.all(limiters.map(async (l) => {
      for (;;) {
        const a = await acquire(l)
        if (!a.ok) {
          assert.equal(a.reason, 'concurrency')
          return
        }
        held.push(a)
      }
    }))
    assert.ok(held.length <= maxConcurrent, `${held.length} in flight for maxConcurrent ${maxConcurrent}`)
    assert.ok(held.length >= maxConcurrent - 3 * 4, `only ${held.length} admitted: blocks were left unused`)
    assert.equal(limiters.reduce((s, l) => s + l.inFlight('p'), 0), held.length)
    assert.ok((await slotsHeld()) <= maxConcurrent)
    // A finished request's slot stays with its instance: the next admission there takes no round trip.
    const trips = limiters[0]!.roundTrips
    const mine = held.length
    for (const a of held) if (a.ok) a.release()
    const again = await acquire(limiters[0]!)
    assert.ok(again.ok && limiters[0]!.roundTrips === trips, 'the released slot was reused locally')
    if (again.ok) again.release()
    // Idle: every slot goes back to Redis within a second or two.
    const t0 = performance.now()
    while ((await slotsHeld()) > 0) {
      assert.ok(performance.now() - t0 < 3_000, `${await slotsHeld()} slots still held after 3 s (${mine} used)`)
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.deepEqual(limiters.map((l) => l.pooled('p').slots), [0, 0, 0])
  })

  it("a crashed instance's pooled slots (no renewals) come back after the lease TTL", async () => {
    const { made, slotsHeld } = await fleet({ maxConcurrent: 48 }, { count: 2, size: 1, leaseTtlMs: 600 })
    const [a, b] = [made[0]!.limiter, made[1]!.limiter]
    const mine: Acquired[] = []
    for (let i = 0; i < 10; i++) mine.push(await acquire(a))
    assert.ok(mine.every((x) => x.ok))
    // "Crash": a's link goes away; its leases (in use and pooled) are neither released nor renewed.
    await made[0]!.link.close()
    const aHolds = await slotsHeld()
    assert.ok(aHolds >= 10 && aHolds <= 48, `a holds ${aHolds}`)
    const t0 = performance.now()
    let got = 0
    const drain = async () => {
      while ((await acquire(b)).ok) got++
      // A background refill answered after the refusal leaves slots in b's pool: those too.
      await new Promise((r) => setTimeout(r, 20))
      while ((await acquire(b)).ok) got++
    }
    await drain()
    assert.equal(got, 48 - aHolds, `b got ${got}; a held ${aHolds}`)
    while (!(await acquire(b)).ok) {
      assert.ok(performance.now() - t0 < 3_000, "the crashed holder's slots never came back")
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.ok(performance.now() - t0 >= 300, 'came back before the lease could expire')
    got++
    // a's slots were leased in blocks at different moments, so their leases expire a little apart: drain until all
    // are back (or the deadline), then there must be exactly the limit, never more.
    await drain()
    while (got < 48 && performance.now() - t0 < 3_000) {
      await new Promise((r) => setTimeout(r, 20))
      await drain()
    }
    assert.equal(got, 48)
  })

  it('idle and surplus tokens go back to the bucket; the pool never holds more than the fair share', async () => {
    let clock = Date.now()
    const rpm = 600_000
    const { limiters, level, settled } = await fleet({ rpm }, { count: 1, size: 2, now: () => clock })
    const l = limiters[0]!
    for (let i = 0; i < 3_000; i++) assert.ok((await acquire(l, 0, clock)).ok)
    // Let the background refill land (under load it took longer than the 20 ms once waited here).
    await settled()
    const pooled = l.pooled('p').rpm
    assert.ok(pooled > 0 && pooled <= rpm / 16, `pooled ${pooled}`)
    clock += 1_500
    const tb = performance.now()
    const before = await level('rpm', rpm)
    await l.tidy()
    const after = await level('rpm', rpm)
    // 10 tokens a millisecond refill meanwhile: the rest of the rise is the pool coming back.
    const refill = Math.ceil(((performance.now() - tb + 2) * rpm) / 60_000)
    assert.equal(l.pooled('p').rpm, 0)
    assert.ok(after - before >= pooled - 1, `bucket rose by ${after - before}, pool held ${pooled}`)
    assert.ok(after - before <= pooled + refill, `bucket rose by ${after - before}, pool held ${pooled} (+${refill})`)
  })

  it('tpm: the estimate is reserved from the pool and settled there; usage over it is a debt paid by the next refill', async () => {
    const tpm = 1_600_000
    const { limiters } = await fleet({ tpm }, { count: 1, size: 1 })
    const l = limiters[0]!
    const first = await acquire(l, 1_000)
    assert.ok(first.ok)
    const pooled = l.pooled('p').tpm
    first.release(300)
    assert.equal(l.pooled('p').tpm, pooled + 700)
    const big = await acquire(l, 100)
    assert.ok(big.ok)
    big.release(pooled + 700 + 5_000)
    assert.ok(l.pooled('p').tpm < 0, 'a debt')
    const trips = l.roundTrips
    const next = await acquire(l, 10)
    assert.ok(next.ok && l.roundTrips === trips + 1, 'the pool in debt: this request waited for a refill')
    assert.ok(l.pooled('p').tpm >= 0, `still in debt: ${l.pooled('p').tpm}`)
  })

  it('a burst that finds the pool empty takes one batch on top, not one per request', async () => {
    // Limits that never bind (as `harness bench --limits`): before, each of the burst's
    // requests took a batch on top of its own need, and 5,000 streams leased all 100,000 slots.
    const { limiters, slotsHeld } = await fleet({ rpm: 10_000_000, maxConcurrent: 100_000 }, { count: 1 })
    const l = limiters[0]!
    const burst = 2_000
    const got = await Promise.all(Array.from({ length: burst }, () => acquire(l)))
    assert.ok(got.every((a) => a.ok))
    const pooled = l.pooled('p')
    // Each request's own slot and token, plus one batch sized by the burst's demand (half its
    // peak in flight at most; a quarter second of its requests): before, one batch per request.
    const held = await slotsHeld()
    assert.ok(held <= burst * 1.5, `${held} slots held after a burst of ${burst}`)
    assert.ok(pooled.rpm <= burst, `${pooled.rpm} rpm tokens pooled after a burst of ${burst}`)
    assert.equal(pooled.slots + burst, held, 'every held slot is in use or pooled')
    for (const a of got) if (a.ok) a.release()
  })

  it('small limits stay exact: rpm 30 across three instances admits exactly 30, one round trip each', async () => {
    const { limiters } = await fleet({ rpm: 30, maxConcurrent: 1_000 }, { count: 3 })
    let admitted = 0
    for (let i = 0; i < 20; i++) for (const l of limiters) if ((await acquire(l)).ok) admitted++
    assert.equal(admitted, 30)
    assert.equal(limiters.reduce((s, l) => s + l.roundTrips, 0), 60)
    assert.deepEqual(limiters.map((l) => l.pooled('p')), Array(3).fill({ rpm: 0, tpm: 0, slots: 0 }))
  })

  it('Redis restarted empty: the pooled and in-use slots are re-added by the next renewal', async () => {
    const { limiters, slotsHeld } = await fleet({ maxConcurrent: 480 }, { count: 1, size: 1 })
    const l = limiters[0]!
    const busy: Acquired[] = []
    for (let i = 0; i < 20; i++) busy.push(await acquire(l))
    // Settled: every slot Redis holds is one of ours, in use or pooled (a refill may still be landing).
    const t1 = performance.now()
    while ((await slotsHeld()) !== 20 + l.pooled('p').slots) {
      assert.ok(performance.now() - t1 < 2_000, 'Redis and the pool never agreed')
      await new Promise((r) => setTimeout(r, 20))
    }
    const held = 20 + l.pooled('p').slots
    await redis.kill()
    await redis.restart()
    const t0 = performance.now()
    for (;;) {
      // The timer renews every leaseTtlMs / 3 (10 s here) and after a reconnect; called by hand to be quick.
      await l.renew()
      if ((await slotsHeld()) === held) break
      assert.ok(performance.now() - t0 < 5_000, 'leases not rebuilt')
      await new Promise((r) => setTimeout(r, 50))
    }
    for (const a of busy) if (a.ok) a.release()
  })
})
