/**
 * A proxy on simulated time for the resilience suites: one fake clock read by the app, the
 * routing table, the watchdog and the mock; the mock's waits and the pipeline's retry waits
 * advance it instead of sleeping, so a 60 s outage runs in milliseconds and every timestamp in
 * `mock.attempts()` is exact. Timeouts (connect, first token, deadline) stay real timers: keep
 * them short in configs that use them.
 */
import { createMockUpstream, type MockOptions, type MockUpstream } from '../../src/demo/upstream.ts'
import { createInstance, type Services } from '../../src/compose.ts'
import type { Deps } from '../../src/deps.ts'
import type { SseEvent, WireFormatName } from '../../src/formats/types.ts'
import { createLogger } from '../../src/log.ts'
import { seededRandom } from '../../src/lib/rng.ts'
import { configOf, sseEvents } from './helpers.ts'

/** Simulated milliseconds, starting at an arbitrary epoch so nothing mistakes them for 0. */
export class FakeClock {
  t = 1_000_000
  readonly now = (): number => this.t
  advance(ms: number): void {
    this.t += Math.max(0, ms)
  }
  /** The mock's sleep: time passes at once (unless the request was aborted). */
  readonly mockSleep = async (ms: number, signal: AbortSignal): Promise<void> => {
    if (!signal.aborted) this.advance(ms)
  }
  /** The pipeline's retry sleep. */
  readonly proxySleep = async (ms: number, signal: AbortSignal): Promise<boolean> => {
    if (!signal.aborted) this.advance(ms)
    return !signal.aborted
  }
}

export interface SimProxy {
  readonly clock: FakeClock
  readonly mock: MockUpstream
  readonly deps: Deps
  readonly services: Services
  /** POST a JSON body; `path` defaults to the Anthropic route. */
  post(body: unknown, path?: string): Promise<Response>
  get(path: string): Promise<Response>
  /** Stops the instance (watchdog, timers, its in-memory store). */
  close(): void
}

export interface SimOptions {
  readonly mock?: Omit<MockOptions, 'now' | 'sleep'>
  /** Adds `x-mock-*` headers to an upstream request given the simulated time (faults that start and stop). */
  readonly inject?: (req: Request, now: number) => Record<string, string> | undefined
  readonly seed?: number
}

/** The production composition (`createInstance`, every route, an in-memory store) on a fake clock. */
export async function simProxy(file: Record<string, unknown>, opts: SimOptions = {}): Promise<SimProxy> {
  const clock = new FakeClock()
  const mock = createMockUpstream({ ...opts.mock, now: clock.now, sleep: clock.mockSleep })
  const fetch = async (req: Request): Promise<Response> => {
    const extra = opts.inject?.(req, clock.now())
    if (!extra) return await mock.fetch(req)
    const headers = new Headers(req.headers)
    for (const [k, v] of Object.entries(extra)) headers.set(k, v)
    return await mock.fetch(new Request(req, { headers }))
  }
  const log = createLogger({ level: 'fatal', write: () => {} })
  const { app, services, close } = await createInstance(configOf(file), {
    dataDir: ':memory:',
    fetch,
    now: clock.now,
    random: seededRandom(opts.seed ?? 7),
    sleep: clock.proxySleep,
    log,
  })
  return {
    clock,
    mock,
    deps: services.deps,
    services,
    post: async (body, path = '/v1/messages') =>
      await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    get: async (path) => await app.request(path),
    close: () => void close(),
  }
}

/** A short streamed request to `p` in the client format, answered 200; its events. */
export async function streamOf(p: SimProxy, client: WireFormatName): Promise<SseEvent[]> {
  const body = client === 'anthropic'
    ? ask('claude-sonnet-4', { stream: true })
    : client === 'responses'
    ? { model: 'gpt-5', stream: true, input: 'hello' }
    : client === 'gemini'
    ? { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }
    : { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hello' }] }
  const path = client === 'anthropic'
    ? '/v1/messages'
    : client === 'responses'
    ? '/v1/responses'
    : client === 'gemini'
    ? '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
    : '/v1/chat/completions'
  const res = await p.post(body, path)
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${await res.text()}`)
  return sseEvents(await res.text())
}

/** A Responses provider (`resp`) and a Gemini provider (`gem`) on the mock, for `simConfig`'s `extra.Providers`. */
export const RESP_GEM_PROVIDERS: readonly Record<string, unknown>[] = [
  { name: 'resp', api_base_url: 'http://mock.test/v1/responses', api_key: 'k3', models: ['mock-r'] },
  {
    name: 'gem',
    api_base_url: 'http://mock.test/v1beta/models/',
    api_key: 'k4',
    models: ['mock-g'],
    transformer: { use: ['gemini'] },
  },
]

/** Two providers on the mock: `anth` (Anthropic format) and `oai` (OpenAI format). */
export function simConfig(
  router: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  limits: { anth?: object; oai?: object } = {},
): Record<string, unknown> {
  return {
    LOG: false,
    Providers: [
      {
        name: 'anth',
        api_base_url: 'http://mock.test/v1/messages',
        api_key: 'k1',
        models: ['mock-a', 'mock-b'],
        transformer: { use: ['Anthropic'] },
        ...limits.anth,
      },
      {
        name: 'oai',
        api_base_url: 'http://mock.test/v1/chat/completions',
        api_key: 'k2',
        models: ['mock-o', 'mock-p'],
        ...limits.oai,
      },
    ],
    Router: router,
    ...extra,
  }
}

/** `"<scenario> <target>; tier=…; attempts=N; fallback=K"` split into its parts. */
export function routeOf(res: Response): { target: string; tier: string; attempts: number; fallback: number } {
  const h = res.headers.get('x-switchyard-route') ?? ''
  const m = /^\S+ (\S+); tier=(\S+); attempts=(\d+); fallback=(\d+)$/.exec(h)
  if (!m) throw new Error(`unexpected x-switchyard-route "${h}"`)
  return { target: m[1]!, tier: m[2]!, attempts: Number(m[3]), fallback: Number(m[4]) }
}

/** A short Anthropic request to `model`. */
export function ask(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, max_tokens: 64, messages: [{ role: 'user', content: 'hello' }], ...extra }
}

/** The value of one Prometheus sample (`name{labels}`), 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}
