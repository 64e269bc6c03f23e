/**
 * Hub stream events → OpenAI Responses stream events (a Responses client), and through the same
 * code, a hub message → a Responses `response` object. Emits the full sequence real clients
 * rely on: response.created / in_progress, output_item.added/done, content_part.added/done,
 * output_text.delta/done, reasoning_summary_*, function_call_arguments.delta/done (custom tools:
 * custom_tool_call_input.*), and response.completed / incomplete with an id and usage, or
 * response.failed for an in-stream error.
 */
import type { JsonObject, TranslateContext, Usage } from '../types.ts'
import { FromHubStream } from '../hub/stream-bases.ts'
import { mintId, restoreToolName } from '../translate/ids.ts'
import { isObject, obj, str, tryParse } from '../translate/json.ts'
import { anthropicEvents } from '../json-to-stream.ts'
import { CUSTOM_INPUT } from './request.ts'
import { compactionItem } from './compaction.ts'

/** Without the upstream's reasoning-token count, it is estimated from the reasoning text (4 characters a token). */
const REASONING_CHARS_PER_TOKEN = 4

const ZERO: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }

/** Responses `usage` for a hub Usage: input counts every input token, cached ones among them. */
function responsesUsageBody(u: Usage, reasoningTokens = 0): JsonObject {
  const input = u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: input + u.outputTokens,
  }
}

/** A completed response with no output and no tokens: the answer to a request that asks no model (a warm-up). */
export function emptyResponse(id: string, model: unknown, createdAt: number): JsonObject {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'completed',
    model: model ?? null,
    output: [],
    usage: responsesUsageBody(ZERO),
  }
}

/** The response id a request gets (stable per request id). */
export const responseIdOf = (requestId: string): string => mintId('resp_', requestId)

type Open =
  | { kind: 'text'; index: number; item: JsonObject; text: string }
  | { kind: 'reasoning'; index: number; item: JsonObject; text: string; signature: string }
  | { kind: 'tool'; index: number; item: JsonObject; args: string; custom: boolean }

/** What the request translation learned that shapes the answer (`RequestMemo`'s part of it). */
export interface ResponsesAnswerOptions {
  /** Names of the client's custom tools. */
  readonly custom?: ReadonlySet<string>
  /** The client asked for compaction: the model's text is the summary, sent as one `compaction` item. */
  readonly compaction?: boolean
}

export class HubToResponsesStream extends FromHubStream {
  readonly #custom: ReadonlySet<string>
  readonly #id: string
  readonly #output: JsonObject[] = []
  #seq = 0
  #started = false
  #open: Open | undefined
  #reasoningChars = 0
  /** The summary so far, while answering a compaction request (undefined otherwise). */
  #summary: string | undefined

  constructor(ctx: TranslateContext, opts: ResponsesAnswerOptions = {}) {
    super(ctx, 'responses')
    this.#custom = opts.custom ?? new Set()
    this.#id = responseIdOf(ctx.requestId)
    if (opts.compaction) this.#summary = ''
  }

  protected dispatch(type: string | undefined, d: JsonObject): void {
    if (this.#summary !== undefined) return this.#compacting(type, d)
    switch (type) {
      case 'message_start':
        return this.#start()
      case 'content_block_start':
        return this.#blockStart(obj(d.content_block))
      case 'content_block_delta':
        return this.#delta(obj(d.delta))
      case 'content_block_stop':
        return this.#close()
      case 'message_stop':
        return this.#complete()
      default:
        return
    }
  }

  /**
   * A compaction answer: nothing is shown while the model writes (its text is the summary, its
   * reasoning and any tool call are left out); at the end, one `compaction` item, then completed.
   */
  #compacting(type: string | undefined, d: JsonObject): void {
    if (type === 'message_start') return this.#start()
    if (type === 'content_block_start' && obj(d.content_block).type === 'text') {
      this.#summary += str(obj(d.content_block).text) ?? ''
    } else if (type === 'content_block_delta' && obj(d.delta).type === 'text_delta') {
      this.#summary += str(obj(d.delta).text) ?? ''
    } else if (type === 'message_stop') {
      this.#start()
      const item = compactionItem(this.#itemId('cmp'), (this.#summary ?? '').trim())
      this.#ev('response.output_item.added', { output_index: 0, item })
      this.#output.push(item)
      this.#ev('response.output_item.done', { output_index: 0, item })
      const usage = responsesUsageBody(this.usage ?? { ...ZERO, inputTokens: this.ctx.estimatedInputTokens })
      this.#ev('response.completed', { response: this.#response('completed', { usage }) })
      this.finish()
    }
  }

  #ev(type: string, payload: JsonObject): void {
    this.emit({ event: type, data: JSON.stringify({ type, sequence_number: this.#seq++, ...payload }) })
  }

  #response(status: string, extra: JsonObject = {}): JsonObject {
    return {
      id: this.#id,
      object: 'response',
      created_at: this.ctx.created,
      status,
      error: null,
      incomplete_details: null,
      model: this.ctx.model,
      output: [...this.#output],
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: [],
      usage: null,
      ...extra,
    }
  }

  #start(): void {
    if (this.#started) return
    this.#started = true
    this.#ev('response.created', { response: this.#response('in_progress') })
    this.#ev('response.in_progress', { response: this.#response('in_progress') })
  }

  #itemId(prefix: string): string {
    return `${prefix}_${mintId('', this.ctx.requestId)}_${this.#output.length}`
  }

  #blockStart(block: JsonObject): void {
    this.#start()
    this.#close()
    const index = this.#output.length
    if (block.type === 'text') {
      const item = { id: this.#itemId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] }
      this.#open = { kind: 'text', index, item, text: str(block.text) ?? '' }
      this.#ev('response.output_item.added', { output_index: index, item })
      this.#ev('response.content_part.added', {
        item_id: item.id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      })
      if (this.#open.text) {
        this.#ev('response.output_text.delta', {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          delta: this.#open.text,
          logprobs: [],
        })
      }
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      const item = { id: this.#itemId('rs'), type: 'reasoning', summary: [] }
      const signature = block.type === 'redacted_thinking'
        ? `redacted:${str(block.data) ?? ''}`
        : str(block.signature) ?? ''
      this.#open = { kind: 'reasoning', index, item, text: str(block.thinking) ?? '', signature }
      this.#ev('response.output_item.added', { output_index: index, item })
    } else if (block.type === 'tool_use') {
      const name = restoreToolName(this.ctx.toolNames, str(block.name) ?? '')
      const custom = this.#custom.has(name)
      const item: JsonObject = {
        id: this.#itemId(custom ? 'ctc' : 'fc'),
        type: custom ? 'custom_tool_call' : 'function_call',
        status: 'in_progress',
        call_id: str(block.id) ?? '',
        name,
        [custom ? 'input' : 'arguments']: '',
      }
      const args = isObject(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : ''
      this.#open = { kind: 'tool', index, item, args, custom }
      this.#ev('response.output_item.added', { output_index: index, item })
    }
  }

  #delta(delta: JsonObject): void {
    const open = this.#open
    if (!open) return
    if (open.kind === 'text' && delta.type === 'text_delta' && str(delta.text)) {
      open.text += delta.text as string
      this.#ev('response.output_text.delta', {
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        delta: delta.text,
        logprobs: [],
      })
    } else if (open.kind === 'reasoning' && delta.type === 'thinking_delta' && str(delta.thinking)) {
      if (!open.text) {
        this.#ev('response.reasoning_summary_part.added', {
          item_id: open.item.id,
          output_index: open.index,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        })
      }
      open.text += delta.thinking as string
      this.#ev('response.reasoning_summary_text.delta', {
        item_id: open.item.id,
        output_index: open.index,
        summary_index: 0,
        delta: delta.thinking,
      })
    } else if (open.kind === 'reasoning' && delta.type === 'signature_delta') {
      open.signature += str(delta.signature) ?? ''
    } else if (open.kind === 'tool' && delta.type === 'input_json_delta' && str(delta.partial_json)) {
      open.args += delta.partial_json as string
      // A custom tool's input is one string inside the hub's JSON: it can only be sent whole.
      if (!open.custom) {
        this.#ev('response.function_call_arguments.delta', {
          item_id: open.item.id,
          output_index: open.index,
          delta: delta.partial_json,
        })
      }
    }
  }

  #close(): void {
    const open = this.#open
    if (!open) return
    this.#open = undefined
    const base = { item_id: open.item.id, output_index: open.index }
    let item: JsonObject
    if (open.kind === 'text') {
      const part = { type: 'output_text', text: open.text, annotations: [] }
      this.#ev('response.output_text.done', { ...base, content_index: 0, text: open.text, logprobs: [] })
      this.#ev('response.content_part.done', { ...base, content_index: 0, part })
      item = { ...open.item, status: 'completed', content: [part] }
    } else if (open.kind === 'reasoning') {
      const summary = open.text ? [{ type: 'summary_text', text: open.text }] : []
      this.#reasoningChars += open.text.length
      if (open.text) {
        this.#ev('response.reasoning_summary_text.done', { ...base, summary_index: 0, text: open.text })
        this.#ev('response.reasoning_summary_part.done', { ...base, summary_index: 0, part: summary[0] })
      }
      item = { ...open.item, summary, ...(open.signature ? { encrypted_content: open.signature } : {}) }
    } else if (open.custom) {
      const input = str(obj(tryParse(open.args))[CUSTOM_INPUT]) ?? ''
      if (input) this.#ev('response.custom_tool_call_input.delta', { ...base, delta: input })
      this.#ev('response.custom_tool_call_input.done', { ...base, input })
      item = { ...open.item, status: 'completed', input }
    } else {
      const args = open.args || '{}'
      this.#ev('response.function_call_arguments.done', { ...base, arguments: args, name: open.item.name })
      item = { ...open.item, status: 'completed', arguments: args }
    }
    this.#output.push(item)
    this.#ev('response.output_item.done', { output_index: open.index, item })
  }

  #complete(): void {
    this.#start()
    this.#close()
    const usage = responsesUsageBody(
      this.usage ?? { ...ZERO, inputTokens: this.ctx.estimatedInputTokens },
      this.thinkingTokens ?? Math.ceil(this.#reasoningChars / REASONING_CHARS_PER_TOKEN),
    )
    const incomplete = this.stop === 'max_tokens' || this.stop === 'model_context_window_exceeded'
    const response = incomplete
      ? this.#response('incomplete', { incomplete_details: { reason: 'max_output_tokens' }, usage })
      : this.#response('completed', { usage })
    this.#ev(incomplete ? 'response.incomplete' : 'response.completed', { response })
    this.finish()
  }
}

/** A hub message as a Responses `response` object (the same code path as the stream). */
export function hubToResponsesResponse(
  message: JsonObject,
  ctx: TranslateContext,
  opts?: ResponsesAnswerOptions,
): JsonObject {
  const t = new HubToResponsesStream(ctx, opts)
  const out = anthropicEvents(message).flatMap((ev) => t.push(ev))
  const last = obj(tryParse(out[out.length - 1]?.data ?? ''))
  return obj(last.response)
}
