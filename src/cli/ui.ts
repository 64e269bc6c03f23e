/**
 * `switchyard ui`: prints the dashboard's URL of the running instance (found through the PID
 * file, like `status`) and opens it in a browser when this machine has one to show, as
 * `ccr ui` does. The page asks for the APIKEY itself; the key is never put in the URL.
 */
import { spawn } from 'node:child_process'
import { localBaseUrl } from './env.ts'
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'
import { probeInstance, readPidFile } from './pidfile.ts'
import { dataDirOf } from './status.ts'

/** The command that opens a URL on this platform, or undefined where no browser can be shown. */
export function openerFor(platform: string, env: Env): string[] | undefined {
  if (env.SWITCHYARD_NO_BROWSER) return undefined
  if (platform === 'darwin') return ['open']
  if (platform === 'win32') return ['cmd', '/c', 'start', '']
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : undefined
}

export async function runUi(opts: CliOptions, env: Env): Promise<number> {
  const rec = readPidFile(dataDirOf(opts, env))
  const running = rec ? (await probeInstance(rec)).running : false
  if (!rec || !running) {
    const cfg = await readConfig(opts, env)
    const url = `${localBaseUrl(opts.host ?? cfg.config?.host ?? '127.0.0.1', opts.port ?? cfg.config?.port ?? 3456)}/ui/`
    console.log(`Switchyard is not running. Start it with \`switchyard start\`, then open ${url}`)
    return 1
  }
  const url = `${localBaseUrl(rec.host, rec.port)}/ui/`
  console.log(url)
  const cfg = await readConfig(opts, env)
  if (cfg.config?.apiKey) console.log('The page asks for the APIKEY once per browser tab.')
  const opener = openerFor(process.platform, env)
  if (opener) {
    try {
      spawn(opener[0]!, [...opener.slice(1), url], { detached: true, stdio: 'ignore' }).on('error', () => {}).unref()
    } catch { /* no browser after all: the URL is printed */ }
  }
  return 0
}
