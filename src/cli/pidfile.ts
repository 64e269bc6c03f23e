/**
 * The PID file under the data dir, with stale-PID detection that checks both that the process
 * exists and that something answering as Switchyard listens on the recorded port (a recycled
 * PID or a crashed instance is not "running": CCR's PID check is a top complaint).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { localBaseUrl } from './env.ts'

export interface PidRecord {
  readonly pid: number
  readonly host: string
  readonly port: number
  readonly version: string
  readonly startedAt: string
}

export const pidPath = (dataDir: string) => join(dataDir, 'switchyard.pid')

export function writePidFile(dataDir: string, rec: PidRecord): void {
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(pidPath(dataDir), JSON.stringify(rec))
}

export function readPidFile(dataDir: string): PidRecord | undefined {
  try {
    const v = JSON.parse(readFileSync(pidPath(dataDir), 'utf8')) as Partial<PidRecord>
    return typeof v.pid === 'number' && typeof v.port === 'number' && typeof v.host === 'string'
      ? (v as PidRecord)
      : undefined
  } catch {
    return undefined
  }
}

/** Removes the PID file only when it still names `pid` (a newer instance may have replaced it). */
export function removePidFile(dataDir: string, pid: number): void {
  if (readPidFile(dataDir)?.pid === pid) rmSync(pidPath(dataDir), { force: true })
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as { code?: string }).code === 'EPERM'
  }
}

/** Running = the process is alive AND its port answers /health as Switchyard. */
export async function probeInstance(
  rec: PidRecord,
  fetchFn: typeof fetch = fetch,
): Promise<{ running: boolean; health?: Record<string, unknown> }> {
  if (!processAlive(rec.pid)) return { running: false }
  try {
    const res = await fetchFn(`${localBaseUrl(rec.host, rec.port)}/health`, { signal: AbortSignal.timeout(2_000) })
    const health = (await res.json()) as Record<string, unknown>
    return { running: res.ok && health.status === 'ok', health }
  } catch {
    return { running: false }
  }
}

/**
 * Tells the instance of `dataDir`, when one runs, to read its config and presets again (SIGHUP,
 * as a save from the dashboard does). A line for the user either way.
 */
export async function reloadRunning(dataDir: string): Promise<string> {
  const rec = readPidFile(dataDir)
  if (rec && (await probeInstance(rec)).running) {
    process.kill(rec.pid, 'SIGHUP')
    return `reloading the running instance (pid ${rec.pid})`
  }
  return 'no running instance: the change applies at the next start'
}
