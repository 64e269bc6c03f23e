/**
 * Not a test: a measurement. `bun test/fleet/admission-probe.ts [ROOT]` drives the FleetLimiter
 * of the checkout at ROOT (default: this one) in process against a private redis-server, for a
 * provider with `rpm` 10,000,000 and `maxConcurrent` 100,000 (like `fast` in harness/fleet.ts),
 * fleet size 3, at concurrency 1 and 8 (each admission released one tick later), 2 s each, and
 * prints per admission: Redis round trips awaited before it was decided, scripts run (request
 * path and background), and client CPU time. Run it before and after a change, interleaved:
 * `bun test/fleet/admission-probe.ts <checkout of main>`, then without an argument.
 */
import { startRedis } from '../../harness/stress/redis.ts'

const root = process.argv[2] ?? new URL('../../', import.meta.url).pathname
const { connectRedis } = await import(`${root}/src/fleet/redis.ts`)
const { fleetKeys } = await import(`${root}/src/fleet/keys.ts`)
const { FleetLimiter } = await import(`${root}/src/fleet/limiter.ts`)
const { silentLogger } = await import(`${root}/src/log.ts`)

type Release = { ok: boolean; release?: (t?: number) => void }
const redis = await startRedis()
const link = connectRedis({
  redis: redis.url,
  keyPrefix: 'probe:',
  commandTimeoutMs: 1_000,
  heartbeatMs: 1_000,
  leaseTtlMs: 30_000,
  cluster: false,
}, silentLogger)
await link.ready(2_000)
let scripts = 0
const counted = {
  ...link,
  usable: () => link.usable(),
  run: (s: unknown, k: unknown, a: unknown) => {
    scripts++
    return link.run(s, k, a)
  },
}
const limiter = new FleetLimiter({
  redis: counted,
  keys: fleetKeys('probe:'),
  instanceId: 'probe',
  limits: new Map([['p', { rpm: 10_000_000, maxConcurrent: 100_000 }]]),
  leaseTtlMs: 30_000,
  fleetSize: () => 3,
})
for (const c of [1, 8]) {
  let n = 0
  let waited = 0
  scripts = 0
  const cpu0 = process.cpuUsage()
  const end = performance.now() + 2_000
  await Promise.all(Array.from({ length: c }, async () => {
    while (performance.now() < end) {
      const p = limiter.tryAcquire('p', 100, Date.now())
      if (p instanceof Promise) waited++
      const a = (await p) as Release
      if (!a.ok) continue
      n++
      await new Promise((r) => setImmediate(r))
      a.release?.(50)
    }
  }))
  const cpu = process.cpuUsage(cpu0)
  console.log(JSON.stringify({
    root,
    concurrency: c,
    admissions: n,
    roundTripsAwaitedPerAdmission: Number((waited / n).toFixed(4)),
    scriptsPerAdmission: Number((scripts / n).toFixed(4)),
    cpuUsPerAdmission: Number(((cpu.user + cpu.system) / n).toFixed(1)),
  }))
}
await limiter.close?.()
await link.close()
await redis.stop()
process.exit(0)
