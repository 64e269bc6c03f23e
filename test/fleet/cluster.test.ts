/**
 * Fleet mode over a real Redis Cluster (three masters on free ports of 127.0.0.1, started by
 * ./cluster-redis.ts; it needs redis-server and redis-cli and fails, never skips, without them):
 * `"cluster": true` with the URL as seed node, every shared part used across two instances, and
 * every script call's keys checked to sit in one hash slot. A call that crossed slots, or touched
 * a key on another node, would fail on the cluster and show as a degraded link: none may.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { type Fleet, startFleet } from '../../src/fleet/fleet.ts'
import { fleetKeys } from '../../src/fleet/keys.ts'
import { connectRedis, RESYNC_EVERY_MS, script } from '../../src/fleet/redis.ts'
import { fleetResponseStore } from '../../src/fleet/responses.ts'
import { redisCacheStore } from '../../src/cache/redis-store.ts'
import type { FleetConfig } from '../../src/config/types.ts'
import { KeyLedger } from '../../src/keys/ledger.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { createLogger } from '../../src/log.ts'
import { memoryResponseStore } from '../../src/proxy/response-store.ts'
import type { TargetMetrics } from '../../src/perf/aggregate.ts'
import { anthropicBody, configOf, testConfigFile } from '../integration/helpers.ts'
import { startCluster, type TestCluster } from './cluster-redis.ts'
import { crossSlot, keySlot, recording, type ScriptCall } from './slot.ts'
import { statsOpts, until, usageDelta } from './support.ts'

describe('fleet mode over a real Redis Cluster', () => {
  let cluster: TestCluster
  let n = 0
  const open: { close(): Promise<void> }[] = []
  const fleets: Fleet[] = []
  const calls: ScriptCall[] = []
  const lines: string[] = []
  const log = createLogger({ write: (l) => lines.push(l) })
  const cfg = (): FleetConfig => ({
    redis: cluster.url,
    cluster: true,
    keyPrefix: `c${++n}:`,
    commandTimeoutMs: 1_000,
    heartbeatMs: 100,
    leaseTtlMs: 30_000,
  })
  /** Two instances of one fleet, every script call they make recorded. */
  const pair = async (): Promise<[Fleet, Fleet]> => {
    const c = cfg()
    const join = async (id: string) => {
      const link = recording(connectRedis({ ...c, instanceId: id }, log), calls)
      const f = await startFleet({ ...c, instanceId: id }, { log, version: 'test', redis: link })
      open.push(f)
      fleets.push(f)
      return f
    }
    return [await join('a'), await join('b')]
  }

  before(async () => {
    cluster = await startCluster()
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    await cluster?.stop()
  })

  it("the slot the tests compute is the server's, and a fleet's keys spread over the masters", async () => {
    const k = fleetKeys('switchyard:')
    const sample = [
      'foo',
      k.members,
      k.breakers,
      k.limits('openrouter').rpm,
      k.usage('2026-11-30'),
      k.keyUsage('2026-11-30'),
      k.apiKey('ci').spend,
      k.dedup('abc'),
      fleetKeys('a{b}c:').leader,
      'x{}{y}',
      '{}z',
    ]
    const server = await Promise.all(sample.map((key) => cluster.cli(cluster.ports[0]!, 'cluster', 'keyslot', key)))
    assert.deepEqual(sample.map(keySlot), server.map(Number))
    const owners = new Set(
      await Promise.all(
        [k.members, k.breakers, k.usageDays, k.samples, k.leader, k.responseIndex, k.apiKey('ci').rpm].map((key) =>
          cluster.portOf(key)
        ),
      ),
    )
    assert.ok(owners.size >= 2, 'the groups of keys live on more than one master')
  })

  it('membership, the perf-test leader lease, and one rpm / tpm / concurrency budget (admission and release)', async () => {
    const [a, b] = await pair()
    await until('both members seen', () => a.health().members.length === 2 && b.health().members.length === 2)
    await until('one leader', () => [a, b].filter((f) => f.leader()).length === 1)
    const la = a.parts.limiter(new Map([['p', { rpm: 3 }], ['q', { maxConcurrent: 1, tpm: 1_000 }]]))
    const lb = b.parts.limiter(new Map([['p', { rpm: 3 }], ['q', { maxConcurrent: 1, tpm: 1_000 }]]))
    let admitted = 0
    for (let i = 0; i < 3; i++) for (const l of [la, lb]) if ((await l.tryAcquire('p', 0, Date.now())).ok) admitted++
    assert.equal(admitted, 3)
    const held = await la.tryAcquire('q', 800, Date.now())
    assert.ok(held.ok)
    const busy = await lb.tryAcquire('q', 100, Date.now())
    assert.ok(!busy.ok && busy.reason === 'concurrency')
    held.release(100) // the slot comes back, and 700 of the 800 tokens reserved
    await until('the slot and the unused tokens are back', async () => {
      const r = await lb.tryAcquire('q', 800, Date.now())
      if (r.ok) r.release(0)
      return r.ok
    })
  })

  it('a breaker tripped on one instance is open on the other (pub/sub through the cluster); holds too', async () => {
    const [a, b] = await pair()
    const sa = a.parts.stats(statsOpts)
    const sb = b.parts.stats(statsOpts)
    for (let i = 0; i < 2; i++) sa.begin('p,m', Date.now()).fail(Date.now(), 'server_error')
    await until('b sees it open', () => !sb.allows('p,m', Date.now()).allowed, 2_000)
    assert.equal(sb.snapshot('p,m', Date.now()).breaker.kind, 'open')
    await new Promise((r) => setTimeout(r, 350))
    let prober: typeof sa | undefined
    await until('one probe', () => {
      prober = [sa, sb].find((s) => s.allows('p,m', Date.now()).allowed)
      return prober !== undefined
    })
    prober!.begin('p,m', Date.now()).succeed(Date.now())
    await until('closed on both', () => sa.allows('p,m', Date.now()).allowed && sb.allows('p,m', Date.now()).allowed)
    a.parts.holds.note('h,m', { kind: 'rate_limited', target: 'h,m', retryAfterMs: 2_000, message: 'slow' }, Date.now())
    await until('b holds h,m', () => b.parts.holds.remaining('h,m', Date.now()) > 1_000)
  })

  it('usage and named keys: totals of both instances, spend and rpm per key, measurements, perf results and budget', async () => {
    const [a, b] = await pair()
    a.parts.usage.add(usageDelta(2))
    b.parts.usage.add(usageDelta(3))
    a.parts.usage.addKey('ci', { requests: 2, inputTokens: 20, outputTokens: 10, costUsd: 1 })
    b.parts.usage.addKey('ci', { requests: 3, inputTokens: 30, outputTokens: 15, costUsd: 1.5 })
    await b.parts.usage.flush()
    const snap = await a.parts.usage.snapshot()
    assert.equal(snap?.total.requests, 5)
    assert.deepEqual(snap?.keys.ci, { requests: 5, inputTokens: 50, outputTokens: 25, costUsd: 2.5, todayUsd: 2.5 })
    // A named key's rpm and daily budget are the fleet's.
    const keys = [{ name: 'ci', key: 'sk-ci-secret', rpm: 4, budgetUsdPerDay: 1 }]
    const ka = new KeyLedger(keys, undefined, a.parts.keyLimits)
    const kb = new KeyLedger(keys, undefined, b.parts.keyLimits)
    let ok = 0
    for (let i = 0; i < 3; i++) for (const k of [ka, kb]) if ((await k.check('ci', Date.now())) === undefined) ok++
    assert.equal(ok, 4)
    kb.record('ci', Date.now(), { inputTokens: 1, outputTokens: 1, costUsd: 2 })
    const ka2 = new KeyLedger([{ ...keys[0]!, rpm: 1_000 }], undefined, a.parts.keyLimits)
    await until(
      'over budget on the other instance',
      async () => (await ka2.check('ci', Date.now()))?.reason === 'budget',
    )
    // Measurements and the leader's perf results travel; the perf budget is one.
    const t0 = Date.now() - 2_000
    const s = a.parts.stats(statsOpts)
    s.begin('p,m', t0).succeed(t0 + 200)
    await a.samples.exchange()
    await b.samples.exchange()
    assert.equal(b.parts.stats(statsOpts).snapshot('p,m', t0 + 1_000).samples, 1)
    const m = {
      target: 'p,m',
      provider: 'p',
      model: 'm',
      successRate: 1,
      errorRate: 0,
      testCount: 3,
      avgLatencyMs: 120,
    }
    await a.perf.publish([{ ...m, lastTested: Date.now() - 1_000 } as TargetMetrics])
    await b.perf.pull()
    assert.equal(b.perf.latest()[0]?.avgLatencyMs, 120)
    assert.equal(await a.budget.reserve(600, 1_000), true)
    assert.equal(await b.budget.reserve(600, 1_000), false)
  })

  it('dedup, previous_response_id conversations, the response cache and alert claims', async () => {
    const [a, b] = await pair()
    let calls_ = 0
    const answer = (text: string, ms: number) => async () => {
      calls_++
      await new Promise((r) => setTimeout(r, ms))
      return { status: 200, headers: [] as [string, string][], body: new TextEncoder().encode(text) }
    }
    const signal = new AbortController().signal
    const first = a.dedup.run('k1', signal, answer('{"from":"a"}', 200))
    await new Promise((r) => setTimeout(r, 30))
    const second = await b.dedup.run('k1', signal, answer('{"from":"b"}', 0))
    assert.equal(new TextDecoder().decode(second.answer.body), '{"from":"a"}')
    assert.equal((await first).shared, false)
    assert.equal(calls_, 1)
    const local = () => memoryResponseStore({ now: Date.now })
    const wa = fleetResponseStore({ redis: a.redis, keys: a.keys, local: local(), maxEntries: 2 })
    const rb = fleetResponseStore({ redis: b.redis, keys: b.keys, local: local() })
    const kept = (i: number) => ({
      input: [{ i }],
      response: { id: `resp_${i}`, output: [{ type: 'message', id: `msg_${i}`, content: [] }] },
    })
    for (let i = 0; i < 3; i++) await wa.put(kept(i))
    assert.deepEqual(await rb.get('resp_2'), kept(2))
    assert.equal(await rb.get('resp_0'), undefined, 'the oldest went first')
    assert.equal(await rb.itemOwner('msg_2'), 'resp_2', 'the item pointers share the slot')
    assert.equal(await rb.delete('resp_2'), true)
    assert.equal(await rb.get('resp_2'), undefined)
    const ca = redisCacheStore(a.redis, { prefix: a.keys.prefix, maxBytes: 100_000 })
    const cb = redisCacheStore(b.redis, { prefix: b.keys.prefix, maxBytes: 100_000 })
    await ca.set('h1', { format: 'anthropic', body: { x: 1 }, target: 'p,m', storedAt: 1 } as never, 10_000, Date.now())
    assert.deepEqual((await cb.get('h1', Date.now()))?.body, { x: 1 })
    const t = { kind: 'fire', alert: { rule: 'breaker_open', subject: 'p,m' } } as const
    assert.deepEqual([await a.alerts.claim(t), await b.alerts.claim(t)], [true, false])
  })

  it('a whole instance with `"cluster": true`: GET /v1/usage sums both instances (scope fleet), keys too', async () => {
    const mock = createMockUpstream({})
    const file = testConfigFile({
      APIKEY: 'sk-admin',
      Keys: [{ name: 'team', key: 'sk-team-0123456789', rpm: 100 }],
      Fleet: { redis: cluster.url, cluster: true, keyPrefix: 'app:', heartbeatMs: 200, commandTimeoutMs: 1_000 },
    })
    const start = async (id: string): Promise<AppInstance> => {
      const f = { ...file, Fleet: { ...(file.Fleet as object), instanceId: id } }
      const i = await createInstance(configOf(f), { dataDir: ':memory:', fetch: mock.fetch, log })
      open.push(i)
      return i
    }
    const apps = [await start('x'), await start('y')]
    for (const [i, app] of apps.entries()) {
      for (let j = 0; j <= i; j++) {
        const r = await app.app.request('/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': 'sk-team-0123456789' },
          body: JSON.stringify(anthropicBody('anth,mock-a', { stream: j === 0 })),
        })
        assert.equal(r.status, 200)
        await r.text()
      }
    }
    const get = async (app: AppInstance, path: string) =>
      await (await app.app.request(path, { headers: { 'x-api-key': 'sk-admin' } })).json() as {
        scope?: string
        total: { requests: number }
        keys: Record<string, { requests: number }>
        fleet?: { state: string; members: unknown[] }
      }
    await get(apps[1]!, '/v1/usage') // y flushes its totals
    const u = await get(apps[0]!, '/v1/usage')
    assert.equal(u.scope, 'fleet')
    assert.equal(u.total.requests, 3)
    assert.equal(u.keys.team?.requests, 3)
    assert.equal((await get(apps[0]!, '/v1/usage?scope=instance')).total.requests, 1)
    const h = await get(apps[0]!, '/health')
    assert.equal(h.fleet?.state, 'ok')
  })

  it('every script call of the tests above kept its keys in one slot, and no call failed on the cluster', () => {
    assert.ok(calls.length > 50, `${calls.length} calls recorded`)
    assert.ok(new Set(calls.map((c) => c.script.sha)).size >= 20, 'most of the fleet scripts were used')
    assert.deepEqual(crossSlot(calls), [])
    assert.deepEqual(lines.filter((l) => /unavailable|error/i.test(l)), [])
    for (const f of fleets) assert.equal(f.redis.state, 'ok')
  })

  it('a master killed: calls to its slots fail at once onto local state, logged once, resynced once per interval; restarted: shared again', async () => {
    const faults: string[] = []
    const flog = createLogger({ write: (l) => faults.push(l) })
    const c = { ...cfg(), commandTimeoutMs: 200 }
    const join = async (id: string) => {
      const f = await startFleet({ ...c, instanceId: id }, { log: flog, version: 'test' })
      open.push(f)
      return f
    }
    const [a, b] = [await join('a'), await join('b')]
    await until('two members', () => a.health().members.length === 2 && b.health().members.length === 2)
    // Two providers whose limit keys live on the same master, one the seed node is not.
    const port = await cluster.portOf(a.keys.limits('p').rpm)
    const names = Array.from({ length: 12 }, (_, i) => `q${i}`)
    const owners = await Promise.all(names.map((n) => cluster.portOf(a.keys.limits(n).rpm)))
    const q = owners.indexOf(port)
    assert.ok(q >= 0)
    const limits = new Map([['p', { rpm: 3 }], [`q${q}`, { rpm: 3 }]])
    const [la, lb] = [a.parts.limiter(limits), b.parts.limiter(limits)]
    await cluster.kill(port)
    const t0 = performance.now()
    const first = await la.tryAcquire('p', 0, Date.now())
    const took = performance.now() - t0
    assert.ok(first.ok, 'admitted on local state')
    assert.equal(a.health().state, 'degraded')
    assert.ok(took < 500, `the first admission with its node gone took ${took.toFixed(0)} ms`)
    const t1 = performance.now()
    for (let i = 0; i < 5; i++) await la.tryAcquire('p', 0, Date.now())
    assert.ok(performance.now() - t1 < 100, 'degraded: the hot path leaves Redis alone for a while')
    // The link flips with every call: one for the dead master's slots fails, one for a live
    // master's succeeds. Each flip back to ok used to resynchronise; now at most one per interval.
    const resyncs: number[] = []
    a.redis.onRecovered(() => resyncs.push(performance.now()))
    const live = a.keys.limits(names[owners.findIndex((o) => o !== port)]!).rpm
    const probe = script('return 1')
    const state = () => a.redis.state
    let flips = 0
    const w0 = performance.now()
    const wall0 = Date.now()
    while (performance.now() - w0 < 3_000) {
      await a.redis.run(probe, [a.keys.limits('p').rpm], [])
      const down = state() === 'degraded'
      await a.redis.run(probe, [live], [])
      if (down && state() === 'ok') flips++
      await new Promise((r) => setTimeout(r, 20))
    }
    const w1 = performance.now()
    const wall1 = Date.now()
    const during = resyncs.filter((t) => t >= w0 && t <= w1).length
    assert.ok(flips >= 20, `${flips} flips from degraded to ok in 3 s`)
    // Resyncs are RESYNC_EVERY_MS (5 s) apart, so a 3 s window holds at most one.
    assert.ok(during <= 1, `${during} resyncs during ${flips} flips`)
    await cluster.restart(port)
    await until('the node serves its slots again', async () => {
      try {
        return (await cluster.cli(port, 'cluster', 'info')).includes('cluster_state:ok')
      } catch {
        return false
      }
    }, 10_000)
    await until('both back', () => a.health().state === 'ok' && b.health().state === 'ok', 5_000)
    // The flips of the window owe a resync: it runs once the interval ends with the link up.
    await until('a resync after the last flip', () => resyncs.some((t) => t >= w1), RESYNC_EVERY_MS + 5_000)
    const lines = faults.filter((l) => l.includes('Redis unavailable'))
    // Once per instance per LOG_EVERY_MS (10 s) of flapping, however many flips. (The restart
    // that follows leaves the cluster down for seconds: an outage, which may add its own line.)
    const at = (l: string) => Date.parse((JSON.parse(l) as { time: string }).time)
    const inWindow = lines.filter((l) => at(l) >= wall0 && at(l) <= wall1)
    assert.ok(lines.length >= 1, `the degradation logged:\n${faults.join('\n')}`)
    assert.ok(
      inWindow.length <= 2,
      `${flips} flips in 3 s logged at most once per instance:\n${faults.join('\n')}`,
    )
    const back = faults.filter((l) => l.includes('Redis reachable again'))
    assert.ok(
      back.length <= lines.length,
      `a recovery line per logged degradation, not per flap:\n${faults.join('\n')}`,
    )
    // The fleet's rpm again on that node, not two local shares. Each instance first makes one
    // admission there through Redis: its client may still be reconnecting to the restarted node
    // (with backoff, up to 2 s), and until then its calls there fail onto local state.
    let admitted = 0
    for (const [f, l] of [[a, la], [b, lb]] as const) {
      await until(`a fleet-wide admission through the restarted node (${f.id})`, async () => {
        const remote = f.redis.usable() // false: this try is decided locally and takes no token in Redis
        const r = await l.tryAcquire(`q${q}`, 0, Date.now())
        return remote && r.ok && f.redis.state === 'ok'
      }, 5_000)
      admitted++
    }
    for (let i = 0; i < 3; i++) {
      for (const l of [lb, la]) if ((await l.tryAcquire(`q${q}`, 0, Date.now())).ok) admitted++
    }
    assert.equal(admitted, 3)
  })
})
