/**
 * Fleet mode through Redis Sentinel across a failover: a primary, its replica and one sentinel
 * (quorum 1, the primary called down after 500 ms), each its own process on a free port of
 * 127.0.0.1. The primary is killed; the sentinel promotes the replica and both instances follow
 * it, sharing limits again on the new primary. (Finding the primary through a sentinel is also
 * in fleet.test.ts.) Every process is killed and the directory removed at the end.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Fleet, startFleet } from '../../src/fleet/fleet.ts'
import { createLogger } from '../../src/log.ts'
import { launchOnFreePort } from '../../harness/stress/redis.ts'
import { killProcess, redisCli, serverArgs } from './cluster-redis.ts'
import { until } from './support.ts'

const NAME = 'sy-failover'

describe('fleet mode through Redis Sentinel, across a failover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sentinel-'))
  const procs = new Map<number, ChildProcess>()
  const open: Fleet[] = []
  let primary = 0
  let replica = 0
  let sentinel = 0

  // A free port, and another one when someone took it before our server bound it: the server is
  // ours once INFO answers its pid (harness/stress/redis.ts).
  const launch = async (args: (port: number) => string[]): Promise<number> => {
    const [port, p] = await launchOnFreePort(args)
    procs.set(port, p)
    return port
  }
  const kill = (port: number) => killProcess(procs.get(port))
  const server = (port: number, ...extra: string[]) => [
    ...serverArgs(port, dir),
    // The replica's first sync starts at once (the default waits 5 s for more replicas).
    '--repl-diskless-sync-delay',
    '0',
    ...extra,
  ]

  before(async () => {
    primary = await launch((port) => server(port))
    replica = await launch((port) => server(port, '--replicaof', '127.0.0.1', String(primary)))
    await until(
      'the replica in sync',
      async () => (await redisCli(replica, ['info', 'replication'])).includes('master_link_status:up'),
      5_000,
    )
    const conf = join(dir, 'sentinel.conf')
    sentinel = await launch((port) => {
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${NAME} 127.0.0.1 ${primary} 1`,
          `sentinel down-after-milliseconds ${NAME} 500`,
          `sentinel failover-timeout ${NAME} 3000`,
          '',
        ].join('\n'),
      )
      return [conf, '--sentinel']
    })
    await until(
      'the sentinel knows the replica',
      async () => (await redisCli(sentinel, ['sentinel', 'replicas', NAME])).includes(String(replica)),
      5_000,
    )
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    for (const port of procs.keys()) await kill(port)
    rmSync(dir, { recursive: true, force: true })
  })

  it('the primary killed: the sentinel promotes the replica and both instances share limits on it', async () => {
    const lines: string[] = []
    const log = createLogger({ write: (l) => lines.push(l) })
    const c = {
      redis: 'redis://127.0.0.1:1/0',
      sentinel: { name: NAME, nodes: [`127.0.0.1:${sentinel}`] },
      keyPrefix: 'sf:',
      commandTimeoutMs: 200,
      heartbeatMs: 100,
      leaseTtlMs: 30_000,
      cluster: false,
    }
    for (const id of ['a', 'b']) open.push(await startFleet({ ...c, instanceId: id }, { log, version: 'test' }))
    const [a, b] = open as [Fleet, Fleet]
    await until('both members seen', () => a.health().members.length === 2 && b.health().members.length === 2)
    await kill(primary)
    await until('degraded', () => a.health().state === 'degraded', 3_000)
    const admitted = await a.parts.limiter(new Map([['p', { rpm: 3 }]])).tryAcquire('p', 0, Date.now())
    assert.ok(admitted.ok, 'admitted on local state meanwhile')
    await until(
      'the replica promoted',
      async () => (await redisCli(sentinel, ['sentinel', 'get-master-addr-by-name', NAME])).includes(String(replica)),
      10_000,
    )
    await until('both on the new primary', () => a.health().state === 'ok' && b.health().state === 'ok', 10_000)
    await until('membership rebuilt there', () => a.health().members.length === 2, 3_000)
    const limits = new Map([['q', { rpm: 3 }]])
    const [la, lb] = [a.parts.limiter(limits), b.parts.limiter(limits)]
    let n = 0
    for (let i = 0; i < 3; i++) for (const l of [la, lb]) if ((await l.tryAcquire('q', 0, Date.now())).ok) n++
    assert.equal(n, 3, "the fleet's rpm, not two local shares")
    assert.match(await redisCli(replica, ['info', 'replication']), /role:master/)
    assert.ok(lines.some((l) => l.includes('Redis reachable again')))
  })
})
