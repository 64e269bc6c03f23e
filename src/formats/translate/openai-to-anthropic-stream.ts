import type { JsonObject, SseEvent, TranslateContext, Usage } from '../types.ts'
import { ENDED_EARLY, StreamBase } from './stream-base.ts'
import { anthropicStopOf } from './finish-reasons.ts'
import { mintId, restoreToolName, sanitizeToolId, syntheticSignature } from './ids.ts'
import { arr, isObject, num, obj, str, tryParse } from './json.ts'
import { createThinkSplitter } from './think-splitter.ts'
import type { ThinkSplitter } from './think-splitter.ts'
import { repairToolArgsText } from './tool-args.ts'
import { anthropicUsageBody, usageOfOpenAI, withThinkingTokens } from './usage-map.ts'

type Open = { readonly kind: 'text' | 'thinking' | 'tool'; readonly index: number; readonly key?: number }
type Tool = { readonly index: number; args: string; sent: boolean }
type Pending = { id?: string; name?: string; args: string }

function event(type: string, payload: JsonObject): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...payload }) }
}

/**
 * A `content_block_delta` written by hand: the same text `event()` makes of
 * `{ index, delta: { type, [field]: value } }` (keys in that order), without the three objects
 * and the spread it builds per delta, the most frequent events of a stream.
 */
const delta = (index: number, type: string, field: string, value: string): SseEvent => ({
  event: 'content_block_delta',
  data: `{"type":"content_block_delta","index":${index},"delta":{"type":"${type}","${field}":${
    JSON.stringify(value)
  }}}`,
})

const argsDelta = (index: number, partial: string): SseEvent =>
  delta(index, 'input_json_delta', 'partial_json', partial)

/** Only the first choice is translated (Anthropic has no `n`): the one with index 0 (or none). */
function firstChoice(choices: unknown): JsonObject {
  const list = arr(choices)
  for (let i = 0; i < list.length; i++) if ((num(obj(list[i]).index) ?? 0) === 0) return obj(list[i])
  return {}
}

/**
 * OpenAI chunks (O-upstream) → Anthropic events (A-client), docs/protocols.md §4.6. Emits blocks
 * strictly one at a time with contiguous indices; the final message_delta waits for `[DONE]`
 * because usage may arrive after finish_reason. With `repairToolArgs`, each call's arguments
 * are buffered and sent repaired as one input_json_delta when its block closes.
 */
export class OpenAIToAnthropicStream extends StreamBase {
  readonly #ctx: TranslateContext
  readonly #tools = new Map<number, Tool>()
  readonly #pending = new Map<number, Pending>()
  readonly #think: ThinkSplitter
  #started = false
  #nextIndex = 0
  #open: Open | null = null
  #finish: string | undefined
  #sawFinish = false
  #sawTool = false
  #refused = false
  #usage: Usage | undefined
  /** Carry the reasoning-token count as the hub's `output_tokens_details.thinking_tokens` (Anthropic clients get no such field). */
  readonly #hub: boolean

  /** `hub`: the stream feeds the hub (a Responses or Gemini client), which carries reasoning-token counts. */
  constructor(ctx: TranslateContext, opts: { readonly hub?: boolean } = {}) {
    super()
    this.#ctx = ctx
    this.#hub = opts.hub === true
    this.#think = createThinkSplitter({
      startsOpen: ctx.thinkingStartsOpen === true,
      ...(ctx.thinkTags ? { tags: ctx.thinkTags } : {}),
    })
  }

  push(ev: SseEvent): SseEvent[] {
    if (this.done) return []
    if (ev.data === '[DONE]') this.#complete()
    else {
      const parsed = tryParse(ev.data)
      if (ev.event === 'error' || (isObject(parsed) && parsed.error !== undefined && parsed.error !== null)) {
        this.#fail(parsed ?? { error: { message: ev.data } })
      } else if (isObject(parsed)) this.#chunk(parsed)
    }
    return this.drain()
  }

  end(): SseEvent[] {
    if (this.done) return []
    // A finish_reason is a terminator too; without one the answer may be cut short.
    if (this.#sawFinish) this.#complete()
    else this.#fail(ENDED_EARLY)
    return this.drain()
  }

  #chunk(c: JsonObject): void {
    this.#start()
    if (isObject(c.usage)) this.#usage = usageOfOpenAI(c.usage)
    const choice = firstChoice(c.choices)
    const d = obj(choice.delta)
    const reasoning = str(d.reasoning_content) || str(d.reasoning)
    if (reasoning) this.#text('thinking', reasoning)
    const content = str(d.content)
    // Past any <think> section the text goes on as it is, without a segment list per chunk.
    if (content && this.#think.plain) this.#text('text', content)
    else if (content) { for (const seg of this.#think.push(content)) this.#text(seg.kind, seg.text) }
    const refusal = str(d.refusal)
    if (refusal) {
      this.#refused = true
      this.#text('text', refusal)
    }
    const calls = arr(d.tool_calls)
    for (let pos = 0; pos < calls.length; pos++) this.#toolCall(obj(calls[pos]), pos)
    if (typeof choice.finish_reason === 'string') {
      this.#finish = choice.finish_reason
      this.#sawFinish = true
    }
  }

  #start(): void {
    if (this.#started) return
    this.#started = true
    const usage = anthropicUsageBody({
      inputTokens: this.#ctx.estimatedInputTokens,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
    })
    const message = {
      id: mintId('msg_', this.#ctx.requestId),
      type: 'message',
      role: 'assistant',
      model: this.#ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    }
    this.emit(event('message_start', { message }))
  }

  #text(kind: 'text' | 'thinking', text: string): void {
    const index = this.#ensure(kind)
    this.emit(
      kind === 'text' ? delta(index, 'text_delta', 'text', text) : delta(index, 'thinking_delta', 'thinking', text),
    )
  }

  #ensure(kind: 'text' | 'thinking'): number {
    if (this.#open?.kind === kind) return this.#open.index
    this.#closeOpen()
    const index = this.#nextIndex++
    const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' }
    this.emit(event('content_block_start', { index, content_block: block }))
    this.#open = { kind, index }
    return index
  }

  #closeOpen(): void {
    const open = this.#open
    if (!open) return
    if (open.kind === 'thinking') {
      const signature = syntheticSignature(`${this.#ctx.requestId}:${open.index}`)
      this.emit(event('content_block_delta', { index: open.index, delta: { type: 'signature_delta', signature } }))
    }
    const tool = open.key === undefined ? undefined : this.#tools.get(open.key)
    if (tool && this.#ctx.repairToolArgs && tool.args) this.emit(argsDelta(open.index, repairToolArgsText(tool.args)))
    this.emit(event('content_block_stop', { index: open.index }))
    this.#open = null
  }

  #toolCall(tc: JsonObject, pos: number): void {
    const fn = obj(tc.function)
    const key = num(tc.index) ?? pos
    const args = str(fn.arguments) ?? ''
    if (this.#tools.has(key)) return this.#args(key, args)
    const p = this.#pending.get(key) ?? { args: '' }
    p.id ??= str(tc.id)
    p.name ??= str(fn.name) || undefined
    p.args += args
    if (p.name === undefined || this.#shouldWait(p)) return void this.#pending.set(key, p)
    this.#pending.delete(key)
    this.#openTool(key, p as Pending & { name: string })
  }

  /**
   * Blocks cannot reopen, so a new call whose arguments have not started waits while the open
   * call has sent none yet: servers that announce every call before streaming any arguments
   * then still deliver each call whole. A call opens once its name is known and it has arguments.
   */
  #shouldWait(p: Pending): boolean {
    const key = this.#open?.kind === 'tool' ? this.#open.key : undefined
    const open = key === undefined ? undefined : this.#tools.get(key)
    return open !== undefined && !open.sent && p.args === ''
  }

  #openTool(key: number, p: Pending & { name: string }): void {
    for (const seg of this.#think.flush()) this.#text(seg.kind, seg.text) // held-back text precedes the call
    this.#closeOpen()
    const index = this.#nextIndex++
    const id = sanitizeToolId(p.id ?? `toolu_${mintId('', this.#ctx.requestId)}_${index}`)
    const block = { type: 'tool_use', id, name: restoreToolName(this.#ctx.toolNames, p.name), input: {} }
    this.emit(event('content_block_start', { index, content_block: block }))
    this.#tools.set(key, { index, args: '', sent: false })
    this.#open = { kind: 'tool', index, key }
    this.#sawTool = true
    this.#args(key, p.args)
  }

  #args(key: number, args: string): void {
    const tool = this.#tools.get(key)
    if (!tool || !args) return
    tool.sent = true
    if (this.#ctx.repairToolArgs) tool.args += args
    // Fragments for a call whose block already closed cannot be expressed in Anthropic's grammar.
    else if (this.#open?.key === key) this.emit(argsDelta(tool.index, args))
  }

  #complete(): void {
    this.#start()
    for (const seg of this.#think.flush()) this.#text(seg.kind, seg.text)
    const waiting = [...this.#pending].sort(([a], [b]) => a - b)
    for (const [key, p] of waiting) if (p.name !== undefined) this.#openTool(key, { ...p, name: p.name })
    this.#closeOpen()
    const u = this.#usage
    const usage = u
      ? withThinkingTokens({
        output_tokens: u.outputTokens,
        input_tokens: u.inputTokens,
        cache_read_input_tokens: u.cacheReadTokens,
        cache_creation_input_tokens: u.cacheCreationTokens,
      }, this.#hub ? u.reasoningTokens : undefined)
      : { output_tokens: 0 }
    this.emit(
      event('message_delta', {
        delta: {
          stop_reason: this.#refused ? 'refusal' : anthropicStopOf(this.#finish, this.#sawTool),
          stop_sequence: null,
        },
        usage,
      }),
    )
    this.emit(event('message_stop', {}))
    this.finish()
  }

  #fail(payload: unknown): void {
    this.fail('anthropic', payload, this.#ctx.upstreamModel)
  }
}
