/**
 * A private Redis Cluster for the fleet tests: three masters (`redis-server --cluster-enabled yes`)
 * on free ports of 127.0.0.1, no persistence, joined by `redis-cli --cluster create`, ready once
 * every node reports `cluster_state:ok`. Bounded in time: each node's start as in
 * harness/stress/redis.ts (which also moves a node whose port was taken), the joining 15 s. `stop`
 * kills every process and removes the temporary directory, also when the start failed half way. The binaries are
 * `$REDIS_SERVER` / `$REDIS_CLI` or `redis-server` / `redis-cli` on the PATH (.ci/run installs
 * both); a missing one is a failure with a clear message, never a skip.
 */
import { type ChildProcess, execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../harness/stress/proc.ts'
import { launchOn, launchOnFreePort } from '../../harness/stress/redis.ts'

export interface TestCluster {
  /** The seed node's URL (any node serves as seed). */
  readonly url: string
  readonly ports: readonly number[]
  /** `redis-cli -p PORT ARGS…` against one node, its output trimmed. */
  cli(port: number, ...args: string[]): Promise<string>
  /** The port of the master serving `key` (asked of the first node: it answers with a MOVED or itself). */
  portOf(key: string): Promise<number>
  /** Kills one node (SIGKILL: a crash). */
  kill(port: number): Promise<void>
  /** Starts a killed node again with its cluster config: it rejoins with its slots. */
  restart(port: number): Promise<void>
  stop(): Promise<void>
}

const START_MS = 15_000
const CLI = process.env.REDIS_CLI ?? 'redis-cli'

function run(bin: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, [...args], { timeout: timeoutMs }, (e, stdout, stderr) => {
      if (e && (e as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`cannot run ${bin}: not found (install redis-server, which brings redis-cli)`))
      } else if (e) reject(new Error(`${bin} ${args.join(' ')}: ${e.message} ${stdout} ${stderr}`.slice(-800)))
      else resolve(stdout.trim())
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A test server's arguments: `port` on 127.0.0.1 only, no persistence, its files in `dir`. */
export const serverArgs = (port: number, dir: string): string[] => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--protected-mode',
  'no',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
  '--dbfilename',
  `dump-${port}.rdb`,
]

/** SIGKILL (a crash, not a shutdown) and wait for the exit; nothing when it is gone already. */
export async function killProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return
  const exited = new Promise((r) => p.once('exit', r))
  p.kill('SIGKILL')
  await exited
}

/** `redis-cli -h 127.0.0.1 -p PORT ARGS…`, its output trimmed; a missing redis-cli says so. */
export const redisCli = (port: number, args: readonly string[], timeoutMs = 5_000): Promise<string> =>
  run(CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], timeoutMs)

/** Starts three masters and joins them into one cluster covering all 16384 slots. */
export async function startCluster(masters = 3): Promise<TestCluster> {
  const deadline = performance.now() + START_MS
  const left = () => Math.max(100, Math.ceil(deadline - performance.now()))
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-'))
  const procs: ChildProcess[] = []
  const ports: number[] = []
  let log = ''
  const buses = new Map<number, number>()
  const byPort = new Map<number, ChildProcess>()
  const cli = (port: number, ...args: string[]) => redisCli(port, args, left())
  const nodeArgs = (port: number) => [
    ...serverArgs(port, dir),
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-port',
    String(buses.get(port)),
    '--cluster-node-timeout',
    '2000',
  ]
  // The servers' own words, for the error when the start fails (the last few KB).
  const keepLog = (text: string) => void (log = (log + text).slice(-4_000))
  const started = (port: number, p: ChildProcess) => {
    procs.push(p)
    byPort.set(port, p)
  }
  // A node is ours once INFO answers its pid (harness/stress/redis.ts): a freshly free port (or
  // bus port) can be taken by another process before the node binds it.
  const launchNew = async () => {
    const [port, p] = await launchOnFreePort(async (port) => {
      // The bus port is given: the default (port + 10000) may be past 65535 or taken.
      buses.set(port, await freePort())
      return nodeArgs(port)
    }, keepLog)
    started(port, p)
    return port
  }
  const stop = async () => {
    await Promise.all(procs.splice(0).map(killProcess))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    // Fails at once, with the message above, when redis-cli is missing.
    await run(CLI, ['--version'], 5_000)
    for (let i = 0; i < masters; i++) ports.push(await launchNew())
    await cli(
      ports[0]!,
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    )
    for (const port of ports) {
      await waitUntil(
        `node ${port} cluster_state:ok`,
        async () => (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'),
        left,
      )
    }
  } catch (e) {
    await stop()
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${log.slice(-2000)}`)
  }
  // For the tests, after the start: its deadline is long past, and `left()`'s 100 ms floor would
  // kill redis-cli before a loaded machine had even run it ("Command failed" with no output).
  const testCli = (port: number, ...args: string[]) => redisCli(port, args)
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    ports,
    cli: testCli,
    portOf: async (key) => {
      const moved = /^MOVED \d+ [^\s]+:(\d+)/.exec(await testCli(ports[0]!, 'get', key))
      return moved ? Number(moved[1]) : ports[0]!
    },
    kill: (port) => killProcess(byPort.get(port)),
    // The same ports again (the cluster knows the node by them); rejects when one was taken meanwhile.
    restart: async (port) => started(port, await launchOn(port, nodeArgs(port), keepLog)),
    stop,
  }
}

async function waitUntil(what: string, cond: () => Promise<boolean>, left: () => number): Promise<void> {
  const end = performance.now() + left()
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`Redis Cluster: ${what} not within ${START_MS} ms of the start`)
    await sleep(50)
  }
}
