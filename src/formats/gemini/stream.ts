/**
 * Gemini answers ⇄ hub answers. A Gemini stream is a series of GenerateContentResponse chunks
 * (`data:` lines, no event names, no terminator: the last chunk carries `finishReason`); a JSON
 * answer is one such chunk, so JSON and streams share one code path in each direction.
 */
import type { JsonObject, SseEvent, TranslateContext, Usage } from '../types.ts'
import {
  assembleHubMessage,
  foreignSignature,
  hubEvent,
  openThinkingEnvelope,
  thinkingEnvelope,
  unwrapSignature,
} from '../hub/events.ts'
import { ENDED_EARLY } from '../translate/stream-base.ts'
import { FromHubStream, ToHubStream } from '../hub/stream-bases.ts'
import { mintId, sanitizeToolId, syntheticSignature } from '../translate/ids.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'
import { anthropicEvents } from '../json-to-stream.ts'
import { withReasoning } from '../translate/usage-map.ts'

/** Usage from `usageMetadata`: promptTokenCount includes cached tokens; thoughts are output too. */
export function usageOfGemini(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined
  const cached = num(u.cachedContentTokenCount) ?? 0
  return withReasoning({
    inputTokens: Math.max((num(u.promptTokenCount) ?? 0) - cached, 0),
    outputTokens: (num(u.candidatesTokenCount) ?? 0) + (num(u.thoughtsTokenCount) ?? 0),
    cacheReadTokens: cached,
    cacheCreationTokens: 0,
  }, num(u.thoughtsTokenCount))
}

/** `usageMetadata` for a hub Usage; thought tokens, when known, are counted apart from the candidates as Gemini does. */
function geminiUsageBody(u: Usage, thoughtsTokens = 0): JsonObject {
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens
  const thoughts = Math.min(thoughtsTokens, u.outputTokens)
  const out: JsonObject = {
    promptTokenCount: prompt,
    candidatesTokenCount: u.outputTokens - thoughts,
    totalTokenCount: prompt + u.outputTokens,
  }
  if (u.cacheReadTokens > 0) out.cachedContentTokenCount = u.cacheReadTokens
  if (thoughts > 0) out.thoughtsTokenCount = thoughts
  return out
}

const REFUSALS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'LANGUAGE',
])

/** Hub stop_reason for a Gemini finishReason (a natural stop after a function call is tool_use). */
function hubStopOf(finish: string | undefined, sawTool: boolean): string {
  if (finish === 'MAX_TOKENS') return 'max_tokens'
  if (finish !== undefined && REFUSALS.has(finish)) return 'refusal'
  return sawTool ? 'tool_use' : 'end_turn'
}

/** Gemini finishReason for a hub stop_reason. */
function geminiFinishOf(stop: string | undefined): string {
  if (stop === 'max_tokens' || stop === 'model_context_window_exceeded') return 'MAX_TOKENS'
  if (stop === 'refusal') return 'SAFETY'
  return 'STOP'
}

/** Gemini chunks (a Gemini upstream) → hub events. */
export class GeminiToHubStream extends ToHubStream {
  #next = 0
  #open: { kind: 'text' | 'thinking'; index: number; signature?: string; text: string } | undefined
  #finish: string | undefined
  #sawFinish = false
  #sawTool = false
  #calls = 0
  #usage: Usage | undefined
  #thoughts: number | undefined

  push(ev: SseEvent): SseEvent[] {
    if (this.done) return []
    const d = tryParse(ev.data)
    if (!isObject(d)) return this.drain()
    if (d.error !== undefined && d.error !== null) {
      const e = obj(d.error)
      this.failUpstream({
        error: {
          type: str(e.status) === 'RESOURCE_EXHAUSTED' ? 'rate_limit_error' : 'api_error',
          message: str(e.message) ?? 'Upstream stream error',
        },
      })
      return this.drain()
    }
    this.#chunk(d)
    return this.drain()
  }

  end(): SseEvent[] {
    if (this.done) return []
    if (this.#sawFinish) this.#complete()
    else this.failUpstream(ENDED_EARLY)
    return this.drain()
  }

  #chunk(d: JsonObject): void {
    this.startMessage()
    if (isObject(d.usageMetadata)) {
      this.#usage = usageOfGemini(d.usageMetadata)
      this.#thoughts = num(d.usageMetadata.thoughtsTokenCount)
    }
    const cand = obj(arr(d.candidates)[0])
    for (const p of arr(obj(cand.content).parts)) this.#part(obj(p))
    if (str(cand.finishReason)) {
      this.#finish = cand.finishReason as string
      this.#sawFinish = true
    }
    // A prompt blocked before generation has no candidates, only promptFeedback.blockReason.
    if (arr(d.candidates).length === 0 && str(obj(d.promptFeedback).blockReason)) {
      this.#finish = 'SAFETY'
      this.#sawFinish = true
    }
  }

  #part(p: JsonObject): void {
    const envelope = openThinkingEnvelope(p.thoughtSignature)
    if (envelope) this.#envelopeBlock(envelope)
    const sig = envelope ? undefined : str(p.thoughtSignature)
    if (p.thought === true) {
      if (!str(p.text) && envelope) return
      if (this.#open?.kind === 'thinking' && this.#open.signature !== undefined && str(p.text)) this.#close()
      const index = this.#ensure('thinking')
      if (str(p.text)) {
        this.emit(hubEvent('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: p.text } }))
        if (this.#open) this.#open.text += p.text as string
      }
      if (sig && this.#open) this.#open.signature = foreignSignature('gemini', sig)
      return
    }
    if (sig) this.#signatureBlock(sig)
    if (str(p.text)) {
      const index = this.#ensure('text')
      this.emit(hubEvent('content_block_delta', { index, delta: { type: 'text_delta', text: p.text } }))
    }
    if (isObject(p.functionCall)) {
      this.#close()
      const fc = p.functionCall
      const index = this.#next++
      const id = sanitizeToolId(str(fc.id) ?? `call_${mintId('', this.ctx.requestId)}_${this.#calls}`)
      this.#calls++
      this.#sawTool = true
      this.emit(
        hubEvent('content_block_start', {
          index,
          content_block: { type: 'tool_use', id, name: str(fc.name) ?? '', input: {} },
        }),
      )
      this.emit(
        hubEvent('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(isObject(fc.args) ? fc.args : {}) },
        }),
      )
      this.emit(hubEvent('content_block_stop', { index }))
    }
  }

  /** A packed thinking block (hub/events.ts): it signs the open thought with the same text, or stands alone. */
  #envelopeBlock(e: { thinking: string; signature: string }): void {
    if (this.#open?.kind === 'thinking' && this.#open.text === e.thinking) {
      this.#open.signature = e.signature
      return this.#close()
    }
    this.#close()
    const index = this.#next++
    this.emit(
      hubEvent('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
    )
    if (e.thinking) {
      this.emit(hubEvent('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: e.thinking } }))
    }
    this.emit(hubEvent('content_block_delta', { index, delta: { type: 'signature_delta', signature: e.signature } }))
    this.emit(hubEvent('content_block_stop', { index }))
  }

  /** A signature on a text or call part: an empty thinking block carrying it, just before that part. */
  #signatureBlock(sig: string): void {
    this.#close()
    const index = this.#next++
    this.emit(
      hubEvent('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
    )
    this.emit(
      hubEvent('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: foreignSignature('gemini', sig) },
      }),
    )
    this.emit(hubEvent('content_block_stop', { index }))
  }

  #ensure(kind: 'text' | 'thinking'): number {
    if (this.#open?.kind === kind) return this.#open.index
    this.#close()
    const index = this.#next++
    this.emit(
      hubEvent('content_block_start', {
        index,
        content_block: kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
      }),
    )
    this.#open = { kind, index, text: '' }
    return index
  }

  #close(): void {
    const open = this.#open
    if (!open) return
    if (open.kind === 'thinking') {
      const signature = open.signature ?? syntheticSignature(`${this.ctx.requestId}:${open.index}`)
      this.emit(hubEvent('content_block_delta', { index: open.index, delta: { type: 'signature_delta', signature } }))
    }
    this.emit(hubEvent('content_block_stop', { index: open.index }))
    this.#open = undefined
  }

  #complete(): void {
    this.#close()
    const u = this.#usage
    this.emit(
      hubEvent('message_delta', {
        delta: { stop_reason: hubStopOf(this.#finish, this.#sawTool), stop_sequence: null },
        usage: this.usageBody(u, this.#thoughts),
      }),
    )
    this.emit(hubEvent('message_stop', {}))
    this.finish()
  }
}

/** Hub events → Gemini chunks (a Gemini client). Function calls go out whole, as Gemini sends them. */
export class HubToGeminiStream extends FromHubStream {
  readonly #responseId: string
  #tool: { id: string; name: string; json: string } | undefined
  /** Inside a thinking block: whether it sent any thought text. */
  #thinking: { sentText: boolean; text: string } | undefined
  #signature: string | undefined

  constructor(ctx: TranslateContext) {
    super(ctx, 'gemini')
    this.#responseId = mintId('', ctx.requestId)
  }

  protected dispatch(type: string | undefined, d: JsonObject): void {
    switch (type) {
      case 'content_block_start': {
        const b = obj(d.content_block)
        // A packed thinking block still waiting for a part to ride on closes its thought before another one starts.
        if (b.type === 'thinking' && this.#signature !== undefined) {
          this.#emitParts([{ text: '', thought: true, thoughtSignature: this.#signature }])
          this.#signature = undefined
        }
        this.#thinking = b.type === 'thinking' ? { sentText: false, text: '' } : undefined
        if (b.type === 'tool_use') this.#tool = { id: str(b.id) ?? '', name: str(b.name) ?? '', json: '' }
        else if (b.type === 'text' && str(b.text)) this.#parts([{ text: b.text }])
        return
      }
      case 'content_block_delta':
        return this.#delta(obj(d.delta))
      case 'content_block_stop': {
        const tool = this.#tool
        const thinking = this.#thinking
        this.#tool = undefined
        this.#thinking = undefined
        // A Gemini thought's signature closes it; a signature without thought text, or a packed
        // thinking block, goes on the next part (a call, as Gemini places it, and the part clients keep).
        if (
          thinking?.sentText && this.#signature !== undefined && openThinkingEnvelope(this.#signature) === undefined
        ) {
          this.#emitParts([{ text: '', thought: true, thoughtSignature: this.#signature }])
          this.#signature = undefined
        }
        if (tool) {
          const args = obj(tryParse(tool.json || '{}'))
          this.#parts([{ functionCall: { id: tool.id, name: tool.name, args } }])
        }
        return
      }
      case 'message_stop':
        return this.#complete()
      default:
        return
    }
  }

  #delta(delta: JsonObject): void {
    if (delta.type === 'text_delta' && str(delta.text)) this.#parts([{ text: delta.text }])
    else if (delta.type === 'thinking_delta' && str(delta.thinking)) {
      if (this.#thinking) {
        this.#thinking.sentText = true
        this.#thinking.text += delta.thinking as string
      }
      this.#parts([{ text: delta.thinking, thought: true }])
    } else if (delta.type === 'signature_delta' && str(delta.signature)) {
      // A Gemini signature goes back as it came; any other (Anthropic's) travels with its thinking text.
      this.#signature = unwrapSignature('gemini', delta.signature) ??
        thinkingEnvelope(this.#thinking?.text ?? '', delta.signature as string)
    } else if (delta.type === 'input_json_delta' && this.#tool) this.#tool.json += str(delta.partial_json) ?? ''
  }

  /** A pending signature (from a thinking block without text) goes on the next part. */
  #parts(parts: JsonObject[]): void {
    const first = parts[0]
    if (this.#signature !== undefined && first && !this.#thinking) {
      parts = [{ ...first, thoughtSignature: this.#signature }, ...parts.slice(1)]
      this.#signature = undefined
    }
    this.#emitParts(parts)
  }

  #emitParts(parts: JsonObject[]): void {
    this.emit({
      data: JSON.stringify({
        candidates: [{ content: { role: 'model', parts }, index: 0 }],
        modelVersion: this.ctx.model,
        responseId: this.#responseId,
      }),
    })
  }

  #complete(): void {
    const parts: JsonObject[] = this.#signature !== undefined
      ? [{ text: '', thought: true, thoughtSignature: this.#signature }]
      : []
    this.#signature = undefined
    const usage = geminiUsageBody(
      this.usage ??
        { inputTokens: this.ctx.estimatedInputTokens, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      this.thinkingTokens,
    )
    this.emit({
      data: JSON.stringify({
        candidates: [{ content: { role: 'model', parts }, finishReason: geminiFinishOf(this.stop), index: 0 }],
        usageMetadata: usage,
        modelVersion: this.ctx.model,
        responseId: this.#responseId,
      }),
    })
    this.finish()
  }
}

/**
 * Gemini chunks merged into one GenerateContentResponse: parts concatenated (adjacent text of
 * the same kind joined), the last finishReason and usageMetadata kept.
 */
export function mergeGeminiChunks(chunks: readonly JsonObject[]): JsonObject {
  const parts: JsonObject[] = []
  let out: JsonObject = {}
  let candidate: JsonObject = { index: 0 }
  for (const c of chunks) {
    out = { ...out, ...c }
    const cand = obj(arr(c.candidates)[0])
    for (const raw of arr(obj(cand.content).parts)) {
      const p = obj(raw)
      const last = parts[parts.length - 1]
      const plain = (x: JsonObject) => Object.keys(x).every((k) => k === 'text' || k === 'thought')
      if (
        last && str(last.text) !== undefined && str(p.text) !== undefined && plain(p) && last.thought === p.thought &&
        last.thoughtSignature === undefined
      ) last.text = (last.text as string) + (p.text as string)
      else if (!(str(p.text) === '' && Object.keys(p).length === 1)) parts.push({ ...p })
    }
    const { content: _content, ...rest } = cand
    candidate = { ...candidate, ...rest }
  }
  return { ...out, candidates: [{ content: { role: 'model', parts }, ...candidate }] }
}

/** A hub message as one Gemini GenerateContentResponse (the same code path as the stream). */
export function hubToGeminiResponse(message: JsonObject, ctx: TranslateContext): JsonObject {
  const t = new HubToGeminiStream(ctx)
  const chunks = anthropicEvents(message).flatMap((ev) => t.push(ev)).map((ev) => obj(tryParse(ev.data)))
  return mergeGeminiChunks(chunks)
}

/** A Gemini GenerateContentResponse as a hub message. */
export function geminiResponseToHub(body: JsonObject, ctx: TranslateContext): JsonObject {
  const t = new GeminiToHubStream(ctx)
  // A JSON answer is complete by definition, even when it names no finishReason.
  const cand = obj(arr(body.candidates)[0])
  const whole = arr(body.candidates).length > 0 && !str(cand.finishReason)
    ? { ...body, candidates: [{ ...cand, finishReason: 'STOP' }] }
    : body
  const events = [...t.push({ data: JSON.stringify(whole) }), ...t.end()]
  return assembleHubMessage(events)
}
