/**
 * Incremental checker for one streamed answer as the client sees it: every event parses,
 * every numbered chunk arrives once and in order, exactly one terminal event, usage present
 * and equal to what the mock generated, and no SSE comment in a Gemini stream.
 */
import { createSseDecoder } from '../../src/formats/index.ts'
import type { SseEvent } from '../../src/formats/types.ts'

export type ClientFormat = 'anthropic' | 'openai' | 'responses' | 'gemini'

/** Every wire format the harness can speak and have the mock speak. */
export const CLIENT_FORMATS: readonly ClientFormat[] = ['anthropic', 'openai', 'responses', 'gemini']

export interface CheckResult {
  readonly ok: boolean
  readonly errors: readonly string[]
  readonly events: number
  readonly chunks: number
  readonly outputTokens: number | undefined
}

const TAG = /\[(\d{4,})\]/g

interface State {
  text: string
  terminals: number
  afterTerminal: number
  outputTokens?: number
  finishes: number
  errors: string[]
}

function onAnthropic(s: State, event: string | undefined, data: string): void {
  let d: {
    type?: string
    delta?: { type?: string; text?: string }
    usage?: { output_tokens?: number }
    error?: unknown
  }
  try {
    d = JSON.parse(data) as typeof d
  } catch {
    s.errors.push(`unparsable event data: ${data.slice(0, 80)}`)
    return
  }
  if (event !== d.type) s.errors.push(`event line "${event}" does not match data.type "${d.type}"`)
  if (d.type === 'error') s.errors.push(`error event: ${JSON.stringify(d.error).slice(0, 120)}`)
  if (d.type === 'content_block_delta' && d.delta?.type === 'text_delta') s.text += d.delta.text ?? ''
  if (d.type === 'message_delta' && typeof d.usage?.output_tokens === 'number') s.outputTokens = d.usage.output_tokens
  if (d.type === 'message_stop') s.terminals++
}

function onOpenAI(s: State, data: string): void {
  if (data === '[DONE]') {
    s.terminals++
    return
  }
  let d: {
    choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[]
    usage?: { completion_tokens?: number } | null
    error?: unknown
  }
  try {
    d = JSON.parse(data) as typeof d
  } catch {
    s.errors.push(`unparsable chunk: ${data.slice(0, 80)}`)
    return
  }
  if (d.error !== undefined) s.errors.push(`error chunk: ${JSON.stringify(d.error).slice(0, 120)}`)
  const choice = d.choices?.[0]
  if (choice?.delta?.content) s.text += choice.delta.content
  if (choice?.finish_reason) s.finishes++
  if (typeof d.usage?.completion_tokens === 'number') s.outputTokens = d.usage.completion_tokens
}

function onResponses(s: State, event: string | undefined, data: string): void {
  let d: { type?: string; delta?: string; response?: { usage?: { output_tokens?: number }; error?: unknown } }
  try {
    d = JSON.parse(data) as typeof d
  } catch {
    s.errors.push(`unparsable event data: ${data.slice(0, 80)}`)
    return
  }
  if (event !== undefined && event !== d.type) {
    s.errors.push(`event line "${event}" does not match data.type "${d.type}"`)
  }
  if (d.type === 'response.output_text.delta') s.text += d.delta ?? ''
  if (d.type === 'response.failed' || d.type === 'error') {
    s.errors.push(`${d.type}: ${JSON.stringify(d.response?.error ?? d).slice(0, 120)}`)
  }
  if (d.type === 'response.completed' || d.type === 'response.incomplete' || d.type === 'response.failed') s.terminals++
  if (typeof d.response?.usage?.output_tokens === 'number') s.outputTokens = d.response.usage.output_tokens
}

function onGemini(s: State, data: string): void {
  type Chunk = {
    candidates?: { content?: { parts?: { text?: string; thought?: boolean }[] }; finishReason?: string }[]
    usageMetadata?: { candidatesTokenCount?: number; thoughtsTokenCount?: number }
    error?: unknown
  }
  let d: Chunk
  try {
    d = JSON.parse(data) as Chunk
  } catch {
    s.errors.push(`unparsable chunk: ${data.slice(0, 80)}`)
    return
  }
  if (d.error !== undefined) s.errors.push(`error chunk: ${JSON.stringify(d.error).slice(0, 120)}`)
  const c = d.candidates?.[0]
  for (const p of c?.content?.parts ?? []) if (p.thought !== true && p.text) s.text += p.text
  // A Gemini stream has no terminator event: the chunk with the finishReason is the last one.
  if (c?.finishReason) s.terminals++
  const u = d.usageMetadata
  if (typeof u?.candidatesTokenCount === 'number') s.outputTokens = u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0)
}

const COMMENT = 'an SSE comment in a Gemini stream (its clients cannot skip one)'

/** Checks the stream of one request expecting `chunks` numbered chunks worth `expectedTokens`. */
export class StreamChecker {
  // The proxy's own SSE decoder: the checker must read streams exactly as clients' parsers do.
  readonly #sse = createSseDecoder()
  /** The last character pushed ('\n' before the first: the stream starts a line). */
  #lastChar = '\n'
  #events = 0
  #s: State = { text: '', terminals: 0, afterTerminal: 0, finishes: 0, errors: [] }
  readonly #format: ClientFormat
  readonly #chunks: number
  readonly #expectedTokens: number | undefined

  /** `expectedTokens` undefined skips the usage check (for proxies known to drop usage). */
  constructor(format: ClientFormat, chunks: number, expectedTokens: number | undefined) {
    this.#format = format
    this.#chunks = chunks
    this.#expectedTokens = expectedTokens
  }

  /** True once any answer text arrived (the harness times the first token with it). */
  get sawText(): boolean {
    return this.#s.text !== ''
  }

  /** Feed decoded text as it arrives; events may be split anywhere. */
  push(text: string): void {
    if (this.#format === 'gemini' && text !== '') {
      // The SDK the Gemini CLI bundles cannot skip an SSE comment (docs/protocols.md §9.3), so a
      // Gemini stream is checked stricter than the proxy's own decoder reads it: no line may
      // start with ':'. The character before this chunk says whether it starts a line.
      if (/\n:/.test(this.#lastChar + text) && !this.#s.errors.includes(COMMENT)) this.#s.errors.push(COMMENT)
      this.#lastChar = text[text.length - 1]!
    }
    for (const ev of this.#sse.push(text)) this.#event(ev)
  }

  #event(ev: SseEvent): void {
    this.#events++
    if (this.#s.terminals > 0 && ev.event !== 'ping') this.#s.afterTerminal++
    if (this.#format === 'anthropic') onAnthropic(this.#s, ev.event, ev.data)
    else if (this.#format === 'responses') onResponses(this.#s, ev.event, ev.data)
    else if (this.#format === 'gemini') onGemini(this.#s, ev.data)
    else onOpenAI(this.#s, ev.data)
  }

  /** The verdict once the body ended (or failed: pass `failure`). */
  end(failure?: string): CheckResult {
    const s = this.#s
    const errors = [...s.errors]
    if (failure !== undefined) errors.push(failure)
    if (this.#sse.flush().length > 0) errors.push('stream ended inside an event')
    if (s.terminals !== 1) errors.push(`expected exactly one terminal event, got ${s.terminals}`)
    if (s.afterTerminal > 0) errors.push(`${s.afterTerminal} events after the terminal event`)
    if (this.#format === 'openai' && s.finishes !== 1) errors.push(`expected one finish_reason, got ${s.finishes}`)
    const seqs = [...s.text.matchAll(TAG)].map((m) => Number(m[1]))
    const inOrder = seqs.length === this.#chunks && seqs.every((n, i) => n === i + 1)
    if (!inOrder) errors.push(`chunks out of order or missing: got ${seqs.length} of ${this.#chunks}`)
    if (this.#expectedTokens === undefined) { /* usage not checked */ }
    else if (s.outputTokens === undefined) errors.push('no usage in the stream')
    else if (s.outputTokens !== this.#expectedTokens) {
      errors.push(`usage output tokens ${s.outputTokens}, generated ${this.#expectedTokens}`)
    }
    return { ok: errors.length === 0, errors, events: this.#events, chunks: seqs.length, outputTokens: s.outputTokens }
  }
}
