/**
 * Reference counting of concurrent `switchyard code` sessions, as CCR does, but without a
 * shared counter that two sessions could race on or a crash could leave wrong: each session is
 * a file named after its PID, and a file whose process is gone does not count.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { processAlive } from './pidfile.ts'

const dirOf = (dataDir: string) => join(dataDir, 'code-sessions')
/** Present while the service was started by a `code` session (and so is theirs to stop). */
const OWNED = 'started-by-code.json'

export function joinSession(dataDir: string, pid: number): void {
  mkdirSync(dirOf(dataDir), { recursive: true })
  writeFileSync(join(dirOf(dataDir), String(pid)), '')
}

/** Sessions whose process still runs; stale files are removed on the way. */
export function liveSessions(dataDir: string): number[] {
  let names: string[]
  try {
    names = readdirSync(dirOf(dataDir))
  } catch {
    return []
  }
  const live: number[] = []
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue
    const pid = Number(n)
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) live.push(pid)
    else rmSync(join(dirOf(dataDir), n), { force: true })
  }
  return live
}

/** Ends this session; returns how many others are still live. */
export function leaveSession(dataDir: string, pid: number): number {
  rmSync(join(dirOf(dataDir), String(pid)), { force: true })
  return liveSessions(dataDir).filter((p) => p !== pid).length
}

/** Records that a `code` session started the service with this PID. */
export function markOwned(dataDir: string, servicePid: number): void {
  mkdirSync(dirOf(dataDir), { recursive: true })
  writeFileSync(join(dirOf(dataDir), OWNED), JSON.stringify({ pid: servicePid }))
}

/** The PID of a service a `code` session started, if that is still the one recorded. */
export function ownedService(dataDir: string): number | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dirOf(dataDir), OWNED), 'utf8')) as { pid?: unknown }
    return typeof v.pid === 'number' ? v.pid : undefined
  } catch {
    return undefined
  }
}

export function clearOwned(dataDir: string): void {
  rmSync(join(dirOf(dataDir), OWNED), { force: true })
}
