/**
 * Not a test: a measurement. What one admission from the leased pools allocates and costs, the
 * FleetLimiter of the checkout at ROOT (default: this one) alone, on a link that grants every
 * lease at once (no Redis): a provider with `rpm`, `tpm` and `maxConcurrent` that never bind,
 * fleet size 3, 200,000 admissions to warm up, then 500,000 each released at once, the clock
 * moving 10 µs per admission. Prints bytes allocated and CPU ns per admission.
 *
 * Bytes are the heap's growth, so they mean something under Deno with a young generation large
 * enough that nothing is collected during the run (add `--trace-gc` to the V8 flags to see
 * that no scavenge ran while measuring):
 *
 *   deno run -A --no-check --config ROOT/deno.json \
 *     --v8-flags=--max-semi-space-size=1024,--min-semi-space-size=1024 test/fleet/admission-heap.ts ROOT
 *   bun test/fleet/admission-heap.ts ROOT      (CPU only: Bun's heapUsed does not follow allocations)
 */
/** Deno's namespace when running there (this file is type-checked with Bun's types only). */
const deno = (globalThis as { Deno?: { args: string[]; memoryUsage(): { heapUsed: number } } }).Deno
const args = deno?.args ?? process.argv.slice(2)
const root = args[0] ?? new URL('../../', import.meta.url).pathname
const { fleetKeys } = await import(`${root}/src/fleet/keys.ts`)
const { FleetLimiter } = await import(`${root}/src/fleet/limiter.ts`)

type Acquired = { ok: boolean; release?: (t?: number) => void }
let scripts = 0
const link = {
  state: 'ok',
  url: 'redis://granting',
  usable: () => true,
  latencyMs: () => 0,
  // LEASE (11 arguments): all it wants of each limit; anything else (GIVE, RENEW) succeeds.
  run: (_s: unknown, _k: unknown, a: readonly unknown[]) => {
    scripts++
    return Promise.resolve(a.length === 11 ? [1, a[4], a[6], a[8]] : 1)
  },
  publish: () => Promise.resolve(),
  subscribe: () => Promise.resolve(),
  ready: () => Promise.resolve(),
  onRecovered: () => {},
  close: () => Promise.resolve(),
}
const limiter = new FleetLimiter({
  redis: link,
  keys: fleetKeys('heap:'),
  instanceId: 'heap',
  limits: new Map([['p', { rpm: 10_000_000, tpm: 100_000_000, maxConcurrent: 100_000 }]]),
  leaseTtlMs: 30_000,
  fleetSize: () => 3,
})

let clock = 1_000_000
let fromPool = 0
async function admit(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    clock += 0.01
    const p = limiter.tryAcquire('p', 100, clock) as Acquired | Promise<Acquired>
    // Awaited only when it is a promise: awaiting an answer allocates a promise of its own.
    let a: Acquired
    if (p instanceof Promise) a = await p
    else {
      a = p
      fromPool++
    }
    a.release?.(80)
    // Background refills and returns land between admissions now and then, as under traffic.
    if (i % 4096 === 0) await new Promise((r) => setTimeout(r, 0))
  }
}
const heapUsed = () => deno?.memoryUsage().heapUsed ?? 0
const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

await admit(200_000)
const N = 500_000
fromPool = 0
scripts = 0
const [h0, c0] = [heapUsed(), cpuUs()]
await admit(N)
const [c1, h1] = [cpuUs(), heapUsed()]
console.log(JSON.stringify({
  root,
  runtime: deno ? 'deno' : 'bun',
  fromPool: fromPool / N,
  scriptsPerAdmission: scripts / N,
  // Bun's heapUsed does not follow allocations between collections: no figure there.
  bytesPerAdmission: deno ? Math.round((h1 - h0) / N) : null,
  cpuNsPerAdmission: Math.round(((c1 - c0) * 1_000) / N),
}))
await limiter.close()
