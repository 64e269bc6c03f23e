/**
 * Who holds a port we could not listen on. When it is a Switchyard, say so (and its PID when
 * this data dir's PID file names that port), so `start` next to a running instance explains
 * itself instead of leaving the user to hunt with lsof.
 */
import { localBaseUrl } from './env.ts'
import { readPidFile } from './pidfile.ts'

export async function describePortHolder(
  at: { readonly host: string; readonly port: number; readonly dataDir: string },
): Promise<string | undefined> {
  const { host, port, dataDir } = at
  let health: { status?: unknown; version?: unknown; uptime_s?: unknown }
  try {
    const res = await fetch(`${localBaseUrl(host, port)}/health`, { signal: AbortSignal.timeout(1_500) })
    health = (await res.json()) as typeof health
  } catch {
    return undefined
  }
  if (health.status !== 'ok' || typeof health.version !== 'string') return undefined
  const rec = readPidFile(dataDir)
  const pid = rec && rec.port === port ? `pid ${rec.pid}, ` : ''
  return `a Switchyard ${health.version} holds it (${pid}up ${
    Math.round(Number(health.uptime_s) || 0)
  } s): \`switchyard stop\` or \`switchyard restart\` it, or pick another --port`
}
