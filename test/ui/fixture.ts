/**
 * A real instance for the browser tests: the harness mock on a port, a config file (with `$VAR`
 * references, a comment and a key Switchyard does not know) in a temp dir, `buildServer` on
 * 127.0.0.1, and Debian's Chromium driven by playwright-core.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMockServer } from '../../harness/mock-server.ts'
import { buildServer, type RunningServer } from '../../src/cli/server.ts'
import { parseConfig } from '../../src/config/load.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import { createLogger } from '../../src/log.ts'

export const API_KEY = 'ui-test-key-not-a-secret'
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const chromiumPresent = () => existsSync(CHROMIUM)

export function configText(mockUrl: string): string {
  return `{
  // Switchyard UI test config: the comment, $VAR references and CUSTOM_UNKNOWN must survive a save.
  "APIKEY": "$SY_UI_KEY",
  "LOG": false,
  "Providers": [
    { "name": "mock", "api_base_url": "${mockUrl}/v1/messages", "api_key": "\${SY_UI_UPSTREAM_KEY}",
      "models": ["fast:ttft=20:delay=5", "slow:ttft=120:delay=20", "bad:status=500"], "transformer": { "use": ["Anthropic"] } },
    { "name": "oai", "api_base_url": "${mockUrl}/v1/chat/completions", "api_key": "sk-literal-upstream-secret", "models": ["gpt-mock"] }
  ],
  "Router": { "default": "mock,fast:ttft=20:delay=5", "background": "oai,gpt-mock", "think": "mock,slow:ttft=120:delay=20" },
  "CUSTOM_UNKNOWN": { "keep": ["me", 1] },
  "performance": { "enabled": false, "dailyTokenBudget": 50000 }
}
`
}

export interface UiInstance {
  readonly url: string
  readonly path: string
  readonly dir: string
  readonly server: RunningServer
  stop(): Promise<void>
}

export async function startUiInstance(): Promise<UiInstance> {
  const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
  const dir = mkdtempSync(join(tmpdir(), 'sy-ui-'))
  const path = join(dir, 'config.json')
  writeFileSync(path, configText(mock.url))
  const env = { SY_UI_KEY: API_KEY, SY_UI_UPSTREAM_KEY: 'sk-env-upstream' }
  const parsed = parseConfig(configText(mock.url), env, { knownTransformer })
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  const server = await buildServer(parsed.value.config, {
    host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), log: createLogger({ enabled: false }), configPath: path, env, rawConfig: parsed.value.raw,
  })
  return {
    url: server.url, path, dir, server,
    stop: async () => {
      await server.shutdown(1000)
      await mock.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Sends `n` requests to `model` (non-streaming and streaming alternately), ignoring failures. */
export async function traffic(url: string, model: string, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ model, max_tokens: 64, stream: i % 2 === 1, messages: [{ role: 'user', content: `hello ${i}` }] }),
  }).then((r) => r.text()).catch(() => '')))
}

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', '--mute-audio',
  '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication',
]
