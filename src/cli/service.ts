/**
 * The service in the background, for `code` and `restart`: is one answering, start one
 * (detached, output to DATA_DIR/switchyard.log) and wait until /health answers, stop one.
 */
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { runtime } from '../runtime/index.ts'
import { localBaseUrl } from './env.ts'
import type { CliOptions, Env } from './options.ts'
import { processAlive, readPidFile } from './pidfile.ts'

export const LOG_FILE = 'switchyard.log'

/** True when a Switchyard answers /health at `baseUrl`. */
export async function answers(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) })
    const body = (await res.json()) as { status?: unknown; version?: unknown }
    return res.ok && body.status === 'ok' && typeof body.version === 'string'
  } catch {
    return false
  }
}

/** The `start` arguments that reproduce this command's config, address and data dir. */
function startArgs(opts: CliOptions, dataDir: string): string[] {
  return [
    'start',
    ...(opts.config ? ['--config', resolve(opts.config)] : []),
    ...(opts.host ? ['--host', opts.host] : []),
    ...(opts.port !== undefined ? ['--port', String(opts.port)] : []),
    ...(opts.verbose ? ['--verbose'] : []),
    '--data-dir',
    dataDir === ':memory:' ? dataDir : resolve(dataDir),
  ]
}

const tail = (path: string) => {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-8).join('\n').trim()
  } catch {
    return ''
  }
}

export type Started = { readonly ok: true; readonly pid: number | undefined } | {
  readonly ok: false
  readonly message: string
}

/**
 * Starts `switchyard start` detached and waits until it answers at `host:port`. Another
 * session starting one at the same moment is fine: whichever answers is used.
 */
export async function startInBackground(
  o: { opts: CliOptions; env: Env; host: string; port: number; dataDir: string; timeoutMs: number },
): Promise<Started> {
  const baseUrl = localBaseUrl(o.host, o.port)
  const logDir = o.dataDir === ':memory:' ? undefined : o.dataDir
  if (logDir) mkdirSync(logDir, { recursive: true })
  const logPath = logDir ? join(logDir, LOG_FILE) : undefined
  const fd = logPath ? openSync(logPath, 'a') : 'ignore'
  const self = runtime.selfCommand(startArgs(o.opts, o.dataDir))
  // The server is one process: Bun's fetch limit is set here rather than by a relaunch.
  const child = spawn(self.cmd, [...self.args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...o.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' },
  })
  if (typeof fd === 'number') closeSync(fd)
  let exited: number | null | undefined
  child.on('exit', (code) => {
    exited = code
  })
  child.on('error', () => {
    exited = -1
  })
  child.unref()
  const deadline = Date.now() + o.timeoutMs
  while (Date.now() < deadline) {
    if (await answers(baseUrl)) return { ok: true, pid: child.pid }
    if (exited !== undefined) {
      // Lost a start race to another session? Then its instance answers.
      if (await answers(baseUrl)) return { ok: true, pid: undefined }
      return {
        ok: false,
        message: `the service exited with code ${exited} before answering on ${baseUrl}${
          logPath ? `; ${logPath} ends with:\n${tail(logPath)}` : ''
        }`,
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    ok: false,
    message: `the service did not answer on ${baseUrl} within ${Math.round(o.timeoutMs / 1000)} s${
      logPath ? `; see ${logPath}` : ''
    }`,
  }
}

/** SIGTERM to the instance in the data dir's PID file, then wait for it to exit. */
export async function stopService(dataDir: string, waitMs: number): Promise<{ stopped: boolean; pid?: number }> {
  const rec = readPidFile(dataDir)
  if (!rec || !processAlive(rec.pid)) return { stopped: false }
  try {
    process.kill(rec.pid, 'SIGTERM')
  } catch {
    return { stopped: false }
  }
  const deadline = Date.now() + waitMs
  while (processAlive(rec.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return { stopped: !processAlive(rec.pid), pid: rec.pid }
}
