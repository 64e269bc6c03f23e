import type { SseEvent, StreamTranslator, TranslateContext, Usage } from '../types.ts'
import { renderStreamError, streamErrorOf } from '../errors.ts'
import { anthropicStopOf } from './finish-reasons.ts'
import { mintId, restoreToolName, sanitizeToolId, syntheticSignature } from './ids.ts'
import { arr, isObject, num, obj, str, tryParse } from './json.ts'
import { createThinkSplitter } from './think-splitter.ts'
import { repairToolArgsText } from './tool-args.ts'
import { anthropicUsageBody, usageOfOpenAI } from './usage-map.ts'

type Open = { kind: 'text' | 'thinking' | 'tool'; index: number; key?: number }
type Tool = { index: number; args: string }
type Pending = { id?: string; name?: string; args: string }

function event(type: string, payload: Record<string, unknown>): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...payload }) }
}

/**
 * OpenAI chunks (O-upstream) → Anthropic events (A-client), protocols.md §4.7. Emits blocks
 * strictly one at a time with contiguous indices; the final message_delta waits for `[DONE]`
 * because usage may arrive after finish_reason. With `repairToolArgs`, each call's arguments
 * are buffered and sent repaired as one input_json_delta when its block closes.
 */
export function openAIToAnthropicStream(ctx: TranslateContext): StreamTranslator {
  const out: SseEvent[] = []
  const tools = new Map<number, Tool>()
  const pending = new Map<number, Pending>()
  const think = createThinkSplitter({ startsOpen: ctx.thinkingStartsOpen === true })
  let started = false
  let done = false
  let nextIndex = 0
  let open: Open | null = null
  let finish: string | null | undefined
  let sawFinish = false
  let sawTool = false
  let usage: Usage | undefined

  const start = (): void => {
    if (started) return
    started = true
    const u = anthropicUsageBody({ inputTokens: ctx.estimatedInputTokens, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 })
    out.push(event('message_start', { message: { id: mintId('msg_', ctx.requestId), type: 'message', role: 'assistant', model: ctx.model, content: [], stop_reason: null, stop_sequence: null, usage: u } }))
  }
  const closeOpen = (): void => {
    if (!open) return
    if (open.kind === 'thinking') out.push(event('content_block_delta', { index: open.index, delta: { type: 'signature_delta', signature: syntheticSignature(`${ctx.requestId}:${open.index}`) } }))
    const tool = open.key === undefined ? undefined : tools.get(open.key)
    if (tool && ctx.repairToolArgs && tool.args) out.push(argsDelta(open.index, repairToolArgsText(tool.args)))
    out.push(event('content_block_stop', { index: open.index }))
    open = null
  }
  const ensure = (kind: 'text' | 'thinking'): number => {
    if (open?.kind === kind) return open.index
    closeOpen()
    const index = nextIndex++
    out.push(event('content_block_start', { index, content_block: kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' } }))
    open = { kind, index }
    return index
  }
  const argsDelta = (index: number, partial: string): SseEvent => event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } })
  const emitText = (kind: 'text' | 'thinking', text: string): void => {
    const index = ensure(kind)
    out.push(event('content_block_delta', { index, delta: kind === 'text' ? { type: 'text_delta', text } : { type: 'thinking_delta', thinking: text } }))
  }
  const emitArgs = (key: number, args: string): void => {
    const tool = tools.get(key)
    if (!tool || !args) return
    if (ctx.repairToolArgs) tool.args += args
    // Fragments for a call whose block already closed cannot be expressed in Anthropic's grammar.
    else if (open?.key === key) out.push(argsDelta(tool.index, args))
  }
  const toolCall = (raw: unknown, pos: number): void => {
    const tc = obj(raw)
    const fn = obj(tc.function)
    const key = num(tc.index) ?? pos
    const args = str(fn.arguments) ?? ''
    if (tools.has(key)) return emitArgs(key, args)
    const p = pending.get(key) ?? { args: '' }
    p.id ??= str(tc.id)
    p.name ??= str(fn.name) || undefined
    p.args += args
    if (p.name === undefined) return void pending.set(key, p) // open the block once the name is known
    pending.delete(key)
    for (const seg of think.flush()) emitText(seg.kind, seg.text) // held-back text precedes the call
    closeOpen()
    const index = nextIndex++
    const id = sanitizeToolId(p.id ?? `toolu_${mintId('', ctx.requestId)}_${index}`)
    out.push(event('content_block_start', { index, content_block: { type: 'tool_use', id, name: restoreToolName(ctx.toolNames, p.name), input: {} } }))
    tools.set(key, { index, args: '' })
    open = { kind: 'tool', index, key }
    sawTool = true
    emitArgs(key, p.args)
  }
  const chunk = (c: Record<string, unknown>): void => {
    start()
    if (isObject(c.usage)) usage = usageOfOpenAI(c.usage)
    const choice = obj(arr(c.choices)[0])
    const d = obj(choice.delta)
    const reasoning = str(d.reasoning_content) || str(d.reasoning)
    if (reasoning) emitText('thinking', reasoning)
    const content = str(d.content)
    if (content) for (const seg of think.push(content)) emitText(seg.kind, seg.text)
    arr(d.tool_calls).forEach(toolCall)
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      finish = str(choice.finish_reason)
      sawFinish = true
    }
  }
  const complete = (): void => {
    start()
    for (const seg of think.flush()) emitText(seg.kind, seg.text)
    closeOpen()
    const u = usage ? { output_tokens: usage.outputTokens, input_tokens: usage.inputTokens, cache_read_input_tokens: usage.cacheReadTokens, cache_creation_input_tokens: usage.cacheCreationTokens } : { output_tokens: 0 }
    out.push(event('message_delta', { delta: { stop_reason: anthropicStopOf(finish, sawTool), stop_sequence: null }, usage: u }))
    out.push(event('message_stop', {}))
    done = true
  }
  const fail = (payload: unknown): void => {
    out.push(...renderStreamError('anthropic', streamErrorOf(payload, ctx.upstreamModel)))
    done = true
  }
  const drain = (): SseEvent[] => out.splice(0, out.length)

  return {
    push(ev: SseEvent): SseEvent[] {
      if (done) return []
      if (ev.data === '[DONE]') complete()
      else {
        const parsed = tryParse(ev.data)
        if (ev.event === 'error' || (isObject(parsed) && parsed.error !== undefined)) fail(parsed ?? { error: { message: ev.data } })
        else if (isObject(parsed)) chunk(parsed)
      }
      return drain()
    },
    end(): SseEvent[] {
      if (done) return []
      if (sawFinish) complete()
      else fail({ error: { type: 'api_error', message: 'Upstream stream ended before it was complete' } })
      return drain()
    },
    get done() {
      return done
    },
  }
}
