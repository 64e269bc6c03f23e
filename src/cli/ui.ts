/**
 * `switchyard ui`, as `ccr ui`: makes sure the service answers (starting it in the background
 * when needed, like `code`), prints the dashboard's URL and opens it in a browser when this
 * machine has one to show. The page asks for the APIKEY itself; the key is never put in the URL.
 */
import { spawn } from 'node:child_process'
import { clientSettings, localBaseUrl } from './env.ts'
import type { CliOptions, Env } from './options.ts'
import { answers, type Started, startInBackground } from './service.ts'
import { dataDirOf } from './status.ts'

/** How long `ui` waits for a service it started to answer. */
const START_TIMEOUT_MS = 20_000

/** The command that opens a URL on this platform, or undefined where no browser can be shown. */
export function openerFor(platform: string, env: Env): string[] | undefined {
  if (env.SWITCHYARD_NO_BROWSER) return undefined
  if (platform === 'darwin') return ['open']
  if (platform === 'win32') return ['cmd', '/c', 'start', '']
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : undefined
}

export interface UiDeps {
  /** Starts the service (default: `switchyard start` detached, as `code` does). */
  readonly start?: typeof startInBackground
}

export async function runUi(opts: CliOptions, env: Env, deps: UiDeps = {}): Promise<number> {
  const { settings, errors } = await clientSettings(opts, env)
  if (!settings) {
    for (const e of errors) console.error(e)
    return 2
  }
  const baseUrl = localBaseUrl(settings.host, settings.port)
  if (!(await answers(baseUrl))) {
    console.error(`switchyard: starting the service on ${baseUrl} …`)
    const started: Started = await (deps.start ?? startInBackground)({
      opts,
      env,
      host: settings.host,
      port: settings.port,
      dataDir: dataDirOf(opts, env),
      timeoutMs: START_TIMEOUT_MS,
    })
    if (!started.ok) {
      console.error(`switchyard ui: ${started.message}`)
      return 1
    }
  }
  const url = `${baseUrl}/ui/`
  console.log(`dashboard: ${url}`)
  if (settings.apiKey) console.log('The page asks for the APIKEY once per browser tab.')
  const opener = openerFor(process.platform, env)
  if (opener) {
    try {
      spawn(opener[0]!, [...opener.slice(1), url], { detached: true, stdio: 'ignore' }).on('error', () => {}).unref()
    } catch { /* no browser after all: the URL is printed */ }
  }
  return 0
}
