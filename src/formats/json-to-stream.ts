/**
 * A finished JSON answer replayed as the client format's event stream. Some upstreams ignore
 * `stream: true` and answer with one JSON body; a client that asked for a stream can only
 * parse events, so it gets the same content as a short, complete, well-formed stream.
 */
import { encodeSse } from './sse/encode.ts'
import type { JsonObject, SseEvent, WireFormatName } from './types.ts'
import { obj } from './translate/json.ts'
import { responsesEvents } from './responses/json-events.ts'

const ev = (event: string, data: JsonObject): SseEvent => ({ event, data: JSON.stringify({ type: event, ...data }) })

/** Events for one Anthropic content block: start with an empty shell, one delta with everything, stop. */
function anthropicBlock(block: JsonObject, index: number): SseEvent[] {
  const start = (content_block: JsonObject) => ev('content_block_start', { index, content_block })
  const delta = (d: JsonObject) => ev('content_block_delta', { index, delta: d })
  const stop = ev('content_block_stop', { index })
  switch (block.type) {
    case 'text':
      return [start({ type: 'text', text: '' }), delta({ type: 'text_delta', text: String(block.text ?? '') }), stop]
    case 'thinking':
      return [
        start({ type: 'thinking', thinking: '', signature: '' }),
        delta({ type: 'thinking_delta', thinking: String(block.thinking ?? '') }),
        delta({ type: 'signature_delta', signature: String(block.signature ?? '') }),
        stop,
      ]
    case 'tool_use':
      return [
        start({ ...block, input: {} }),
        delta({ type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) }),
        stop,
      ]
    default:
      // redacted_thinking, server tool results…: complete blocks with no deltas.
      return [start(block), stop]
  }
}

/** A hub (Anthropic) message as its complete event stream. */
export function anthropicEvents(message: JsonObject): SseEvent[] {
  const content = Array.isArray(message.content) ? message.content.map(obj) : []
  const usage = obj(message.usage)
  const out: SseEvent[] = [
    ev('message_start', {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 0 },
      },
    }),
  ]
  content.forEach((b, i) => out.push(...anthropicBlock(b, i)))
  out.push(
    ev('message_delta', {
      delta: { stop_reason: message.stop_reason ?? 'end_turn', stop_sequence: message.stop_sequence ?? null },
      usage,
    }),
  )
  out.push(ev('message_stop', {}))
  return out
}

function openaiEvents(completion: JsonObject, includeUsage: boolean): SseEvent[] {
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  }
  const chunk = (delta: JsonObject, finish: unknown = null): SseEvent => ({
    data: JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }),
  })
  const choice = obj((Array.isArray(completion.choices) ? completion.choices : [])[0])
  const message = obj(choice.message)
  const out: SseEvent[] = [chunk({ role: 'assistant', content: '' })]
  const reasoning = message.reasoning_content ?? message.reasoning
  if (typeof reasoning === 'string' && reasoning) out.push(chunk({ reasoning_content: reasoning }))
  if (typeof message.content === 'string' && message.content) out.push(chunk({ content: message.content }))
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.map(obj) : []
  calls.forEach((c, index) =>
    out.push(
      chunk({
        tool_calls: [{
          index,
          id: c.id,
          type: 'function',
          function: { name: obj(c.function).name, arguments: String(obj(c.function).arguments ?? '') },
        }],
      }),
    )
  )
  out.push(chunk({}, choice.finish_reason ?? 'stop'))
  if (includeUsage && completion.usage) {
    out.push({ data: JSON.stringify({ ...base, choices: [], usage: completion.usage }) })
  }
  out.push({ data: '[DONE]' })
  return out
}

/**
 * The SSE text a streaming client of `format` would have received for this final answer
 * (already in the client's format).
 * @example jsonAsStream('openai', completion, { includeUsage: true }) // 'data: {…}\n\n…data: [DONE]\n\n'
 */
export function jsonAsStream(format: WireFormatName, body: JsonObject, opts: { includeUsage: boolean }): string {
  return eventsOf(format, body, opts).map(encodeSse).join('')
}

function eventsOf(format: WireFormatName, body: JsonObject, opts: { includeUsage: boolean }): SseEvent[] {
  switch (format) {
    case 'anthropic':
      return anthropicEvents(body)
    case 'openai':
      return openaiEvents(body, opts.includeUsage)
    // A Gemini answer is a valid one-chunk stream.
    case 'gemini':
      return [{ data: JSON.stringify(body) }]
    case 'responses':
      return responsesEvents(body)
  }
}
