/**
 * `switchyard ui`, as `ccr ui`: finds the running instance through the PID file (like
 * `status`), or starts one in this process when none runs, then prints the dashboard's URL and
 * opens it in a browser when this machine has one to show. The page asks for the APIKEY
 * itself; the key is never put in the URL.
 */
import { spawn } from 'node:child_process'
import { localBaseUrl } from './env.ts'
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'
import { probeInstance, readPidFile } from './pidfile.ts'
import { dataDirOf } from './status.ts'
import { runStart } from './start.ts'

/** The command that opens a URL on this platform, or undefined where no browser can be shown. */
export function openerFor(platform: string, env: Env): string[] | undefined {
  if (env.SWITCHYARD_NO_BROWSER) return undefined
  if (platform === 'darwin') return ['open']
  if (platform === 'win32') return ['cmd', '/c', 'start', '']
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : undefined
}

export async function runUi(opts: CliOptions, env: Env, start: (opts: CliOptions, env: Env) => Promise<number> = runStart): Promise<number> {
  let rec = readPidFile(dataDirOf(opts, env))
  const running = rec ? (await probeInstance(rec)).running : false
  // Not running: serve here, in the foreground, as `start` would (Ctrl-C stops it).
  let code = 0
  if (!rec || !running) {
    code = await start(opts, env)
    if (code !== -1) return code
    rec = readPidFile(dataDirOf(opts, env))
    if (!rec) return code
  }
  const url = `${localBaseUrl(rec.host, rec.port)}/ui/`
  console.log(`dashboard: ${url}`)
  const cfg = await readConfig(opts, env)
  if (cfg.config?.apiKey) console.log('The page asks for the APIKEY once per browser tab.')
  const opener = openerFor(process.platform, env)
  if (opener) {
    try {
      spawn(opener[0]!, [...opener.slice(1), url], { detached: true, stdio: 'ignore' }).on('error', () => {}).unref()
    } catch { /* no browser after all: the URL is printed */ }
  }
  return code
}
