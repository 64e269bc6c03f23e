/**
 * A ProbeSender that speaks Anthropic Messages over a fetch function: point it at Switchyard
 * itself (`/v1/messages` with model `"provider,model"`, CCR's explicit routing, so probes take
 * the real upstream path with translation, auth and rate limits), or at any Anthropic-format
 * endpoint. It measures TTFT at the first content delta and total time at the end of the
 * answer, and reads usage from the stream (message_start / message_delta) or the JSON body.
 */
import { createSseDecoder } from '../formats/sse/decode.ts'
import type { ProbeOutcome, ProbeRequest, ProbeSender } from './types.ts'

export interface FetchSenderOptions {
  readonly fetch: (req: Request) => Promise<Response>
  /** The Messages endpoint, e.g. `http://127.0.0.1:3456/v1/messages`. */
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly now: () => number
  /** The `model` sent for a target (default: the target itself, CCR `provider,model`). */
  readonly modelOf?: (target: string) => string
}

type Tally = { ttftMs?: number; input?: number; output: number; sawEnd: boolean; error?: string }

/** Read an Anthropic SSE body, timing the first content delta. */
async function readStream(body: ReadableStream<Uint8Array>, started: number, now: () => number): Promise<Tally> {
  const dec = createSseDecoder()
  const text = new TextDecoder()
  const t: Tally = { output: 0, sawEnd: false }
  const onEvent = (name: string | undefined, data: string): void => {
    const ev = JSON.parse(data) as { type?: string; message?: { usage?: { input_tokens?: number; output_tokens?: number } }; usage?: { output_tokens?: number }; error?: { message?: string } }
    const type = ev.type ?? name
    if (type === 'message_start') { t.input = ev.message?.usage?.input_tokens; t.output = ev.message?.usage?.output_tokens ?? 0 }
    else if (type === 'content_block_delta' && t.ttftMs === undefined) t.ttftMs = now() - started
    else if (type === 'message_delta' && ev.usage?.output_tokens !== undefined) t.output = ev.usage.output_tokens
    else if (type === 'message_stop') t.sawEnd = true
    else if (type === 'error') t.error = ev.error?.message ?? 'error event in stream'
  }
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    for (const ev of dec.push(text.decode(value, { stream: true }))) onEvent(ev.event, ev.data)
  }
  for (const ev of dec.flush()) onEvent(ev.event, ev.data)
  return t
}

async function readJson(res: Response): Promise<Tally> {
  const body = await res.json() as { usage?: { input_tokens?: number; output_tokens?: number }; content?: unknown[] }
  const t: Tally = { output: body.usage?.output_tokens ?? 0, sawEnd: Array.isArray(body.content) }
  if (body.usage?.input_tokens !== undefined) t.input = body.usage.input_tokens
  return t
}

async function probe(o: FetchSenderOptions, req: ProbeRequest): Promise<ProbeOutcome> {
  const started = o.now()
  const body = { ...req.body, model: (o.modelOf ?? ((t: string) => t))(req.target) }
  const res = await o.fetch(new Request(o.url, {
    method: 'POST', body: JSON.stringify(body), signal: req.signal,
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...o.headers },
  }))
  if (!res.ok) {
    const text = await res.text().catch(() => '')
    return { ok: false, status: res.status, error: `HTTP ${res.status}: ${text.slice(0, 200)}`, totalMs: o.now() - started, outputTokens: 0 }
  }
  const isStream = (res.headers.get('content-type') ?? '').includes('text/event-stream')
  const t = isStream && res.body ? await readStream(res.body, started, o.now) : await readJson(res)
  const totalMs = o.now() - started
  const error = t.error ?? (t.sawEnd ? undefined : 'answer ended without message_stop')
  return {
    ok: error === undefined, status: res.status, ...(error !== undefined ? { error } : {}),
    ...(t.ttftMs !== undefined ? { ttftMs: t.ttftMs } : {}), totalMs, outputTokens: t.output,
    ...(t.input !== undefined ? { inputTokens: t.input } : {}),
  }
}

/** A ProbeSender over fetch; network errors and aborts become failed outcomes, never throws. */
export function createFetchSender(o: FetchSenderOptions): ProbeSender {
  return async (req) => {
    const started = o.now()
    try {
      return await probe(o, req)
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e), totalMs: o.now() - started, outputTokens: 0 }
    }
  }
}
