/**
 * What the mock generates, independent of the wire format: numbered text chunks (so a
 * checker can prove every chunk arrived in order), thinking deltas and tool-call argument
 * fragments, plus the deterministic prompt-size estimate the mock reports as input tokens.
 */
import type { ContentMode } from './knobs.ts'

export interface ContentSpec {
  readonly id: string
  readonly model: string
  /** Seconds since the epoch (OpenAI `created`). */
  readonly created: number
  readonly inputTokens: number
  readonly chunks: number
  /**
   * The first chunk sent (default 1). A continuation (a request whose last message is an
   * assistant prefill) starts after the last sequence tag of its prefill.
   */
  readonly firstChunk?: number
  readonly tokensPerChunk: number
  readonly mode: ContentMode
  readonly thinkChunks: number
  /** OpenAI `stream_options.include_usage`. */
  readonly includeUsage: boolean
  /** Tool mode: the tool called (default TOOL_NAME). */
  readonly toolName?: string
  /** Tool mode: the arguments as JSON object text (default `{"seq":…}`). */
  readonly toolInput?: string
}

/** One SSE event ready for the wire; `token` marks events that carry generated tokens (paced by `delay`). */
export interface PlannedEvent {
  readonly sse: string
  readonly token: boolean
  /** Pre-encoded bytes for events identical in every stream (encoded once at load). */
  readonly bytes?: Uint8Array
}

/** A format's rendering of a spec: the SSE events (terminator last), the JSON body, errors. */
export interface WireBuilder {
  streamEvents(spec: ContentSpec): PlannedEvent[]
  json(spec: ContentSpec): string
  /** `plain`: a 400 is an ordinary invalid request, not a context-length overflow. */
  errorBody(status: number, message: string, inputTokens: number, plain?: boolean): string
  /** An SSE event whose JSON is cut in half: exercises the proxy's parse-error path. */
  readonly malformedEvent: string
}

/** Zero-padded sequence tag embedded in chunk i (1-based): `[0001]`. */
export function seqTag(i: number): string {
  return `[${String(i).padStart(4, '0')}]`
}

/**
 * Text of chunk i: its tag plus filler words so the chunk stands for `tokens` tokens.
 * Only ASCII without quotes or backslashes, so it can be spliced into JSON templates as is.
 */
export function chunkText(i: number, tokens: number): string {
  return seqTag(i) + ' tok'.repeat(tokens - 1) + ' '
}

/** Text of thinking delta i (1-based). */
export function thinkText(i: number, tokens: number): string {
  return `(think ${String(i).padStart(4, '0')})` + ' hmm'.repeat(tokens - 1) + ' '
}

/** Output tokens the mock claims for a spec: every delta it streams counts `tokensPerChunk`. */
export function outputTokensOf(
  spec: Pick<ContentSpec, 'chunks' | 'firstChunk' | 'tokensPerChunk' | 'mode' | 'thinkChunks'>,
): number {
  const text = Math.max(0, spec.chunks - (spec.firstChunk ?? 1) + 1)
  const deltas = spec.mode === 'thinking' ? text + spec.thinkChunks : text
  return deltas * spec.tokensPerChunk
}

/** The thinking share of {@link outputTokensOf}: zero outside thinking mode. */
export function thinkingTokensOf(spec: Pick<ContentSpec, 'tokensPerChunk' | 'mode' | 'thinkChunks'>): number {
  return spec.mode === 'thinking' ? spec.thinkChunks * spec.tokensPerChunk : 0
}

/** The full text of the answer (text and thinking modes). */
export function fullText(spec: ContentSpec): string {
  let s = ''
  for (let i = spec.firstChunk ?? 1; i <= spec.chunks; i++) s += chunkText(i, spec.tokensPerChunk)
  return s
}

/** The full thinking text (thinking mode). */
export function fullThinking(spec: ContentSpec): string {
  let s = ''
  for (let i = 1; i <= spec.thinkChunks; i++) s += thinkText(i, spec.tokensPerChunk)
  return s
}

/**
 * The chunk a continuation starts at: after the last complete sequence tag of the prefill,
 * less `overlap` chunks the "model" repeats (as models often repeat the last words).
 * @example continueFrom('[0001] [0002] [00', 0) // 3
 */
export function continueFrom(prefill: string, overlap: number): number {
  let last = 0
  for (const m of prefill.matchAll(/\[(\d{4})\]/g)) last = Number(m[1])
  return Math.max(1, last + 1 - overlap)
}

/**
 * The conversation's turns as `{ role, content }` whatever the format: Anthropic and OpenAI
 * `messages`, Gemini `contents` (role `model` is the assistant's), Responses `input` items
 * with a role (a string input is one user turn).
 */
function turnsOf(body: Record<string, unknown>): Record<string, unknown>[] {
  if (Array.isArray(body.messages)) return body.messages as Record<string, unknown>[]
  if (Array.isArray(body.contents)) {
    return (body.contents as Record<string, unknown>[]).map((c) => ({
      role: c?.role === 'model' ? 'assistant' : 'user',
      content: c?.parts,
    }))
  }
  if (typeof body.input === 'string') return [{ role: 'user', content: body.input }]
  if (Array.isArray(body.input)) {
    return (body.input as Record<string, unknown>[]).filter((i) => typeof i?.role === 'string')
  }
  return []
}

/** The text of a trailing assistant message (a prefill), or undefined when the last message is not one. */
export function prefillOf(body: Record<string, unknown>): string | undefined {
  const messages = turnsOf(body)
  const last = messages[messages.length - 1] as Record<string, unknown> | undefined
  if (last?.role !== 'assistant') return undefined
  const parts: string[] = []
  collectText(last.content, parts)
  return parts.join('')
}

/**
 * A request that asks for the rest of an answer in words: an assistant message followed by a
 * last user message that starts with "Continue" (what a proxy sends a model that takes no
 * prefill). The mock answers it like a prefill of that assistant message.
 */
export function instructedPrefillOf(body: Record<string, unknown>): string | undefined {
  const messages = turnsOf(body)
  const last = messages[messages.length - 1] as Record<string, unknown> | undefined
  const before = messages[messages.length - 2] as Record<string, unknown> | undefined
  if (last?.role !== 'user' || before?.role !== 'assistant') return undefined
  const ask: string[] = []
  collectText(last.content, ask)
  if (!/^\s*continue\b/i.test(ask.join(''))) return undefined
  const parts: string[] = []
  collectText(before.content, parts)
  return parts.join('')
}

/** Wrap an SSE string as a token-carrying event. */
export const tokenEvent = (sse: string): PlannedEvent => ({ sse, token: true })
/** Wrap an SSE string as a framing event (sent right after the previous one). */
export const frameEvent = (sse: string): PlannedEvent => ({ sse, token: false })

/** A framing event that never changes (`message_stop`, `[DONE]`…), encoded once; every stream enqueues the same bytes (readers must not mutate chunks, which no web-stream consumer does). */
export const staticEvent = (sse: string): PlannedEvent => ({ sse, token: false, bytes: new TextEncoder().encode(sse) })

export const TOOL_NAME = 'mock_lookup'

/** The tool call's arguments as one JSON string: `tool-input`, else `{"seq":"[0001] [0002] … "}`. */
export function toolArguments(spec: ContentSpec): string {
  return spec.toolInput ?? JSON.stringify({ seq: fullText(spec) })
}

/** The tool call's name as a JSON string literal (for the wire templates). */
export function toolNameJson(spec: ContentSpec): string {
  return JSON.stringify(spec.toolName ?? TOOL_NAME)
}

/**
 * True when the last message carries a tool result: an OpenAI `tool` message, a message with a
 * `tool_result` content block (Anthropic), a Responses `function_call_output` input item or a
 * Gemini content with a `functionResponse` part. `system` messages after it do not count
 * (Claude Code appends one to the conversation). `tool-once` answers such a request with text.
 */
export function endsWithToolResult(body: Record<string, unknown>): boolean {
  if (Array.isArray(body.input)) {
    return (body.input.at(-1) as { type?: unknown } | undefined)?.type === 'function_call_output'
  }
  if (Array.isArray(body.contents)) {
    const parts = (body.contents.at(-1) as { parts?: unknown } | undefined)?.parts
    return Array.isArray(parts) &&
      parts.some((p: unknown) => (p as { functionResponse?: unknown } | null)?.functionResponse !== undefined)
  }
  const messages = (Array.isArray(body.messages) ? body.messages : []) as unknown[]
  const last = messages.findLast((m) => (m as { role?: unknown } | null)?.role !== 'system') as
    | Record<string, unknown>
    | undefined
  if (last === undefined || last === null || typeof last !== 'object') return false
  if (last.role === 'tool') return true
  return Array.isArray(last.content) &&
    last.content.some((b: unknown) =>
      b !== null && typeof b === 'object' && (b as { type?: unknown }).type === 'tool_result'
    )
}

/** The arguments split into `max(1, chunks)` fragments whose concatenation is valid JSON. */
export function toolFragments(spec: ContentSpec): string[] {
  const args = toolArguments(spec)
  const n = Math.max(1, spec.chunks)
  const size = Math.ceil(args.length / n)
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(args.slice(i * size, (i + 1) * size))
  return out
}

const utf8 = new TextEncoder()

function collectText(value: unknown, out: string[]): void {
  if (typeof value === 'string') {
    out.push(value)
    return
  }
  if (Array.isArray(value)) {
    for (const v of value) collectText(v, out)
    return
  }
  if (value === null || typeof value !== 'object') return
  const o = value as Record<string, unknown>
  if (typeof o.text === 'string') out.push(o.text)
  if (o.content !== undefined) collectText(o.content, out)
  if (o.parts !== undefined) collectText(o.parts, out)
}

/**
 * The mock's input-token count: ceil(UTF-8 bytes / 4) of the prompt text — `system` plus
 * every message's string content (Responses and Gemini prompts likewise), `text` parts and nested tool-result content. Deterministic,
 * so tests can compute the expected usage from the request they sent.
 */
export function estimateInputTokens(body: Record<string, unknown>): number {
  const parts: string[] = []
  collectText(body.system, parts)
  collectText(body.messages, parts)
  // Responses (`instructions`, `input`) and Gemini (`systemInstruction`, `contents`) prompts.
  for (const k of ['instructions', 'input', 'systemInstruction', 'contents']) collectText(body[k], parts)
  let bytes = 0
  for (const p of parts) bytes += utf8.encode(p).length
  return Math.ceil(bytes / 4)
}
