/**
 * Start-up warm-up (opt-in: `start --warmup` or `SWITCHYARD_WARMUP=N`): drive synthetic requests
 * through a throwaway app so the first real requests run compiled code. Under Bun a fresh process
 * runs the request path in JSC's interpreter and baseline tiers for its first few dozen streams.
 * Measured (docs/benchmarks.md, "Fifth pass"): a fresh proxy's first 20 streams spent ~100 ms of
 * CPU cold and ~30 ms warmed, the 100 at once after them ~115 → ~80 ms, and over sockets that
 * burst's added TTFB p99 went ~58 → ~35-40 ms; but every size that gains costs 7-21 MB of idle RSS
 * (bytecode, compiled code and the heap around them, which a proxy that has served the same
 * traffic holds anyway) and 0.2-1 s before listening, so it is off by default. Under Deno it gains
 * nothing measurable (V8 tiers up within the first streams).
 *
 * Nothing is collected on purpose after it: a full collection 100 ms later gave ~9 MB back at
 * once but took the gain with it (the burst was as slow as without a warm-up); left alone, the
 * collector gives that back within ~10 s and the gain stays.
 *
 * Nothing of the real instance is touched: the throwaway has its own config (four mock
 * providers, one per wire format), services (metrics, usage ledger, stats, breakers, limiter,
 * watchdog, caches), a disabled logger, no stores, no live recorder, no insights, no fleet
 * and no active tests, and its upstream is the in-process demo mock with an instant sleep
 * (no socket is opened). What it leaves behind is compiled code and module-level memos
 * (tokenizer pieces, catalogue and pricing look-ups), which are pure caches.
 */
import { createApp } from './app.ts'
import { createServices } from './compose.ts'
import { normalise } from './config/normalise.ts'
import { configSchemas } from './config/schema.ts'
import type { Config, WireFormatName } from './config/types.ts'
import { createMockUpstream } from './demo/upstream.ts'
import { createLogger } from './log.ts'

export interface WarmupOptions {
  /** Synthetic requests to send (every kind in turn); `start --warmup` sends `WARMUP_REQUESTS`. */
  readonly requests: number
  /** How many are in flight at once. */
  readonly concurrency?: number
  /**
   * The upstream formats to translate to (the served config's providers'): code for the others is
   * never run, and compiling it would cost memory for nothing. Every format when absent.
   */
  readonly upstreams?: readonly WireFormatName[]
  /** Only these kinds (client → upstream, stream or not); every one when absent. */
  readonly only?: (k: WarmupKind) => boolean
  /** The throwaway's upstream (tests); the in-process demo mock when absent. */
  readonly upstream?: (req: Request) => Promise<Response>
}

export interface WarmupKind {
  readonly client: Format
  readonly upstream: Format
  readonly stream: boolean
}

export interface WarmupReport {
  readonly requests: number
  /** Answers that were not a 200 with a body read to its end (a bug in the warm-up, not in traffic). */
  readonly failed: number
  readonly ms: number
}

/**
 * What `start --warmup` sends (every client format, JSON and SSE, to the config's upstream
 * formats). The first 20 streams gained about as much from 32-64 as from 512; the burst of 100
 * after them needed 256-512. Only 512 of all four client formats kept its gain after 20 s idle:
 * 256 or 512 of Anthropic and OpenAI Chat alone gained as much at once, nothing 20 s later
 * (docs/benchmarks.md, "Fifth pass"). Idle RSS grows with the count.
 */
export const WARMUP_REQUESTS = 512

/** In flight at once: 1 or 16 leave the same idle RSS (the peak goes back either way); 16 finishes ~30% sooner. */
const WARMUP_CONCURRENCY = 16

type Format = WireFormatName
const FORMATS: readonly Format[] = ['anthropic', 'openai', 'responses', 'gemini']

/**
 * The base is never contacted: the mock's `fetch` is the upstream. As a provider's
 * `api_base_url` it is completed with each format's own endpoint (config/endpoint.ts).
 */
const BASE = 'http://warmup.invalid'
const MODEL = 'warm:chunks=20'

function warmupConfig(): Config {
  const file = {
    LOG: false,
    Providers: FORMATS.map((f) => ({
      name: f,
      api_base_url: BASE,
      api_key: 'warmup',
      models: [MODEL],
      protocol: f,
    })),
    Router: { default: `openai,${MODEL}` },
  }
  return normalise(configSchemas().file.parse(file)).config
}

const TOOL = {
  name: 'read_file',
  description: 'Read a file',
  schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
}

/** A client request in `client`'s format for `provider,model`, as coding agents send them (system, tools, a turn). */
function request(client: Format, model: string, stream: boolean): Request {
  const system = 'You are a coding assistant. Answer briefly.'
  const text = 'Which file holds the request pipeline, and what does it do first?'
  let path: string
  let body: Record<string, unknown>
  switch (client) {
    case 'anthropic':
      path = '/v1/messages'
      body = {
        model,
        max_tokens: 512,
        stream,
        system: [{ type: 'text', text: system }],
        tools: [{ name: TOOL.name, description: TOOL.description, input_schema: TOOL.schema }],
        messages: [{ role: 'user', content: [{ type: 'text', text }] }],
      }
      break
    case 'openai':
      path = '/v1/chat/completions'
      body = {
        model,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
        tools: [{
          type: 'function',
          function: { name: TOOL.name, description: TOOL.description, parameters: TOOL.schema },
        }],
        messages: [{ role: 'system', content: system }, { role: 'user', content: text }],
      }
      break
    case 'responses':
      path = '/v1/responses'
      body = {
        model,
        stream,
        instructions: system,
        tools: [{ type: 'function', name: TOOL.name, description: TOOL.description, parameters: TOOL.schema }],
        input: [{ role: 'user', content: [{ type: 'input_text', text }] }],
      }
      break
    case 'gemini':
      path = `/v1beta/models/${encodeURIComponent(model)}:${
        stream ? 'streamGenerateContent?alt=sse' : 'generateContent'
      }`
      body = {
        systemInstruction: { parts: [{ text: system }] },
        tools: [{
          functionDeclarations: [{ name: TOOL.name, description: TOOL.description, parametersJsonSchema: TOOL.schema }],
        }],
        contents: [{ role: 'user', parts: [{ text }] }],
      }
      break
  }
  return new Request(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

/** Every client format × every upstream format (same-format pass-through and translated) × JSON and SSE; `warmUp` picks from them. */
const KINDS: readonly WarmupKind[] = FORMATS.flatMap((client) =>
  FORMATS.flatMap((upstream) => [false, true].map((stream) => ({ client, upstream, stream })))
)

/**
 * Sends `requests` synthetic requests through a throwaway app wired to the in-process mock and
 * reads every answer to its end. A request that fails is counted, not thrown: it only leaves code colder.
 */
export async function warmUp(opts: WarmupOptions): Promise<WarmupReport> {
  const t0 = performance.now()
  const upstreams = opts.upstreams
  const kinds = KINDS.filter((k) => (!upstreams || upstreams.includes(k.upstream)) && (!opts.only || opts.only(k)))
  const total = kinds.length ? opts.requests : 0
  const mock = createMockUpstream({ sleep: async () => {} })
  const upstream = opts.upstream ?? ((req: Request) => mock.fetch(req))
  const services = createServices(warmupConfig(), {
    fetch: upstream,
    log: createLogger({ enabled: false }),
    sleep: async () => true,
  })
  const app = createApp(services.deps, { maxStreams: 1_000_000 })
  let next = 0
  let failed = 0
  const worker = async () => {
    while (next < total) {
      const k = kinds[next++ % kinds.length]!
      try {
        const res = await app.fetch(request(k.client, `${k.upstream},${MODEL}`, k.stream))
        await res.arrayBuffer()
        if (res.status !== 200) failed++
      } catch {
        failed++
      }
      // The mock's attempt log is of no use here: keep it empty rather than growing until the throwaway is dropped.
      mock.reset()
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? WARMUP_CONCURRENCY) }, worker))
  } finally {
    services.deps.watchdog.stop()
    services.closeFetch()
  }
  return { requests: total, failed, ms: performance.now() - t0 }
}
