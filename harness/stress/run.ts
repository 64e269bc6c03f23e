/**
 * The load driver: N concurrent streaming requests against a URL (the proxy or the mock),
 * each checked end to end by a StreamChecker and timed (TTFB, total).
 */
import type { ClientFormat } from './check.ts'
import { StreamChecker } from './check.ts'
import type { Summary } from './stats.ts'
import { summarise } from './stats.ts'

export interface StreamRunOptions {
  readonly url: string
  readonly clientFormat: ClientFormat
  readonly streams: number
  readonly chunks: number
  readonly tokensPerChunk: number
  /** Model to request; carries the mock knobs when talking to the mock directly. */
  readonly model: string
  readonly timeoutMs: number
  /** Skip the usage-equals-generated check. */
  readonly skipUsage?: boolean
  readonly onProgress?: (done: number, failed: number) => void
  /** Streams opened per 5 ms step (default 250): a burst of thousands of SYNs overflows the listen backlog and costs 1 s retransmits. */
  readonly burst?: number
}

export interface StreamOutcome {
  readonly ok: boolean
  readonly ttfbMs: number
  /** Time to the first answer text (first token), which a proxy may hold back after its first byte. */
  readonly ttftMs: number
  readonly totalMs: number
  readonly errors: readonly string[]
  readonly chunks: number
  readonly outputTokens: number
}

export interface StreamRunReport {
  readonly streams: number
  readonly completed: number
  readonly failed: number
  readonly ttfbMs: Summary
  readonly ttftMs: Summary
  readonly totalMs: Summary
  readonly chunksPerSec: number
  readonly tokensPerSec: number
  readonly wallMs: number
  /** The first few distinct failure reasons, for the report. */
  readonly sampleErrors: readonly string[]
}

export const PATHS: Readonly<Record<Exclude<ClientFormat, 'gemini'>, string>> = {
  anthropic: '/v1/messages',
  openai: '/v1/chat/completions',
  responses: '/v1/responses',
}

/** Where a client of `format` sends a request for `model` (Gemini names the model and the streaming mode in the path). */
export function pathOf(format: ClientFormat, model: string, stream: boolean): string {
  if (format === 'gemini') {
    return `/v1beta/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`
  }
  return PATHS[format]
}

/** The request body a client of `format` sends; `padBytes` grows the prompt (64 KB body test). */
export function requestBody(format: ClientFormat, model: string, stream: boolean, padBytes = 0): string {
  const content = `Count with sequence tags.${
    padBytes > 0 ? ' ' + 'lorem ipsum '.repeat(Math.ceil(padBytes / 12)).slice(0, padBytes) : ''
  }`
  if (format === 'gemini') {
    return JSON.stringify({
      contents: [{ role: 'user', parts: [{ text: content }] }],
      generationConfig: { maxOutputTokens: 1024 },
    })
  }
  if (format === 'responses') return JSON.stringify({ model, max_output_tokens: 1024, stream, input: content })
  const body: Record<string, unknown> = { model, max_tokens: 1024, stream, messages: [{ role: 'user', content }] }
  if (format === 'openai' && stream) body.stream_options = { include_usage: true }
  return JSON.stringify(body)
}

/** The header in which Switchyard names the target that answered and how many fallbacks it took. */
const ROUTE_HEADER = 'x-switchyard-route'

/**
 * Why a failed check may not be the stream's fault: the proxy answered from a fallback target
 * (`fallback=N`, N > 0, in its route header), so the answer is another model's, complete in its
 * own right, and differs from what the asked-for model would have sent (e.g. the Router default
 * on the mock answers its default 10 chunks where 20 were asked for). Under a burst past what
 * the upstream accepts at once, a try whose first event came later than its bound falls back
 * like this; without the note it reads as a truncated stream. Undefined for any other answer.
 * @example fallbackNote('explicit mock,m; tier=tier-0; attempts=2; fallback=1') // 'answered by a fallback target (…)'
 */
export function fallbackNote(route: string | null): string | undefined {
  const n = route === null ? undefined : /; fallback=(\d+)/.exec(route)?.[1]
  return n === undefined || n === '0' ? undefined : `answered by a fallback target (${ROUTE_HEADER}: ${route})`
}

async function oneStream(o: StreamRunOptions): Promise<StreamOutcome> {
  const checker = new StreamChecker(
    o.clientFormat,
    o.chunks,
    o.skipUsage === true ? undefined : o.chunks * o.tokensPerChunk,
  )
  const t0 = performance.now()
  let ttfb = Number.NaN
  let ttft = Number.NaN
  let failure: string | undefined
  let route: string | null = null
  try {
    const res = await fetch(o.url + pathOf(o.clientFormat, o.model, true), {
      method: 'POST',
      body: requestBody(o.clientFormat, o.model, true),
      signal: AbortSignal.timeout(o.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-api-key': 'harness',
        authorization: 'Bearer harness',
      },
    })
    route = res.headers.get(ROUTE_HEADER)
    if (res.status !== 200 || res.body === null) failure = `HTTP ${res.status}: ${(await res.text()).slice(0, 160)}`
    else {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (Number.isNaN(ttfb)) ttfb = performance.now() - t0
        checker.push(value)
        if (Number.isNaN(ttft) && checker.sawText) ttft = performance.now() - t0
      }
    }
  } catch (e) {
    failure = `${(e as Error).name}: ${(e as Error).message}`
  }
  const r = checker.end(failure)
  const fellBack = r.ok ? undefined : fallbackNote(route)
  return {
    ok: r.ok,
    ttfbMs: ttfb,
    ttftMs: ttft,
    totalMs: performance.now() - t0,
    errors: fellBack === undefined ? r.errors : [fellBack, ...r.errors],
    chunks: r.chunks,
    outputTokens: r.outputTokens ?? 0,
  }
}

/** Summarise outcomes into the figures the table prints. */
export function reportOf(outcomes: readonly StreamOutcome[], wallMs: number): StreamRunReport {
  const ok = outcomes.filter((x) => x.ok)
  const errors = [...new Set(outcomes.flatMap((x) => x.errors))].slice(0, 5)
  const secs = wallMs / 1000
  return {
    streams: outcomes.length,
    completed: ok.length,
    failed: outcomes.length - ok.length,
    ttfbMs: summarise(ok.map((x) => x.ttfbMs)),
    ttftMs: summarise(ok.map((x) => x.ttftMs)),
    totalMs: summarise(ok.map((x) => x.totalMs)),
    chunksPerSec: outcomes.reduce((s, x) => s + x.chunks, 0) / secs,
    tokensPerSec: outcomes.reduce((s, x) => s + x.outputTokens, 0) / secs,
    wallMs,
    sampleErrors: errors,
  }
}

/** Open all streams at once and wait for every one to finish, fail or time out. */
export async function runStreams(o: StreamRunOptions): Promise<StreamRunReport> {
  let done = 0
  let failed = 0
  const t0 = performance.now()
  const burst = o.burst ?? 250
  const outcomes = await Promise.all(Array.from({ length: o.streams }, async (_, i) => {
    if (i >= burst) await new Promise((r) => setTimeout(r, Math.floor(i / burst) * 5))
    const r = await oneStream(o)
    done++
    if (!r.ok) failed++
    o.onProgress?.(done, failed)
    return r
  }))
  return reportOf(outcomes, performance.now() - t0)
}
