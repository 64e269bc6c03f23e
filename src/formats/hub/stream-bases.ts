/** What the hub's stream translators share, on each side of the hub. */
import type { JsonObject, SseEvent, TranslateContext, Usage, WireFormatName } from '../types.ts'
import { ENDED_EARLY, StreamBase } from '../translate/stream-base.ts'
import { mintId } from '../translate/ids.ts'
import { isObject, num, obj, str, tryParse } from '../translate/json.ts'
import { anthropicUsageBody, mergeAnthropicUsage, usageOfAnthropic } from '../translate/usage-map.ts'
import { hubEvent } from './events.ts'

/** Hub events in, `format` events out: an error event or a stream cut short fail in the client's format. */
export abstract class FromHubStream extends StreamBase {
  protected readonly ctx: TranslateContext
  readonly #format: WireFormatName
  /** Usage so far: message_start's, updated by each message_delta. */
  protected usage: Usage | undefined
  /** The stop_reason message_delta gave. */
  protected stop: string | undefined
  /** Reasoning tokens among the output tokens, when the upstream reported them (`output_tokens_details.thinking_tokens`). */
  protected thinkingTokens: number | undefined

  constructor(ctx: TranslateContext, format: WireFormatName) {
    super()
    this.ctx = ctx
    this.#format = format
  }

  push(ev: SseEvent): SseEvent[] {
    if (this.done) return []
    const d = tryParse(ev.data)
    const type = isObject(d) ? str(d.type) ?? ev.event : ev.event
    if (type === 'error' || ev.event === 'error') {
      this.fail(this.#format, d ?? { error: { message: ev.data } }, this.ctx.upstreamModel)
    } else if (isObject(d)) {
      const usage = obj(type === 'message_start' ? obj(d.message).usage : d.usage)
      if (type === 'message_start') this.usage = usageOfAnthropic(usage)
      if (type === 'message_delta') {
        this.usage = mergeAnthropicUsage(this.usage, usage)
        this.stop = str(obj(d.delta).stop_reason) ?? this.stop
      }
      const thinking = num(obj(usage.output_tokens_details).thinking_tokens)
      if (thinking !== undefined && (type === 'message_start' || type === 'message_delta')) {
        this.thinkingTokens = thinking
      }
      this.dispatch(type, d)
    }
    return this.drain()
  }

  end(): SseEvent[] {
    if (!this.done) this.fail(this.#format, ENDED_EARLY, this.ctx.upstreamModel)
    return this.drain()
  }

  /** One hub event (usage and stop_reason already recorded). */
  protected abstract dispatch(type: string | undefined, d: JsonObject): void
}

/** Upstream events in, hub events out. */
export abstract class ToHubStream extends StreamBase {
  protected readonly ctx: TranslateContext
  #started = false

  constructor(ctx: TranslateContext) {
    super()
    this.ctx = ctx
  }

  /** message_start, once, with our input estimate (the real usage comes in message_delta). */
  protected startMessage(): void {
    if (this.#started) return
    this.#started = true
    const usage = anthropicUsageBody({
      inputTokens: this.ctx.estimatedInputTokens,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
    })
    this.emit(
      hubEvent('message_start', {
        message: {
          id: mintId('msg_', this.ctx.requestId),
          type: 'message',
          role: 'assistant',
          model: this.ctx.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      }),
    )
  }

  /** message_delta's usage: the upstream's counts, with its reasoning-token count when it gave one. */
  protected usageBody(u: Usage | undefined, thinkingTokens: number | undefined): JsonObject {
    if (!u) return { output_tokens: 0 }
    const body = anthropicUsageBody(u)
    return thinkingTokens === undefined ? body : { ...body, output_tokens_details: { thinking_tokens: thinkingTokens } }
  }

  /** Fail with an upstream error payload, as a hub error event. */
  protected failUpstream(payload: unknown): void {
    this.fail('anthropic', payload, this.ctx.upstreamModel)
  }
}
