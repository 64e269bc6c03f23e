/**
 * OpenAI Responses answers (a Responses upstream) → hub: the JSON `response` object → a hub
 * message, and the Responses event stream → hub stream events.
 */
import type { JsonObject, SseEvent, TranslateContext, Usage } from '../types.ts'
import { foreignSignature, hubEvent } from '../hub/events.ts'
import { ENDED_EARLY } from '../translate/stream-base.ts'
import { ToHubStream } from '../hub/stream-bases.ts'
import { mintId, restoreToolName, sanitizeToolId, syntheticSignature } from '../translate/ids.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'
import { parseToolArgs } from '../translate/tool-args.ts'
import { anthropicUsageBody, withReasoning, withThinkingTokens } from '../translate/usage-map.ts'

/** Usage from a Responses `usage` object: input_tokens includes the cached ones. */
export function usageOfResponses(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined
  const cached = num(obj(u.input_tokens_details).cached_tokens) ?? 0
  return withReasoning({
    inputTokens: Math.max((num(u.input_tokens) ?? 0) - cached, 0),
    outputTokens: num(u.output_tokens) ?? 0,
    cacheReadTokens: cached,
    cacheCreationTokens: 0,
  }, num(obj(u.output_tokens_details).reasoning_tokens))
}

function reasoningText(item: JsonObject): string {
  const content = arr(item.content).map((p) => str(obj(p).text) ?? '')
  const summary = arr(item.summary).map((p) => str(obj(p).text) ?? '')
  return (content.some((t) => t) ? content : summary).filter((t) => t).join('\n\n')
}

function signatureOf(item: JsonObject, text: string): string {
  const enc = str(item.encrypted_content)
  return enc ? foreignSignature('responses', enc) : syntheticSignature(text)
}

function stopOf(response: JsonObject, sawTool: boolean): string {
  const reason = str(obj(response.incomplete_details).reason)
  if (reason === 'max_output_tokens') return 'max_tokens'
  if (reason === 'content_filter') return 'refusal'
  return sawTool ? 'tool_use' : 'end_turn'
}

function toolBlock(item: JsonObject, ctx: TranslateContext): JsonObject {
  const input = item.type === 'custom_tool_call' ? { input: str(item.input) ?? '' } : parseToolArgs(item.arguments)
  return {
    type: 'tool_use',
    id: sanitizeToolId(str(item.call_id) ?? str(item.id) ?? 'call'),
    name: restoreToolName(ctx.toolNames, str(item.name) ?? ''),
    input,
  }
}

/** Responses always reports reasoning_tokens; the hub carries the count only when there were some. */
const reasoningTokensOf = (usage: unknown): number | undefined =>
  num(obj(obj(usage).output_tokens_details).reasoning_tokens) || undefined

/** A Responses `response` object as a hub message. */
export function responsesResponseToHub(body: JsonObject, ctx: TranslateContext): JsonObject {
  const content: JsonObject[] = []
  for (const raw of arr(body.output)) {
    const item = obj(raw)
    if (item.type === 'message') {
      for (const p of arr(item.content)) {
        const part = obj(p)
        const text = str(part.text) ?? str(part.refusal)
        if (text) content.push({ type: 'text', text })
      }
    } else if (item.type === 'reasoning') {
      const text = reasoningText(item)
      content.push({ type: 'thinking', thinking: text, signature: signatureOf(item, text) })
    } else if (item.type === 'function_call' || item.type === 'custom_tool_call') content.push(toolBlock(item, ctx))
  }
  const usage = usageOfResponses(body.usage) ??
    { inputTokens: ctx.estimatedInputTokens, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }
  return {
    id: mintId('msg_', ctx.requestId),
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content,
    stop_reason: stopOf(body, content.some((b) => b.type === 'tool_use')),
    stop_sequence: null,
    usage: withThinkingTokens(anthropicUsageBody(usage), reasoningTokensOf(body.usage)),
  }
}

type Open = { kind: 'text' | 'thinking' | 'tool'; index: number; itemId: string; sentArgs: boolean }

/** Responses events → hub events. Blocks open and close with the Responses output items. */
export class ResponsesToHubStream extends ToHubStream {
  #next = 0
  #open: Open | undefined
  #sawTool = false

  push(ev: SseEvent): SseEvent[] {
    if (this.done) return []
    const d = tryParse(ev.data)
    const type = isObject(d) ? str(d.type) ?? ev.event : ev.event
    if (!isObject(d)) return this.drain()
    if (type === 'error' || ev.event === 'error') {
      this.failUpstream({
        error: { type: str(d.code) ?? 'api_error', message: str(d.message) ?? 'Upstream stream error' },
      })
    } else if (type === 'response.failed') {
      this.failUpstream({ error: { type: 'api_error', ...obj(obj(d.response).error) } })
    } else this.#dispatch(type, d)
    return this.drain()
  }

  end(): SseEvent[] {
    if (!this.done) this.failUpstream(ENDED_EARLY)
    return this.drain()
  }

  #openBlock(kind: Open['kind'], itemId: string, block: JsonObject): Open {
    this.#close()
    const open = { kind, index: this.#next++, itemId, sentArgs: false }
    this.emit(hubEvent('content_block_start', { index: open.index, content_block: block }))
    this.#open = open
    return open
  }

  #close(extra?: SseEvent): void {
    const open = this.#open
    if (!open) return
    if (extra) this.emit(extra)
    this.emit(hubEvent('content_block_stop', { index: open.index }))
    this.#open = undefined
  }

  #delta(index: number, delta: JsonObject): SseEvent {
    return hubEvent('content_block_delta', { index, delta })
  }

  #dispatch(type: string | undefined, d: JsonObject): void {
    this.startMessage()
    const itemId = str(d.item_id) ?? ''
    switch (type) {
      case 'response.output_item.added': {
        const item = obj(d.item)
        if (item.type === 'reasoning') {
          this.#openBlock('thinking', str(item.id) ?? '', { type: 'thinking', thinking: '', signature: '' })
        } else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
          this.#sawTool = true
          const block = toolBlock(item, this.ctx)
          this.#openBlock('tool', str(item.id) ?? '', { ...block, input: {} })
        }
        return
      }
      case 'response.content_part.added':
        if (this.#open?.kind !== 'text' || this.#open.itemId !== itemId) {
          this.#openBlock('text', itemId, { type: 'text', text: '' })
        }
        return
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        const open = this.#open?.kind === 'text'
          ? this.#open
          : this.#openBlock('text', itemId, { type: 'text', text: '' })
        if (str(d.delta)) this.emit(this.#delta(open.index, { type: 'text_delta', text: d.delta }))
        return
      }
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        if (this.#open?.kind === 'thinking' && str(d.delta)) {
          this.emit(this.#delta(this.#open.index, { type: 'thinking_delta', thinking: d.delta }))
        }
        return
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
        if (this.#open?.kind === 'tool' && str(d.delta) && type === 'response.function_call_arguments.delta') {
          this.#open.sentArgs = true
          this.emit(this.#delta(this.#open.index, { type: 'input_json_delta', partial_json: d.delta }))
        }
        return
      case 'response.output_item.done':
        return this.#itemDone(obj(d.item))
      case 'response.completed':
      case 'response.incomplete':
        return this.#complete(obj(d.response))
      default:
        return
    }
  }

  #itemDone(item: JsonObject): void {
    const open = this.#open
    if (!open || open.itemId !== (str(item.id) ?? '')) return
    if (open.kind === 'thinking') {
      const signature = signatureOf(item, reasoningText(item))
      return this.#close(this.#delta(open.index, { type: 'signature_delta', signature }))
    }
    if (open.kind === 'tool' && !open.sentArgs) {
      const input = toolBlock(item, this.ctx).input
      return this.#close(this.#delta(open.index, { type: 'input_json_delta', partial_json: JSON.stringify(input) }))
    }
    this.#close()
  }

  #complete(response: JsonObject): void {
    this.#close()
    const u = usageOfResponses(response.usage)
    const usage = this.usageBody(u, reasoningTokensOf(response.usage))
    this.emit(
      hubEvent('message_delta', {
        delta: { stop_reason: stopOf(response, this.#sawTool), stop_sequence: null },
        usage,
      }),
    )
    this.emit(hubEvent('message_stop', {}))
    this.finish()
  }
}
