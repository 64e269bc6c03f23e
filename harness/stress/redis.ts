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

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' })
    const done = (ok: boolean) => {
      sock.destroy()
      resolve(ok)
    }
    sock.setTimeout(500, () => done(false))
    sock.once('error', () => done(false))
    sock.once('connect', () => sock.write('PING\r\n'))
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')))
  })
}

async function waitFor(port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await ping(port)) === up) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server on port ${port} did not ${up ? 'start' : 'stop'} within 5 s`)
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort()
  const bin = process.env.REDIS_SERVER ?? 'redis-server'
  let proc: ChildProcess | undefined
  const launch = async () => {
    proc = spawn(bin, [
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
    ], { stdio: 'ignore' })
    proc.once('error', (e) => {
      throw new Error(`cannot run ${bin}: ${e.message} (install redis-server)`)
    })
    await waitFor(port, true)
  }
  const kill = async () => {
    if (!proc) return
    const p = proc
    proc = undefined
    const exited = new Promise((r) => p.once('exit', r))
    p.kill('SIGKILL')
    await exited
    await waitFor(port, false)
  }
  await launch()
  return { port, url: `redis://127.0.0.1:${port}/0`, kill, restart: launch, stop: kill }
}

/** A `redis-server --sentinel` watching the primary on `primaryPort` as `name` (quorum 1). */
export async function startSentinel(
  primaryPort: number,
  name: string,
): Promise<{ readonly port: number; stop(): Promise<void> }> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sentinel-'))
  const conf = join(dir, 'sentinel.conf')
  writeFileSync(
    conf,
    `port ${port}\nbind 127.0.0.1\nprotected-mode no\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 ${primaryPort} 1\n`,
  )
  const proc = spawn(process.env.REDIS_SERVER ?? 'redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
  await waitFor(port, true)
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
