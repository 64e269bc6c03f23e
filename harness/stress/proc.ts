/**
 * Child processes for the harness (the proxy under test, the mock) and their resource use,
 * read from /proc (Linux; elsewhere the figures are reported as unknown).
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every mainstream Linux build). */
const USER_HZ = 100

export interface ProcSample {
  readonly rssMb: number
  readonly hwmMb: number
  readonly cpuSec: number
}

/** utime + stime (fields 14 and 15) of a /proc stat line; field 2 (comm) may contain spaces, so split after its closing parenthesis. */
function cpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** Current RSS, peak RSS (VmHWM) and user+system CPU seconds of `pid`; undefined off Linux. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN)
    const ticks = cpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSec: ticks / USER_HZ }
  } catch {
    return undefined
  }
}

/**
 * CPU seconds so far of the first thread of `pid` alone (its task whose id is the pid), where Bun
 * runs JavaScript; undefined off Linux.
 */
export function mainThreadCpuSec(pid: number): number | undefined {
  try {
    return cpuTicks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')) / USER_HZ
  } catch {
    return undefined
  }
}

/**
 * CPU seconds so far of the threads of `pid` whose name starts with `prefix` (Bun's JIT compiler
 * threads are `JITWorker`); undefined off Linux or when the process has no such thread.
 */
export function threadCpuSec(pid: number, prefix: string): number | undefined {
  try {
    let ticks = 0
    let found = false
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith(prefix)) continue
      ticks += cpuTicks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
      found = true
    }
    return found ? ticks / USER_HZ : undefined
  } catch {
    return undefined
  }
}

/** Samples RSS of a process every `intervalMs`, tracking the peak and the CPU used meanwhile. */
export class ProcSampler {
  #pid: number
  #timer: ReturnType<typeof setInterval> | undefined
  #peak = 0
  #cpu0 = Number.NaN

  constructor(pid: number) {
    this.#pid = pid
  }

  start(intervalMs = 50): void {
    const s = readProc(this.#pid)
    this.#cpu0 = s?.cpuSec ?? Number.NaN
    this.#peak = s?.rssMb ?? 0
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, readProc(this.#pid)?.rssMb ?? 0)
    }, intervalMs)
  }

  /** Peak RSS (MB) while sampling and CPU seconds since `start`. */
  stop(): { peakRssMb: number; cpuSec: number; rssMb: number } {
    clearInterval(this.#timer)
    const s = readProc(this.#pid)
    return {
      peakRssMb: Math.max(this.#peak, s?.rssMb ?? 0) || Number.NaN,
      cpuSec: (s?.cpuSec ?? Number.NaN) - this.#cpu0,
      rssMb: s?.rssMb ?? Number.NaN,
    }
  }
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** Polls `url`/health every 100 ms until it answers 200; throws after 30 s. */
export async function untilHealthy(url: string): Promise<void> {
  for (let i = 0;; i++) {
    if (i > 300) throw new Error('proxy did not answer /health within 30 s')
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

const started = new Set<ChildProcess>()

/** SIGKILL every child this process started and that still runs (global timeout, Ctrl-C). */
export function killStarted(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
}

export interface Child {
  readonly url: string
  readonly pid: number
  readonly output: () => string
  stop(): Promise<void>
}

/**
 * Spawn `cmd args` and wait until it prints `listening on http://…` (the proxy's and the
 * mock's ready line). Rejects with the child's output when it exits or `timeoutMs` passes.
 */
export function spawnServer(cmd: string, args: readonly string[], timeoutMs: number): Promise<Child> {
  const child: ChildProcess = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  child.once('exit', () => started.delete(child))
  let out = ''
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve()
        return
      }
      const kill = setTimeout(() => child.kill('SIGKILL'), 3_000)
      child.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      child.kill('SIGTERM')
    })
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`${cmd} did not report "listening on" within ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    const onData = (b: Buffer): void => {
      out += b.toString()
      if (out.length > 64_000) out = out.slice(-32_000)
      const m = /listening on (http:\/\/[^\s]+)/.exec(out)
      if (m?.[1] !== undefined && child.pid !== undefined) {
        clearTimeout(timer)
        resolve({ url: m[1].replace(/\/$/, ''), pid: child.pid, output: () => out, stop })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${cmd} exited with ${code} before listening:\n${out}`))
    })
  })
}

/** Bun's fetch keeps at most 256 requests in flight unless this is raised before start-up. */
const MAX_HTTP_REQUESTS = '65000'

/**
 * Under Bun, with its fetch limit not raised yet: runs this same command again with
 * BUN_CONFIG_MAX_HTTP_REQUESTS raised (the load generator's own fetch must not queue at 256, see
 * harness/README.md) and returns that run's exit code. Undefined when there is nothing to do: go on.
 */
export function rerunWithFetchLimit(): number | undefined {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS !== undefined || !('Bun' in globalThis)) return undefined
  const r = spawnSync(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: MAX_HTTP_REQUESTS },
  })
  return r.status ?? 1
}
