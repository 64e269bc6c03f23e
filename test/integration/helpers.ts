/**
 * An app wired to the in-process harness mock: no ports, real translation, routing and streams.
 */
import { createMockUpstream, type MockOptions } from '../../src/demo/upstream.ts'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { parseConfig } from '../../src/config/load.ts'
import type { Config } from '../../src/config/types.ts'
import { createSseDecoder, knownTransformer } from '../../src/formats/index.ts'
import type { SseEvent } from '../../src/formats/types.ts'
import { createLogger } from '../../src/log.ts'
import { seededRandom } from '../../src/lib/rng.ts'

/** A CCR-style config: an Anthropic-format and an OpenAI-format provider, both served by the mock. */
export function testConfigFile(
  extra: Record<string, unknown> = {},
  router: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    LOG: false,
    Providers: [
      {
        name: 'anth',
        api_base_url: 'http://mock.test/v1/messages',
        api_key: 'sk-ant-secret-1',
        models: ['claude-up', 'mock-a'],
        transformer: { use: ['Anthropic'] },
      },
      {
        name: 'oai',
        api_base_url: 'http://mock.test/v1/chat/completions',
        api_key: 'sk-oai-secret-2',
        models: ['gpt-up', 'mock-o'],
      },
    ],
    Router: {
      default: 'oai,gpt-up',
      background: 'anth,mock-a',
      think: 'anth,claude-up',
      longContext: 'oai,mock-o',
      ...router,
    },
    ...extra,
  }
}

export function configOf(file: Record<string, unknown>): Config {
  const r = parseConfig(JSON.stringify(file), {}, { knownTransformer })
  if (!r.ok) throw new Error(`test config invalid: ${r.error.join('; ')}`)
  return r.value.config
}

export interface TestProxy extends AppInstance {
  readonly mock: ReturnType<typeof createMockUpstream>
  readonly logs: string[]
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>
}

/** A `fetch` for an SDK client that sends its requests to the proxy in process (`app.request`). */
export const viaApp = (p: Pick<TestProxy, 'app'>): typeof fetch =>
  (async (input: string | URL | Request, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init)
    const url = new URL(req.url)
    return p.app.request(url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body ? await req.text() : undefined,
    })
  }) as typeof fetch

export async function testProxy(
  file: Record<string, unknown> = testConfigFile(),
  mockOpts: MockOptions = {},
): Promise<TestProxy> {
  const mock = createMockUpstream(mockOpts)
  const logs: string[] = []
  const config = configOf(file)
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) })
  const built = await createInstance(config, {
    dataDir: ':memory:',
    fetch: async (req) => mock.fetch(req),
    log,
    random: seededRandom(7),
  })
  return {
    ...built,
    mock,
    logs,
    post: async (path, body, headers = {}) =>
      await built.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  }
}

/** A minimal Anthropic request. */
export function anthropicBody(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello' }], ...extra }
}

export function openaiBody(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'Say hello' }], ...extra }
}

/** The events of a whole SSE body, through the project's one SSE decoder. */
export function sseEvents(text: string): SseEvent[] {
  const d = createSseDecoder()
  return [...d.push(text), ...d.flush()]
}

/** A proxy whose upstream fetch records every request it forwards (url, headers, body). */
export async function spyingProxy(
  file: Record<string, unknown> = testConfigFile(),
): Promise<TestProxy & { seen: { url: string; headers: Headers; body: string }[] }> {
  const seen: { url: string; headers: Headers; body: string }[] = []
  const mock = createMockUpstream()
  const built = await createInstance(configOf(file), {
    dataDir: ':memory:',
    log: createLogger({ enabled: false }),
    fetch: async (req) => {
      seen.push({ url: req.url, headers: req.headers, body: await req.clone().text() })
      return mock.fetch(req)
    },
  })
  return {
    ...built,
    mock,
    logs: [],
    seen,
    post: async (path, body, headers = {}) =>
      await built.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  }
}

/**
 * Polls `cond` every 10 ms until it holds or `ms` (default 5 s) has passed, without throwing:
 * for a condition reached asynchronously (an abort reaching the upstream, a write landing), where
 * a fixed sleep fails on a loaded machine. The caller's own assertions then say what was wrong.
 */
export async function settled(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = performance.now() + ms
  while (!(await cond()) && performance.now() < end) await new Promise((r) => setTimeout(r, 10))
}
