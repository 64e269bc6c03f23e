/**
 * Start the processes a run needs: the mock upstream and a Switchyard instance configured
 * (CCR-style config.json in a temp dir) to send everything to the mock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Child } from './proc.ts'
import { freePort, spawnServer } from './proc.ts'
import type { ClientFormat } from './check.ts'

const ROOT = new URL('../../', import.meta.url).pathname

/** The runtime running the harness (bun), used to start the children the same way. */
const RUNTIME = process.execPath

/** Start `harness/mock-main.ts` as its own process, so its CPU and RSS can be measured apart. */
export function startMockProcess(port = 0, timeoutMs = 15_000): Promise<Child> {
  return spawnServer(RUNTIME, [join(ROOT, 'harness/mock-main.ts'), '--port', String(port)], timeoutMs)
}

/**
 * `harness/forwarder.ts` in Switchyard's place (`--floor`): parse, rewrite `model`, forward to the
 * mock, stream the answer back untouched; `tap`: read that answer in JavaScript on the way.
 */
export function startForwarder(mockUrl: string, tap = false): Promise<Child> {
  return spawnServer(RUNTIME, forwarderArgs(mockUrl, { tap }), 20_000)
}

/** The runtime's arguments for `harness/forwarder.ts` (`port`: a fixed one, else it picks a free one). */
export function forwarderArgs(mockUrl: string, o: { tap?: boolean; port?: number } = {}): string[] {
  return [
    join(ROOT, 'harness/forwarder.ts'),
    '--upstream',
    mockUrl,
    ...(o.port === undefined ? [] : ['--port', String(o.port)]),
    ...(o.tap ? ['--tap'] : []),
  ]
}

/** How a client names `model` on the mock through a CCR-compatible proxy: explicit `provider,model`. */
export const viaProxy = (model: string): string => `mock,${model}`

/** The mock's endpoint for each upstream format (Gemini: the model is appended to the URL). */
const UPSTREAM_PATHS: Readonly<Record<ClientFormat, string>> = {
  anthropic: '/v1/messages',
  openai: '/v1/chat/completions',
  responses: '/v1/responses',
  gemini: '/v1beta/models/',
}

/**
 * A CCR config.json with one provider `mock` serving `models` in the given upstream format;
 * the Router default is the first model, clients pick others explicitly (`mock,<model>`).
 */
export function ccrConfig(
  mockUrl: string,
  upstream: ClientFormat,
  models: readonly string[],
  port: number,
): Record<string, unknown> {
  const provider: Record<string, unknown> = {
    name: 'mock',
    api_base_url: `${mockUrl}${UPSTREAM_PATHS[upstream]}`,
    api_key: 'mock-key',
    models: [...models],
  }
  // CCR 1.x/2.0 needs the transformer to speak Anthropic upstream; Switchyard also reads the URL.
  if (upstream === 'anthropic') provider.transformer = { use: ['Anthropic'] }
  if (upstream === 'gemini') provider.transformer = { use: ['gemini'] }
  return {
    HOST: '127.0.0.1',
    PORT: port,
    LOG: false,
    Providers: [provider],
    Router: { default: viaProxy(models[0] ?? 'mock-model') },
  }
}

export interface ProxyProcess extends Child {
  readonly configPath: string
}

/** `src/cli.ts start` on `config`, bound to 127.0.0.1:`port` with an in-memory store, then `extra` flags. */
export const cliStartArgs = (config: string, port: number, extra: readonly string[] = [], root = ROOT): string[] => [
  join(root, 'src/cli.ts'),
  'start',
  '--config',
  config,
  '--port',
  String(port),
  '--host',
  '127.0.0.1',
  '--data-dir',
  ':memory:',
  ...extra,
]

/** How the proxy is launched: under Bun (default) or Deno, from this checkout or another one (`--root`), or a compiled binary (`exe`). */
export interface LaunchOptions {
  readonly runtime?: 'bun' | 'deno'
  readonly root?: string
  /** A compiled binary (`npm run build`'s `dist/switchyard`) run in place of `bun src/cli.ts`. */
  readonly exe?: string
  /** Merged into the provider's config (e.g. `rpm`, `maxConcurrent`). */
  readonly provider?: Record<string, unknown>
}

/**
 * Start Switchyard (`bun src/cli.ts start`, or `deno run -A` of it) on a free port we pick by
 * binding port 0 first, with an in-memory store and room for `maxStreams` concurrent streams.
 */
export async function startSwitchyard(
  mockUrl: string,
  upstream: ClientFormat,
  models: readonly string[],
  maxStreams: number,
  extra: Record<string, unknown> = {},
  launch: LaunchOptions = {},
): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-harness-'))
  const port = await freePort()
  const configPath = join(dir, 'config.json')
  const base = ccrConfig(mockUrl, upstream, models, port)
  if (launch.provider) {
    base.Providers = (base.Providers as Record<string, unknown>[]).map((p) => ({ ...p, ...launch.provider }))
  }
  writeFileSync(configPath, JSON.stringify({ ...base, ...extra }, null, 2))
  const args = cliStartArgs(configPath, port, ['--max-streams', String(maxStreams)], launch.root)
  // A compiled binary is its own entry: it takes the arguments after the script.
  const start = launch.exe
    ? spawnServer(launch.exe, args.slice(1), 30_000)
    : launch.runtime === 'deno'
    ? spawnServer(join(ROOT, 'node_modules/.bin/deno'), ['run', '-A', ...args], 30_000)
    : spawnServer(RUNTIME, args, 30_000)
  const child = await start.catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw e
  })
  return {
    ...child,
    configPath,
    stop: async () => {
      await child.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
