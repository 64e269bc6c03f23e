/**
 * A fault-injecting mock LLM upstream speaking Anthropic Messages, OpenAI Chat Completions,
 * the OpenAI Responses API and the Gemini API, JSON and SSE. `fetch` is a plain web handler:
 * tests inject it as the proxy's upstream fetch (no port), and src/demo/server.ts serves it over HTTP. Knobs and faults
 * are per request (model suffix or `x-mock-*` headers); see harness/README.md.
 */
import type { MockKnobs } from './mock/knobs.ts'
import { DEFAULT_KNOBS, hasFault, parseKnobs, withoutFaults, withoutStreamFaults } from './mock/knobs.ts'
import type { ContentSpec, WireBuilder } from './mock/content.ts'
import {
  continueFrom,
  endsWithToolResult,
  estimateInputTokens,
  instructedPrefillOf,
  prefillOf,
} from './mock/content.ts'
import { anthropicWire } from './mock/anthropic.ts'
import { openaiWire } from './mock/openai.ts'
import { geminiWire } from './mock/gemini.ts'
import { responsesWire } from './mock/responses.ts'
import type { Sleep } from './mock/stream.ts'
import { coalescedSleep } from './mock/stream.ts'
import type { MockAttempt, MockFormat, ProfileStep } from './mock/attempts.ts'
import { AttemptLog, faultOf, profileFactor } from './mock/attempts.ts'
import { respondWith } from './mock/respond.ts'
import { seededRandom } from '../lib/rng.ts'

export type { MockAttempt, MockFormat, MockOutcome, ProfileStep } from './mock/attempts.ts'
export type { ContentMode, MockKnobs } from './mock/knobs.ts'
export { MockConnectionReset } from './mock/respond.ts'
export { chunkText, estimateInputTokens, outputTokensOf, seqTag } from './mock/content.ts'

export interface MockOptions {
  /** Clock for the attempt log and the latency profile (ms). Default: performance.now. */
  readonly now?: () => number
  /** How the mock waits. Tests inject an instant sleep; default shares one timer per due millisecond. */
  readonly sleep?: Sleep
  /** Base seed for jitter; attempt n uses seed + n unless the request sets `seed=`. */
  readonly seed?: number
  /** Latency multipliers over time since the mock started (ms). */
  readonly profile?: readonly ProfileStep[]
  /** Knob defaults for requests that do not set them. */
  readonly defaults?: Partial<MockKnobs>
  /** Attempts kept in the log (later ones are counted, not stored). Default 200,000. */
  readonly maxLogged?: number
  /**
   * How the mock counts a request's input tokens for its usage and `count_tokens`. Default
   * `estimateInputTokens` (UTF-8 bytes / 4: cheap beside the proxy it measures, and a count
   * tests can compute from the request they sent).
   */
  readonly countInputTokens?: (body: Record<string, unknown>) => number
}

export interface MockUpstream {
  fetch(req: Request): Promise<Response>
  attempts(): readonly MockAttempt[]
  reset(): void
}

const WIRES: Readonly<Record<MockFormat, WireBuilder>> = {
  anthropic: anthropicWire,
  openai: openaiWire,
  gemini: geminiWire,
  responses: responsesWire,
}

const jsonResponse = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { 'content-type': 'application/json' } })

function formatOf(path: string): MockFormat | undefined {
  if (path.endsWith('/messages')) return 'anthropic'
  if (path.endsWith('/chat/completions')) return 'openai'
  if (path.endsWith('/responses')) return 'responses'
  if (GEMINI_PATH.test(path)) return 'gemini'
  if (VERTEX_CLAUDE_PATH.test(path)) return 'anthropic'
  return undefined
}

/** `…/models/{model}:generateContent` or `:streamGenerateContent` (the model is in the URL). */
const GEMINI_PATH = /\/models\/([^/]+):(generateContent|streamGenerateContent)$/
/** Claude on Vertex AI: `…/publishers/anthropic/models/{model}:rawPredict` or `:streamRawPredict`; the body has no model. */
const VERTEX_CLAUDE_PATH = /\/publishers\/anthropic\/models\/([^/]+):(rawPredict|streamRawPredict)$/

async function readBody(req: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await req.json()
    return body !== null && typeof body === 'object' && !Array.isArray(body)
      ? body as Record<string, unknown>
      : undefined
  } catch {
    return undefined
  }
}

/** Which knobs apply to this attempt: `fail-first=N` serves the fault (default 500) N times per key. */
function effectiveKnobs(k: MockKnobs, attemptOfKey: number): MockKnobs {
  if (k.failFirst === undefined) return k
  if (attemptOfKey > k.failFirst) return withoutFaults(k)
  return hasFault(k) ? k : { ...k, status: 500 }
}

/**
 * Create a mock upstream. Routes: `POST …/v1/messages` (Anthropic), `POST …/chat/completions`
 * (OpenAI), `POST …/responses` (Responses), `POST …/models/{model}:generateContent|streamGenerateContent` (Gemini),
 * `POST …/publishers/anthropic/models/{model}:rawPredict|streamRawPredict` (Claude on Vertex AI), `POST …/v1/messages/count_tokens`, `GET|DELETE /_mock/attempts`, `GET /health`.
 * @example const mock = createMockUpstream(); await mock.fetch(new Request('http://mock/v1/messages', …))
 */
export function createMockUpstream(opts: MockOptions = {}): MockUpstream {
  const now = opts.now ?? (() => performance.now())
  const start = now()
  const defaults: MockKnobs = { ...DEFAULT_KNOBS, ...opts.defaults }
  const log = new AttemptLog(opts.maxLogged ?? 200_000)
  const created = Math.floor(Date.now() / 1000)
  const sleep = opts.sleep ?? coalescedSleep()
  const countInputTokens = opts.countInputTokens ?? estimateInputTokens

  /** When each key was first seen, for `outage=MS` (bounded: keys come from requests). */
  const firstSeen = new Map<string, number>()
  function duringOutage(k: MockKnobs, key: string, t: number): MockKnobs {
    if (k.outageMs === undefined) return k
    if (!firstSeen.has(key)) {
      if (firstSeen.size >= 10_000) firstSeen.clear()
      firstSeen.set(key, t)
    }
    return t - (firstSeen.get(key) ?? t) < k.outageMs && k.status === undefined ? { ...k, status: 503 } : k
  }

  async function serveModel(req: Request, format: MockFormat, path: string): Promise<Response> {
    const wire = WIRES[format]
    const body = await readBody(req)
    const gemini = format === 'gemini' ? GEMINI_PATH.exec(path) : null
    if (body && gemini) {
      // Gemini names the model and the streaming mode in the URL.
      body.model = decodeURIComponent(gemini[1]!)
      body.stream = gemini[2] === 'streamGenerateContent' && new URL(req.url).searchParams.get('alt') === 'sse'
    }
    const vertex = format === 'anthropic' ? VERTEX_CLAUDE_PATH.exec(path) : null
    if (body && vertex) {
      // As Vertex does: the version is required, a model in the body is refused (the URL names it).
      if (body.anthropic_version !== 'vertex-2023-10-16' || 'model' in body) {
        return jsonResponse(
          wire.errorBody(
            400,
            'Mock (Vertex): anthropic_version must be "vertex-2023-10-16" and the body has no model',
            0,
          ),
          400,
        )
      }
      body.model = decodeURIComponent(vertex[1]!)
    }
    const model = typeof body?.model === 'string' ? body.model : undefined
    if (body === undefined || model === undefined) {
      return jsonResponse(wire.errorBody(422, 'Mock expects a JSON object body with a string "model"', 0), 422)
    }
    const parsed = parseKnobs(model, req.headers, defaults)
    if (!parsed.ok) return jsonResponse(wire.errorBody(422, parsed.error, 0), 422)
    const key = parsed.value.knobs.key ?? model
    const trailing = prefillOf(body)
    const prefill = trailing ?? instructedPrefillOf(body)
    const planned = duringOutage(effectiveKnobs(parsed.value.knobs, log.nextOfKey(key)), key, now() - start)
    // `no-prefill`: a model that rejects a trailing assistant message, as a plain invalid request.
    const asked = planned.noPrefill && trailing !== undefined && planned.status === undefined
      ? { ...planned, status: 400, invalid: true }
      : planned
    const knobs = prefill === undefined ? asked : withoutStreamFaults(asked)
    const t = now() - start
    const stream = body.stream === true
    const attempt = log.add({
      t,
      key,
      model,
      baseModel: parsed.value.base,
      path,
      format,
      stream,
      fault: faultOf(knobs),
    })
    const inputTokens = countInputTokens(body)
    const opt = body.stream_options as { include_usage?: unknown } | undefined
    const spec: ContentSpec = {
      id: `${format === 'openai' ? 'chatcmpl' : 'msg'}_mock${attempt.seq}`,
      model,
      created,
      inputTokens,
      chunks: knobs.chunks,
      tokensPerChunk: knobs.tokensPerChunk,
      firstChunk: prefill === undefined ? 1 : continueFrom(prefill, knobs.overlap),
      // `tool-once`: the tool was called and its result is back, so this turn is the text answer.
      mode: knobs.mode === 'tool' && knobs.toolOnce && endsWithToolResult(body) ? 'text' : knobs.mode,
      thinkChunks: knobs.thinkChunks,
      includeUsage: opt?.include_usage === true,
      toolName: knobs.toolName,
      toolInput: knobs.toolInput,
    }
    const random = seededRandom(knobs.seed ?? (opts.seed ?? 1) + attempt.seq)
    const factor = profileFactor(opts.profile ?? [], t, parsed.value.base)
    attempt.factor = factor
    return respondWith({
      req,
      wire,
      spec,
      knobs,
      stream,
      attempt,
      sleep,
      factor,
      random,
      done: () => {
        attempt.endT = now() - start
      },
    })
  }

  async function fetch(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname
    if (path === '/_mock/attempts') {
      if (req.method === 'DELETE') {
        log.clear()
        return new Response(null, { status: 204 })
      }
      return jsonResponse(JSON.stringify({ attempts: log.list(), dropped: log.dropped }))
    }
    if (path === '/health' || path === '/_mock/health') return jsonResponse('{"status":"ok"}')
    if (req.method === 'POST' && path.endsWith('/messages/count_tokens')) {
      const body = await readBody(req)
      return jsonResponse(JSON.stringify({ input_tokens: body === undefined ? 0 : countInputTokens(body) }))
    }
    const format = formatOf(path)
    if (req.method !== 'POST' || format === undefined) {
      return jsonResponse(
        JSON.stringify({ error: { message: `Mock has no route ${req.method} ${path}`, type: 'not_found_error' } }),
        404,
      )
    }
    return serveModel(req, format, path)
  }

  return { fetch, attempts: () => log.list(), reset: () => log.clear() }
}
