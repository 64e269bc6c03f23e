import type { JsonObject, SseEvent, TranslateContext, Usage } from '../types.ts'
import { ENDED_EARLY, StreamBase } from './stream-base.ts'
import { openaiFinishOf } from './finish-reasons.ts'
import { mintId, restoreToolName } from './ids.ts'
import { isObject, num, obj, str, tryParse } from './json.ts'
import { repairToolArgsText } from './tool-args.ts'
import { mergeAnthropicUsage, openaiUsageBody, usageOfAnthropic } from './usage-map.ts'

/**
 * Anthropic events (A-upstream) → OpenAI chunks (O-client), docs/protocols.md §4.7. Tool-call
 * indices count tool blocks only; thinking becomes `reasoning_content`; signatures are
 * dropped. With `ctx.includeUsage`, every chunk carries `usage: null` and a usage chunk
 * precedes `[DONE]`.
 */
export class AnthropicToOpenAIStream extends StreamBase {
  readonly #ctx: TranslateContext
  readonly #id: string
  readonly #blockToTool = new Map<number, number>()
  readonly #buffered = new Map<number, string>()
  readonly #sentArgs = new Set<number>()
  readonly #thinking: JsonObject[] = []
  #firstToolId: string | undefined
  /** Every chunk's text up to its delta (id, object, created, model, `choices[0].index`): written once. */
  #head: string | undefined
  #started = false
  #finished = false
  #usage: Usage | undefined

  constructor(ctx: TranslateContext) {
    super()
    this.#ctx = ctx
    this.#id = mintId('chatcmpl-', ctx.requestId)
  }

  push(ev: SseEvent): SseEvent[] {
    if (this.done) return []
    const data = tryParse(ev.data)
    const type = isObject(data) ? str(data.type) ?? ev.event : ev.event
    if (type === 'error' || ev.event === 'error') this.#fail(data ?? { error: { message: ev.data } })
    else if (isObject(data)) this.#dispatch(type, data)
    return this.drain()
  }

  end(): SseEvent[] {
    if (this.done) return []
    if (this.#finished) this.#complete()
    else this.#fail(ENDED_EARLY)
    return this.drain()
  }

  #dispatch(type: string | undefined, d: JsonObject): void {
    switch (type) {
      case 'message_start':
        this.#usage = usageOfAnthropic(obj(d.message).usage)
        return this.#start()
      case 'content_block_start':
        return this.#blockStart(num(d.index) ?? 0, obj(d.content_block))
      case 'content_block_delta':
        return this.#blockDelta(num(d.index) ?? 0, obj(d.delta))
      case 'content_block_stop':
        return this.#blockStop(num(d.index) ?? 0)
      case 'message_delta':
        this.#usage = mergeAnthropicUsage(this.#usage, obj(d.usage))
        this.#finished = true
        return this.#chunk({}, openaiFinishOf(str(obj(d.delta).stop_reason)))
      case 'message_stop':
        return this.#complete()
      default:
        return // ping and unknown events carry nothing for an OpenAI client
    }
  }

  #blockStart(index: number, block: JsonObject): void {
    if (block.type === 'text' && str(block.text)) this.#chunk({ content: block.text })
    if (this.#ctx.onThinking && (block.type === 'thinking' || block.type === 'redacted_thinking')) {
      this.#thinking.push({ ...block })
    }
    if (block.type !== 'tool_use') return
    this.#firstToolId ??= str(block.id)
    const tool = this.#blockToTool.size
    this.#blockToTool.set(index, tool)
    const name = restoreToolName(this.#ctx.toolNames, str(block.name) ?? '')
    this.#chunk({
      tool_calls: [{ index: tool, id: str(block.id) ?? '', type: 'function', function: { name, arguments: '' } }],
    })
  }

  #blockDelta(index: number, delta: JsonObject): void {
    if (delta.type === 'text_delta' && str(delta.text)) this.#chunk(`{"content":${JSON.stringify(delta.text)}}`)
    else if (delta.type === 'thinking_delta' && str(delta.thinking)) {
      this.#keepThinking('thinking', delta.thinking as string)
      this.#chunk({ reasoning_content: delta.thinking })
    } else if (delta.type === 'signature_delta' && str(delta.signature)) {
      this.#keepThinking('signature', delta.signature as string)
    } else if (delta.type === 'input_json_delta' && str(delta.partial_json)) {
      const tool = this.#blockToTool.get(index)
      if (tool === undefined) return
      const part = delta.partial_json as string
      if (this.#ctx.repairToolArgs) this.#buffered.set(tool, (this.#buffered.get(tool) ?? '') + part)
      else {
        this.#sentArgs.add(tool)
        this.#chunk({ tool_calls: [{ index: tool, function: { arguments: part } }] })
      }
    }
  }

  /** Buffered (repaired) arguments go out at the block's end; a call that sent none gets `{}` so clients can parse it. */
  #blockStop(index: number): void {
    const tool = this.#blockToTool.get(index)
    if (tool === undefined) return
    const args = this.#buffered.get(tool)
    this.#buffered.delete(tool)
    if (args !== undefined) {
      this.#chunk({ tool_calls: [{ index: tool, function: { arguments: repairToolArgsText(args) } }] })
    } else if (!this.#sentArgs.has(tool)) this.#chunk({ tool_calls: [{ index: tool, function: { arguments: '{}' } }] })
  }

  /** Rebuild the current thinking block for ctx.onThinking (only when the caller asked for it). */
  #keepThinking(field: 'thinking' | 'signature', text: string): void {
    const last = this.#thinking.at(-1)
    if (last?.type === 'thinking') last[field] = String(last[field] ?? '') + text
  }

  #start(): void {
    if (this.#started) return
    this.#started = true
    this.#chunk({ role: 'assistant', content: '' })
  }

  /**
   * One chunk: `{ id, object, created, model, choices: [{ index: 0, delta, logprobs: null,
   * finish_reason }], usage?: null }` as JSON.stringify writes it, the part before the delta
   * written once per stream. `delta`: an object, or its JSON text already written.
   */
  #chunk(delta: JsonObject | string, finish: string | null = null): void {
    this.#start()
    this.#head ??= JSON.stringify({
      id: this.#id,
      object: 'chat.completion.chunk',
      created: this.#ctx.created,
      model: this.#ctx.model,
    }).slice(0, -1) + ',"choices":[{"index":0,"delta":'
    const d = typeof delta === 'string' ? delta : JSON.stringify(delta)
    const usage = this.#ctx.includeUsage ? ',"usage":null' : ''
    this.emit({ data: `${this.#head}${d},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]${usage}}` })
  }

  #complete(): void {
    if (this.#firstToolId && this.#thinking.length > 0) this.#ctx.onThinking?.(this.#firstToolId, this.#thinking)
    if (!this.#finished) this.#chunk({}, 'stop')
    if (this.#ctx.includeUsage) {
      const usage = openaiUsageBody(
        this.#usage ??
          { inputTokens: this.#ctx.estimatedInputTokens, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      )
      this.emit({
        data: JSON.stringify({
          id: this.#id,
          object: 'chat.completion.chunk',
          created: this.#ctx.created,
          model: this.#ctx.model,
          choices: [],
          usage,
        }),
      })
    }
    this.emit({ data: '[DONE]' })
    this.finish()
  }

  #fail(payload: unknown): void {
    this.fail('openai', payload, this.#ctx.upstreamModel)
  }
}
