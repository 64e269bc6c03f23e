/**
 * A private `redis-server` for the fleet tests and `harness fleet`: its own free port on 127.0.0.1, no
 * persistence, killed and restarted at will (fault tests), removed at the end. The binary is
 * `$REDIS_SERVER` or `redis-server` on the PATH (.ci/run installs it when missing).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './proc.ts'

export interface TestRedis {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL: a crash, not a shutdown). */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/**
 * The process id of the Redis answering on `port` (`INFO server`), or undefined when none does.
 * A freshly free port can be taken by another process before our server binds it (other test
 * runs on the machine, or a restart on the same port): only our own pid proves it is ours.
 */
export function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (pid: number | undefined) => {
      sock.destroy()
      resolve(pid)
    }
    sock.setTimeout(500, () => done(undefined))
    sock.once('error', () => done(undefined))
    sock.once('connect', () => sock.write('INFO server\r\n'))
    sock.on('data', (d) => {
      reply += d.toString()
      const pid = /^process_id:(\d+)\r?$/m.exec(reply)
      if (pid) done(Number(pid[1]))
      else if (reply.startsWith('-')) done(undefined)
    })
  })
}

/**
 * Spawns `redis-server args` and waits until that very process answers on `port`; rejects when it
 * exits first (port taken). `onOutput`, when given, gets the server's stdout and stderr.
 */
export async function launchOn(
  port: number,
  args: readonly string[],
  onOutput?: (text: string) => void,
): Promise<ChildProcess> {
  const bin = process.env.REDIS_SERVER ?? 'redis-server'
  const proc = spawn(bin, args, { stdio: onOutput ? ['ignore', 'pipe', 'pipe'] : 'ignore' })
  if (onOutput) { for (const s of [proc.stdout, proc.stderr]) s?.on('data', (d: Buffer) => onOutput(String(d))) }
  let exited = false
  proc.once('exit', () => exited = true)
  const spawnError = new Promise<never>((_, reject) =>
    proc.once('error', (e) => reject(new Error(`cannot run ${bin}: ${e.message} (install redis-server)`)))
  )
  const ours = async () => {
    for (let i = 0; i < 100 && !exited; i++) {
      if ((await serverPid(port)) === proc.pid) return proc
      await new Promise((r) => setTimeout(r, 50))
    }
    proc.kill('SIGKILL')
    throw new Error(`redis-server on port ${port} ${exited ? 'exited (port taken?)' : 'did not start within 5 s'}`)
  }
  return await Promise.race([ours(), spawnError])
}

/**
 * Launches on a free port, and on another one when the port was taken before the server bound it
 * (`args` is asked again for each port, so ports it picks itself, like a cluster bus, change too).
 */
export async function launchOnFreePort(
  args: (port: number) => readonly string[] | Promise<readonly string[]>,
  onOutput?: (text: string) => void,
): Promise<[number, ChildProcess]> {
  for (let attempt = 1;; attempt++) {
    const port = await freePort()
    try {
      return [port, await launchOn(port, await args(port), onOutput)]
    } catch (e) {
      if (attempt >= 5) throw e
    }
  }
}

async function waitGone(port: number, pid: number | undefined): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await serverPid(port)) !== pid) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server on port ${port} did not stop within 5 s`)
}

const serverArgs = (port: number) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--protected-mode',
  'no',
]

export async function startRedis(): Promise<TestRedis> {
  const [port, first] = await launchOnFreePort(serverArgs)
  let proc: ChildProcess | undefined = first
  const kill = async () => {
    if (!proc) return
    const p = proc
    proc = undefined
    const exited = new Promise((r) => p.once('exit', r))
    p.kill('SIGKILL')
    await exited
    await waitGone(port, p.pid)
  }
  // The same port again (the clients under test reconnect to the URL they were given); rejects
  // when another process took it meanwhile, instead of handing the test someone else's server.
  const restart = async () => {
    proc = await launchOn(port, serverArgs(port))
  }
  return { port, url: `redis://127.0.0.1:${port}/0`, kill, restart, stop: kill }
}

/** A `redis-server --sentinel` watching the primary on `primaryPort` as `name` (quorum 1). */
export async function startSentinel(
  primaryPort: number,
  name: string,
): Promise<{ readonly port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sentinel-'))
  const conf = join(dir, 'sentinel.conf')
  const [port, proc] = await launchOnFreePort((port) => {
    writeFileSync(
      conf,
      `port ${port}\nbind 127.0.0.1\nprotected-mode no\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 ${primaryPort} 1\n`,
    )
    return [conf, '--sentinel']
  })
  return {
    port,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGKILL')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
