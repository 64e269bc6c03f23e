/**
 * The reverse of json-to-stream.ts: a client-format event stream folded back into the one JSON
 * answer it carried, and whether the stream was complete (its terminal event arrived and no
 * error event did). The response cache stores streamed answers this way, so a later request
 * can be answered as JSON or replayed as a stream.
 */
import type { JsonObject, SseEvent, WireFormatName } from './types.ts'
import { arr, obj } from './translate/json.ts'
import { mergeGeminiChunks } from './gemini/stream.ts'

export interface StreamFold {
  push(ev: SseEvent): void
  /** The whole answer, or undefined when the stream was incomplete, errored or unreadable. */
  result(): JsonObject | undefined
}

const parse = (data: string): JsonObject | undefined => {
  try {
    const v: unknown = JSON.parse(data)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined
  } catch {
    return undefined
  }
}

function anthropicFold(): StreamFold {
  let message: JsonObject | undefined
  const blocks: JsonObject[] = []
  const json: string[] = []
  let done = false
  let broken = false
  return {
    push(ev) {
      const d = parse(ev.data)
      const type = d?.type ?? ev.event
      if (!d || broken) {
        if (ev.event !== 'ping') broken ||= ev.data.trim() !== ''
        return
      }
      switch (type) {
        case 'message_start':
          message = { ...obj(d.message) }
          break
        case 'content_block_start': {
          const i = Number(d.index)
          const b = { ...obj(d.content_block) }
          if (b.type === 'tool_use') {
            json[i] = ''
            b.input = {}
          }
          blocks[i] = b
          break
        }
        case 'content_block_delta': {
          const i = Number(d.index)
          const b = blocks[i]
          const delta = obj(d.delta)
          if (!b) {
            broken = true
            break
          }
          if (delta.type === 'text_delta') b.text = String(b.text ?? '') + String(delta.text ?? '')
          else if (delta.type === 'thinking_delta') b.thinking = String(b.thinking ?? '') + String(delta.thinking ?? '')
          else if (delta.type === 'signature_delta') {
            b.signature = String(b.signature ?? '') + String(delta.signature ?? '')
          } else if (delta.type === 'input_json_delta') json[i] = (json[i] ?? '') + String(delta.partial_json ?? '')
          break
        }
        case 'content_block_stop': {
          const i = Number(d.index)
          const b = blocks[i]
          if (b?.type === 'tool_use' && json[i]) {
            const input = parse(json[i]!)
            if (input) b.input = input
            else broken = true
          }
          break
        }
        case 'message_delta': {
          if (!message) {
            broken = true
            break
          }
          Object.assign(message, obj(d.delta))
          message.usage = { ...obj(message.usage), ...obj(d.usage) }
          break
        }
        case 'message_stop':
          done = true
          break
        case 'error':
          broken = true
          break
        default:
          break
      }
    },
    result() {
      if (!done || broken || !message) return undefined
      return { ...message, content: blocks.filter((b) => b !== undefined) }
    },
  }
}

interface Call {
  id?: unknown
  name: string
  args: string
}

function openaiFold(): StreamFold {
  let head: JsonObject | undefined
  let content = ''
  let reasoning = ''
  const calls: Call[] = []
  let finish: unknown
  let usage: unknown
  let broken = false
  return {
    push(ev) {
      if (broken) return
      if (ev.data.trim() === '[DONE]') return
      const d = parse(ev.data)
      if (!d || d.error !== undefined) {
        broken = true
        return
      }
      head ??= {
        id: d.id,
        object: 'chat.completion',
        created: d.created,
        model: d.model,
        ...(d.system_fingerprint === undefined ? {} : { system_fingerprint: d.system_fingerprint }),
      }
      if (d.usage) usage = d.usage
      const choice = obj((Array.isArray(d.choices) ? d.choices : [])[0])
      const delta = obj(choice.delta)
      if (typeof delta.content === 'string') content += delta.content
      const r = delta.reasoning_content ?? delta.reasoning
      if (typeof r === 'string') reasoning += r
      for (const tc of Array.isArray(delta.tool_calls) ? delta.tool_calls.map(obj) : []) {
        const i = Number(tc.index ?? 0)
        const c = (calls[i] ??= { name: '', args: '' })
        if (tc.id !== undefined) c.id = tc.id
        const fn = obj(tc.function)
        if (typeof fn.name === 'string') c.name += fn.name
        if (typeof fn.arguments === 'string') c.args += fn.arguments
      }
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) finish = choice.finish_reason
    },
    result() {
      // An answer that ends after its finish_reason is complete without [DONE], as some upstreams send it.
      if (broken || !head || finish === undefined) return undefined
      const toolCalls = calls.filter((c) => c !== undefined).map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.args },
      }))
      const message: JsonObject = {
        role: 'assistant',
        content: content === '' && toolCalls.length > 0 ? null : content,
        ...(reasoning ? { reasoning_content: reasoning } : {}),
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      }
      return {
        ...head,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        ...(usage === undefined ? {} : { usage }),
      }
    },
  }
}

/**
 * A fold for a stream in `format` (the client's format: the bytes the client received).
 * @example const f = streamFold('openai'); events.forEach(f.push); f.result()?.choices
 */
export function streamFold(format: WireFormatName): StreamFold {
  switch (format) {
    case 'anthropic':
      return anthropicFold()
    case 'openai':
      return openaiFold()
    case 'responses':
      return responsesFold()
    case 'gemini':
      return geminiFold()
  }
}

/** A Responses stream's answer is the `response` of its terminal `response.completed` / `incomplete`. */
function responsesFold(): StreamFold {
  let response: JsonObject | undefined
  let broken = false
  return {
    push(ev) {
      if (broken) return
      const d = parse(ev.data)
      if (!d) {
        broken = ev.data.trim() !== ''
        return
      }
      const type = ev.event ?? d.type
      if (type === 'error' || type === 'response.failed') broken = true
      else if (type === 'response.completed' || type === 'response.incomplete') response = obj(d.response)
    },
    result() {
      return broken ? undefined : response
    },
  }
}

/** Gemini chunks merged into one GenerateContentResponse; complete once a chunk named a finishReason. */
function geminiFold(): StreamFold {
  const chunks: JsonObject[] = []
  let finished = false
  let broken = false
  return {
    push(ev) {
      if (broken) return
      const d = parse(ev.data)
      if (!d || d.error !== undefined) {
        broken = ev.data.trim() !== ''
        return
      }
      chunks.push(d)
      if (
        typeof obj(arr(d.candidates)[0]).finishReason === 'string' ||
        typeof obj(d.promptFeedback).blockReason === 'string'
      ) finished = true
    },
    result() {
      return broken || !finished ? undefined : mergeGeminiChunks(chunks)
    },
  }
}
