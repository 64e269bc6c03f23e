import fc from 'fast-check'
import type { JsonObject, SseEvent, StreamTranslator, TranslateContext } from '../../src/formats/types.ts'

/** Split `text` at the given cut points (sorted, deduplicated, clamped to the text). */
export function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), text.length)))].sort((a, b) => a - b)
  const out: string[] = []
  let prev = 0
  for (const p of points) {
    out.push(text.slice(prev, p))
    prev = p
  }
  out.push(text.slice(prev))
  return out
}

/** Cut points for chunking a text of up to `max` characters. */
export const cutsArb = (max = 400): fc.Arbitrary<number[]> => fc.array(fc.nat({ max }), { maxLength: 30 })

/** Split an event list into consecutive groups (how a network delivers them). */
export function groupAt<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  return splitAt('x'.repeat(items.length), cuts).map((s, i, all) => {
    const start = all.slice(0, i).reduce((n, p) => n + p.length, 0)
    return items.slice(start, start + s.length)
  })
}

const fieldText = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', '{', '"', 'é', '😀', '\n') })

/** SSE events whose data may span lines (no bare `\r`: the wire cannot carry it in a data line). */
export const sseEventArb: fc.Arbitrary<SseEvent> = fc.record(
  { event: fc.constantFrom('message_start', 'ping', 'content_block_delta', 'error'), data: fieldText },
  { requiredKeys: ['data'] },
).map((e) => ({ ...e }))

/** A text delta that may contain think tags, tag fragments, whitespace and unicode. */
export const contentPieceArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('<think>', '</think>', '<th', 'ink>', '</th', '\n', ' ', 'x<y', 'é'),
  fc.string({ unit: fc.constantFrom('a', 'b', ' ', '<', '>', '/', '\n'), maxLength: 12 }),
)

/** A translation context for tests. */
export function testCtx(over: Partial<TranslateContext> = {}): TranslateContext {
  return {
    model: 'client-model',
    upstreamModel: 'up-model',
    requestId: 'req_1',
    estimatedInputTokens: 77,
    includeUsage: false,
    created: 1730000000,
    ...over,
  }
}

/** Push every event, then end(): the client-side events. */
export function runStream(t: StreamTranslator, events: readonly SseEvent[]): SseEvent[] {
  return [...events.flatMap((e) => t.push(e)), ...t.end()]
}

/** OpenAI chunk events for a list of deltas (+ finish and usage chunks, and `[DONE]`). */
export function openaiChunks(
  deltas: readonly JsonObject[],
  opts: { finish?: string; usage?: JsonObject; done?: boolean } = {},
): SseEvent[] {
  const base = { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'up' }
  const out: SseEvent[] = deltas.map((delta) => ({
    data: JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }] }),
  }))
  if (opts.finish) {
    out.push({ data: JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: opts.finish }] }) })
  }
  if (opts.usage) out.push({ data: JSON.stringify({ ...base, choices: [], usage: opts.usage }) })
  if (opts.done !== false) out.push({ data: '[DONE]' })
  return out
}

/** Anthropic event helper: `event:` line matching `data.type`. */
export function aev(type: string, payload: JsonObject = {}): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...payload }) }
}

export interface AnthropicResult {
  content: JsonObject[]
  stopReason: string | null
  usage: JsonObject
  error?: JsonObject
  terminals: number
}

/**
 * Accumulate Anthropic events the way the SDK's MessageStream does, asserting the §2.4 grammar:
 * message_start first, contiguous indices, one block open at a time, nothing after the end.
 */
export function accumulateAnthropic(events: readonly SseEvent[]): AnthropicResult {
  const r: AnthropicResult = { content: [], stopReason: null, usage: {}, terminals: 0 }
  let started = false
  let open = -1
  const json: Record<number, string> = {}
  for (const ev of events) {
    if (r.terminals > 0) throw new Error(`event after terminal: ${ev.data}`)
    const d = JSON.parse(ev.data) as JsonObject
    if (ev.event !== d.type) throw new Error(`event line ${ev.event} does not match ${String(d.type)}`)
    if (d.type === 'error') {
      r.error = d.error as JsonObject
      r.terminals++
      continue
    }
    if (d.type === 'ping') continue
    if (!started && d.type !== 'message_start') throw new Error(`Unexpected event order: ${String(d.type)}`)
    const index = d.index as number
    switch (d.type) {
      case 'message_start':
        started = true
        r.usage = { ...((d.message as JsonObject).usage as JsonObject) }
        break
      case 'content_block_start':
        if (open !== -1 || index !== r.content.length) throw new Error(`bad block start ${index}`)
        open = index
        r.content.push({ ...(d.content_block as JsonObject) })
        break
      case 'content_block_delta': {
        if (index !== open) throw new Error(`delta to closed block ${index}`)
        const b = r.content[index] as JsonObject
        const delta = d.delta as JsonObject
        if (delta.type === 'text_delta' && b.type === 'text') b.text = String(b.text) + String(delta.text)
        else if (delta.type === 'thinking_delta' && b.type === 'thinking') {
          b.thinking = String(b.thinking) + String(delta.thinking)
        } else if (delta.type === 'signature_delta' && b.type === 'thinking') b.signature = delta.signature
        else if (delta.type === 'input_json_delta' && b.type === 'tool_use') {
          json[index] = (json[index] ?? '') + String(delta.partial_json)
        } else throw new Error(`delta ${String(delta.type)} on ${String(b.type)}`)
        break
      }
      case 'content_block_stop': {
        if (index !== open) throw new Error(`stop of block ${index} not open`)
        const b = r.content[index] as JsonObject
        if (b.type === 'tool_use') b.input = json[index] ? JSON.parse(json[index] as string) : {}
        if (b.type === 'thinking' && !b.signature) throw new Error('thinking block closed without signature')
        open = -1
        break
      }
      case 'message_delta':
        r.stopReason = (d.delta as JsonObject).stop_reason as string
        Object.assign(r.usage, d.usage as JsonObject)
        break
      case 'message_stop':
        if (open !== -1) throw new Error('message_stop with an open block')
        r.terminals++
        break
    }
  }
  return r
}

export interface OpenAIResult {
  role?: string
  content: string
  reasoning: string
  toolCalls: { id: string; name: string; arguments: string }[]
  finish: string | null
  usage?: JsonObject
  error?: JsonObject
  terminals: number
}

/** Accumulate OpenAI chunks, asserting §3.4: role first, tool identity fixed, `[DONE]` last. */
export function accumulateOpenAI(events: readonly SseEvent[]): OpenAIResult {
  const r: OpenAIResult = { content: '', reasoning: '', toolCalls: [], finish: null, terminals: 0 }
  for (const ev of events) {
    if (r.terminals > 0) throw new Error(`event after [DONE]: ${ev.data}`)
    if (ev.data === '[DONE]') {
      r.terminals++
      continue
    }
    const c = JSON.parse(ev.data) as JsonObject
    if (c.error) {
      r.error = c.error as JsonObject
      continue
    }
    if (c.usage) r.usage = c.usage as JsonObject
    const ch = (c.choices as JsonObject[])[0]
    if (!ch) continue
    const d = ch.delta as JsonObject
    if (r.role === undefined && d.role === undefined) throw new Error('first delta has no role')
    if (d.role) r.role = d.role as string
    if (typeof d.content === 'string') r.content += d.content
    if (typeof d.reasoning_content === 'string') r.reasoning += d.reasoning_content
    for (const tc of (d.tool_calls as JsonObject[] | undefined) ?? []) {
      const fn = tc.function as JsonObject
      const i = tc.index as number
      if (!r.toolCalls[i]) {
        if (tc.type !== 'function' || typeof fn.name !== 'string' || fn.arguments !== '') {
          throw new Error('first tool fragment incomplete')
        }
        r.toolCalls[i] = { id: String(tc.id), name: fn.name, arguments: '' }
      } else if (tc.id !== undefined || fn.name !== undefined) throw new Error('tool identity repeated')
      r.toolCalls[i]!.arguments += String(fn.arguments ?? '')
    }
    if (ch.finish_reason) r.finish = ch.finish_reason as string
  }
  return r
}
