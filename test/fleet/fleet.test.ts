/**
 * Fleet mode against a real Redis (its own redis-server on a free port): membership, the
 * fleet-wide limiter (rpm, tpm, concurrency leases), shared breakers with one probe, shared
 * Retry-After holds, and Redis dying and coming back under it.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type Fleet, startFleet } from '../../src/fleet/fleet.ts'
import { withFleetResults } from '../../src/fleet/perf.ts'
import type { TargetMetrics } from '../../src/perf/aggregate.ts'
import type { FleetConfig } from '../../src/config/types.ts'
import { createLogger, silentLogger } from '../../src/log.ts'
import { startRedis, startSentinel, type TestRedis } from '../../harness/stress/redis.ts'
import { statsOpts, until } from './support.ts'

describe('fleet mode over a real Redis', () => {
  let redis: TestRedis
  let n = 0
  const open: Fleet[] = []
  // A generous command timeout: these tests are about sharing, not about a loaded machine's slow answers.
  const cfg = (over: Partial<FleetConfig> = {}): FleetConfig => ({
    redis: redis.url,
    keyPrefix: `t${++n}:`,
    commandTimeoutMs: 1_000,
    heartbeatMs: 100,
    leaseTtlMs: 30_000,
    cluster: false,
    ...over,
  })
  const join = async (c: FleetConfig, id: string, log = silentLogger): Promise<Fleet> => {
    const f = await startFleet({ ...c, instanceId: id }, { log, version: 'test' })
    open.push(f)
    return f
  }

  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    await redis.stop()
  })

  it('instances see each other with TTLs, and one that leaves is gone', async () => {
    const c = cfg()
    const a = await join(c, 'a')
    const b = await join(c, 'b')
    await until('both members seen', () => a.health().members.length === 2 && b.health().members.length === 2)
    const h = a.health()
    assert.equal(h.instance_id, 'a')
    assert.equal(h.state, 'ok')
    assert.deepEqual(h.members.map((m) => [m.id, m.self]).sort(), [['a', true], ['b', false]])
    assert.ok(h.members.every((m) => m.ttl_ms > 0 && m.ttl_ms <= 300))
    await b.close()
    open.splice(open.indexOf(b), 1)
    await until('b gone', () => a.health().members.length === 1)
  })

  it('exactly one instance leads the scheduled performance tests; another takes over when it leaves', async () => {
    const c = cfg()
    const fleets = [await join(c, 'a'), await join(c, 'b'), await join(c, 'c')]
    await until('one leader', () => fleets.filter((f) => f.leader()).length === 1)
    const leader = fleets.find((f) => f.leader())!
    await leader.close()
    open.splice(open.indexOf(leader), 1)
    const rest = fleets.filter((f) => f !== leader)
    await until('a new leader', () => rest.filter((f) => f.leader()).length === 1, 3_000)
  })

  it("the leader's performance results reach the others, aged on Redis's clock, not stamped with the leader's", async () => {
    const c = cfg()
    let leaderClock = Date.now() + 3_600_000 // an hour ahead: a timestamp would be wrong by that much
    const a = await startFleet({ ...c, instanceId: 'a' }, {
      log: silentLogger,
      version: 'test',
      now: () => leaderClock,
    })
    open.push(a)
    const b = await join(c, 'b')
    let changed = 0
    b.perf.onChange(() => changed++)
    const m = {
      target: 'p,m',
      provider: 'p',
      model: 'm',
      successRate: 1,
      errorRate: 0,
      testCount: 3,
      avgLatencyMs: 120,
    }
    await a.perf.publish([{ ...m, lastTested: leaderClock - 10_000 } as TargetMetrics])
    leaderClock += 1
    await b.perf.pull()
    assert.equal(changed, 1)
    const got = b.perf.latest()[0]!
    assert.equal(got.avgLatencyMs, 120)
    const age = Date.now() - got.lastTested
    assert.ok(age >= 10_000 && age < 12_000, `age ${age} ms`)
    assert.deepEqual(
      withFleetResults([{ ...m, target: 'q,m', lastTested: 1 } as TargetMetrics], b.perf.latest()).map((x) => x.target),
      ['q,m', 'p,m'],
    )
  })

  it('identical concurrent requests on two instances share one upstream call; a failed leader lets the others run it', async () => {
    const c = cfg()
    const a = await join(c, 'a')
    const b = await join(c, 'b')
    let calls = 0
    const answer = (text: string, ms: number, fail = false) => async () => {
      calls++
      await new Promise((r) => setTimeout(r, ms))
      if (fail) throw new Error('upstream broke')
      return {
        status: 200,
        headers: [['content-type', 'application/json']] as [string, string][],
        body: new TextEncoder().encode(text),
      }
    }
    const signal = new AbortController().signal
    const first = a.dedup.run('k1', signal, answer('{"from":"a"}', 200))
    await new Promise((r) => setTimeout(r, 30))
    const second = await b.dedup.run('k1', signal, answer('{"from":"b"}', 0))
    assert.equal(new TextDecoder().decode(second.answer.body), '{"from":"a"}')
    assert.ok(second.answer.headers.some(([k, v]) => k === 'x-switchyard-dedup' && v === 'shared'))
    assert.equal((await first).shared, false)
    assert.equal(calls, 1)
    // The leader fails: the follower is not left waiting for its claim to expire.
    calls = 0
    const failing = a.dedup.run('k2', signal, answer('', 100, true)).catch((e: Error) => e.message)
    await new Promise((r) => setTimeout(r, 30))
    const t0 = performance.now()
    const own = await b.dedup.run('k2', signal, answer('{"from":"b"}', 0))
    assert.equal(await failing, 'upstream broke')
    assert.equal(new TextDecoder().decode(own.answer.body), '{"from":"b"}')
    assert.ok(performance.now() - t0 < 900, 'woken by the note, not by the one-second look')
    assert.equal(calls, 2)
  })

  it("a reload's retired instance lets its link go without taking the new one (same member id) out of the fleet", async () => {
    const c = cfg()
    const old = await join(c, 'x')
    const fresh = await join(c, 'x')
    const other = await join(c, 'y')
    await old.retire()
    open.splice(open.indexOf(old), 1)
    await new Promise((r) => setTimeout(r, 400))
    assert.deepEqual(other.health().members.map((m) => m.id).sort(), ['x', 'y'])
    assert.equal(fresh.health().state, 'ok')
  })

  it("the performance tests' daily token budget is one for the fleet, settled with what was spent", async () => {
    const c = cfg()
    const a = await join(c, 'a')
    const b = await join(c, 'b')
    assert.equal(await a.budget.reserve(600, 1_000), true)
    assert.equal(await b.budget.reserve(600, 1_000), false)
    a.budget.settle(600, 100)
    await until('the unspent tokens come back', async () => (await b.budget.reserve(600, 1_000)) === true)
  })

  it('rpm is one budget for the whole fleet, and a denial says when to come back', async () => {
    const c = cfg()
    const limits = new Map([['p', { rpm: 5 }]])
    const la = (await join(c, 'a')).parts.limiter(limits)
    const lb = (await join(c, 'b')).parts.limiter(limits)
    let admitted = 0
    for (let i = 0; i < 6; i++) {
      for (const l of [la, lb]) if ((await l.tryAcquire('p', 0, Date.now())).ok) admitted++
    }
    assert.equal(admitted, 5)
    const denied = await la.tryAcquire('p', 0, Date.now())
    assert.equal(denied.ok, false)
    assert.ok(
      !denied.ok && denied.reason === 'rpm' && denied.fleet === true && denied.retryInMs > 0 &&
        denied.retryInMs <= 12_000,
    )
    assert.deepEqual([...la.blocked(['p'], 0, Date.now()).keys()], ['p'])
  })

  it("concurrency slots are leases: released slots come back, a dead holder's expire", async () => {
    const c = cfg({ leaseTtlMs: 300 })
    const limits = new Map([['p', { maxConcurrent: 2 }]])
    const a = (await join(c, 'a')).parts.limiter(limits)
    const b = (await join(c, 'b')).parts.limiter(limits)
    const s1 = await a.tryAcquire('p', 0, Date.now())
    const s2 = await b.tryAcquire('p', 0, Date.now())
    assert.ok(s1.ok && s2.ok)
    const third = await a.tryAcquire('p', 0, Date.now())
    assert.ok(!third.ok && third.reason === 'concurrency')
    s1.release()
    await until('the released slot is free', async () => (await b.tryAcquire('p', 0, Date.now())).ok)
    // b's two slots are now held by a "crashed" holder: nobody renews b's leases once it is closed.
    const fb = open.at(-1)!
    await fb.close()
    open.pop()
    const waited = await until(
      "the dead holder's slots expire",
      async () => (await a.tryAcquire('p', 0, Date.now())).ok,
      3_000,
    )
    assert.ok(waited >= 100, `came back after ${waited} ms, before the lease could expire`)
  })

  it('tpm is reserved on admission and settled with the reported usage', async () => {
    const c = cfg()
    const limits = new Map([['p', { tpm: 1_000 }]])
    const a = (await join(c, 'a')).parts.limiter(limits)
    const b = (await join(c, 'b')).parts.limiter(limits)
    const r1 = await a.tryAcquire('p', 800, Date.now())
    assert.ok(r1.ok)
    const r2 = await b.tryAcquire('p', 800, Date.now())
    assert.ok(!r2.ok && r2.reason === 'tpm')
    r1.release(100) // only 100 used: 700 come back
    await until('the unused reservation is refunded fleet-wide', async () => {
      const r = await b.tryAcquire('p', 800, Date.now())
      if (r.ok) r.release(800)
      return r.ok
    })
  })

  it('a breaker tripped on one instance is open on the others within 100 ms, and exactly one instance probes', async () => {
    const c = cfg()
    const lines: string[] = []
    const log = createLogger({ write: (l) => lines.push(l) })
    const fleets = [await join(c, 'a'), await join(c, 'b', log), await join(c, 'c', log)]
    const stats = fleets.map((f) => f.parts.stats(statsOpts))
    for (let i = 0; i < 2; i++) stats[0]!.begin('p,m', Date.now()).fail(Date.now(), 'server_error')
    assert.equal(stats[0]!.allows('p,m', Date.now()).allowed, false)
    const took = await until(
      'b and c see it open',
      () => !stats[1]!.allows('p,m', Date.now()).allowed && !stats[2]!.allows('p,m', Date.now()).allowed,
      2_000,
    )
    // It came by pub/sub (about 1 ms here; the 100 ms target is a figure, not a wall-clock assert:
    // 496 ms were seen on a loaded machine). The only other way in, the resync, follows a lost link.
    assert.deepEqual(
      lines.filter((x) => x.includes('Redis unavailable')),
      [],
      `took ${took.toFixed(1)} ms, not by pub/sub`,
    )
    assert.equal(stats[1]!.snapshot('p,m', Date.now()).breaker.kind, 'open')
    // Cooldown over: every instance asks; only one gets the probe.
    await new Promise((r) => setTimeout(r, 350))
    const granted: number[] = []
    await until('one probe granted', () => {
      stats.forEach((s, i) => {
        if (s.allows('p,m', Date.now()).allowed) granted.push(i)
      })
      return granted.length > 0
    })
    await new Promise((r) => setTimeout(r, 100))
    stats.forEach((s, i) => {
      if (s.allows('p,m', Date.now()).allowed) granted.push(i)
    })
    assert.equal(granted.length, 1, `probes granted to ${JSON.stringify(granted)}`)
    // The probe succeeds: closed everywhere.
    const prober = stats[granted[0]!]!
    prober.begin('p,m', Date.now()).succeed(Date.now())
    await until('closed on every instance', () => stats.every((s) => s.allows('p,m', Date.now()).allowed))
  })

  it('a fresh instance routes on what the fleet measured: latency and outcomes merged by sample counts', async () => {
    const c = cfg()
    const a = await join(c, 'a')
    const b = await join(c, 'b')
    const sa = a.parts.stats(statsOpts)
    const sb = b.parts.stats(statsOpts)
    // The exchange reads each table at the real time: samples finished just now.
    const t0 = Date.now() - 5_000
    for (let i = 0; i < 5; i++) {
      const t = sa.begin('p,m', t0 + 1_000 * i)
      t.succeed(t0 + 1_000 * i + 200)
    }
    assert.equal(sb.snapshot('p,m', t0 + 5_000).samples, 0)
    await a.samples.exchange()
    await b.samples.exchange()
    const seen = sb.snapshot('p,m', t0 + 5_000)
    assert.equal(seen.samples, 5)
    assert.equal(seen.successes, 5)
    assert.ok(Math.abs((seen.latencyMs ?? 0) - 200) < 1, `latency ${seen.latencyMs}`)
    // What b tells the fleet is its own (empty) table, not a's numbers echoed back.
    assert.equal(sb.own(t0 + 5_000).get('p,m'), undefined)
    for (let i = 0; i < 5; i++) {
      const t = sb.begin('p,m', t0 + 1_000 * i)
      t.succeed(t0 + 1_000 * i + 400)
    }
    const merged = sb.snapshot('p,m', t0 + 5_000)
    assert.equal(merged.samples, 10)
    assert.ok((merged.latencyMs ?? 0) > 200 && (merged.latencyMs ?? 0) < 400, `merged latency ${merged.latencyMs}`)
  })

  it('a Retry-After hold set through one instance holds on the others', async () => {
    const c = cfg()
    const a = await join(c, 'a')
    const b = await join(c, 'b')
    a.parts.holds.note(
      'p,m',
      { kind: 'rate_limited', target: 'p,m', retryAfterMs: 2_000, message: 'slow down' },
      Date.now(),
    )
    await until('b holds p,m', () => b.parts.holds.remaining('p,m', Date.now()) > 1_000)
    // An instance that joins later loads it from Redis.
    const late = await join(c, 'late')
    assert.ok(late.parts.holds.remaining('p,m', Date.now()) > 1_000)
    // A hold asked for ten days is capped (Router.maxRetryAfterMs, 10 min by default) before it is shared.
    a.parts.holds.note('q,m', {
      kind: 'rate_limited',
      target: 'q,m',
      retryAfterMs: 10 * 86_400_000,
      message: 'go away',
    }, Date.now())
    await until('b holds q,m', () => b.parts.holds.remaining('q,m', Date.now()) > 0)
    assert.ok(b.parts.holds.remaining('q,m', Date.now()) <= 600_000)
  })

  it('usage totals are the sum of every instance, per day, and rebuilt once after Redis restarts empty', async () => {
    const c = cfg()
    const a = await join(c, 'a')
    const b = await join(c, 'b')
    const delta = (requests: number) => ({
      tier: 'tier-0',
      target: 'p,m',
      requests,
      inputTokens: 10 * requests,
      outputTokens: requests,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      costUsd: 0.5 * requests,
      unknownCostRequests: 0,
      failures: {},
    })
    a.parts.usage.add(delta(2))
    b.parts.usage.add(delta(3))
    a.parts.usage.add(delta(1))
    await b.parts.usage.flush()
    const snap = await a.parts.usage.snapshot()
    assert.equal(snap?.total.requests, 6)
    assert.equal(snap?.targets['p,m']?.inputTokens, 60)
    assert.equal(snap?.days.length, 1)
    assert.deepEqual(
      snap?.byDay[snap.days[0]!],
      { requests: 6, costUsd: 3 },
      "per day too (the dashboard's spend today)",
    )
    await redis.kill()
    await redis.restart()
    await until('both back', () => a.health().state === 'ok' && b.health().state === 'ok', 5_000)
    await until('rebuilt to the same totals', async () => (await b.parts.usage.snapshot())?.total.requests === 6, 5_000)
    await a.parts.usage.flush()
    assert.equal((await b.parts.usage.snapshot())?.total.requests, 6)
  })

  it('finds the primary through Redis Sentinel', async () => {
    const sentinel = await startSentinel(redis.port, 'sy-primary')
    try {
      const c = {
        ...cfg(),
        redis: 'redis://127.0.0.1:1/0',
        sentinel: { name: 'sy-primary', nodes: [`127.0.0.1:${sentinel.port}`] },
      }
      const a = await join(c, 'a')
      const b = await join(c, 'b')
      await until(
        'both members seen through the sentinel',
        () => a.health().state === 'ok' && a.health().members.length === 2 && b.health().members.length === 2,
      )
      const limits = new Map([['p', { rpm: 3 }]])
      const la = a.parts.limiter(limits)
      const lb = b.parts.limiter(limits)
      let admitted = 0
      for (let i = 0; i < 3; i++) for (const l of [la, lb]) if ((await l.tryAcquire('p', 0, Date.now())).ok) admitted++
      assert.equal(admitted, 3)
    } finally {
      await Promise.all(open.splice(0).map((f) => f.close()))
      await sentinel.stop()
    }
  })

  it('starts degraded when Redis is unreachable, and never shows or logs the password', async () => {
    const lines: string[] = []
    const log = createLogger({ write: (l) => lines.push(l) })
    const t0 = performance.now()
    const f = await join({ ...cfg(), redis: 'redis://:s3cret-pw@127.0.0.1:1/0' }, 'lonely', log)
    assert.ok(performance.now() - t0 < 3_000, 'the start does not wait on a dead Redis for long')
    await until('degraded', () => f.health().state === 'degraded')
    const l = f.parts.limiter(new Map([['p', { rpm: 2 }]]))
    assert.ok((await l.tryAcquire('p', 0, Date.now())).ok, 'a request is still admitted, on local state')
    assert.equal(f.health().redis, 'redis://:***@127.0.0.1:1/0')
    assert.equal(f.leader(), true, 'alone and never connected: it runs its own schedule')
    assert.ok(lines.length >= 1 && lines.every((x) => !x.includes('s3cret-pw')), lines.join('\n'))
  })

  it('Redis killed: limits fall back to local shares at once, degradation is logged once; Redis back: resynced', async () => {
    const lines: string[] = []
    const log = createLogger({ write: (l) => lines.push(l) })
    const c = cfg()
    const f = await join(c, 'a', log)
    await join(c, 'b')
    await until('two members', () => f.health().members.length === 2)
    const l = f.parts.limiter(new Map([['p', { rpm: 10 }]]))
    await redis.kill()
    const t0 = performance.now()
    let admitted = 0
    for (let i = 0; i < 20; i++) if ((await l.tryAcquire('p', 0, Date.now())).ok) admitted++
    assert.ok(performance.now() - t0 < 2_000)
    assert.equal(admitted, 5, "half of rpm 10: this instance's share of a two-member fleet")
    await until('degraded', () => f.health().state === 'degraded')
    const warned = lines.filter((x) => x.includes('Redis unavailable'))
    assert.equal(warned.length, 1)
    assert.ok(!lines.some((x) => x.includes(redis.url) && x.includes('@')))
    await redis.restart()
    await until('reconnected', () => f.health().state === 'ok', 5_000)
    await until('membership rebuilt in the empty Redis', () => f.health().members.length === 2, 3_000)
    assert.equal(lines.filter((x) => x.includes('Redis unavailable')).length, 1)
  })
})
