/**
 * Splicing a continuation into a client stream that broke (docs/resilience.md, "Mid-stream
 * continuation"). Works on client-format events, after translation, so it is the same for
 * every upstream format:
 *
 * - the continuation's `message_start` / role chunk is dropped: the client already has one,
 *   and OpenAI chunks keep the first answer's id;
 * - Anthropic block indices continue: a text block left open by the cut absorbs the
 *   continuation's first text block; a thinking block left open is closed first (a synthetic
 *   signature, as for thinking from an OpenAI upstream); later blocks take the next indices;
 * - the leading text is held until it is long enough to see whether it repeats the end of what
 *   the client has (`overlapLength`), and the repeat is trimmed;
 * - everything after that (final `stop_reason`, usage, `[DONE]`) is the continuation's own;
 * - Responses and Gemini clients: the same, in their events (dialects.ts): one response id,
 *   one message item, `sequence_number`s and output indices that go on; one `responseId`.
 *
 * A tool call reaches the client only whole (tool-hold.ts): a cut inside one drops it and the
 * continuation makes it again. Once a tool call reached the client the stream is not continued
 * (its JSON cannot be resumed safely; the client gets the well-formed error).
 */
import type { JsonObject, SseEvent, WireFormatName } from '../types.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'
import { syntheticSignature } from '../translate/ids.ts'
import { MAX_OVERLAP, overlapLength } from './overlap.ts'
import type { StreamRecord } from './record.ts'
import { GeminiSplice, ResponsesSplice, type SpliceDialect } from './dialects.ts'

/** Why a broken stream cannot be continued, or undefined when it can. */
export function cannotContinue(rec: StreamRecord): string | undefined {
  if (rec.ended) return 'the client already has a terminal event'
  if (rec.toolStarted) return 'a tool call already reached the client'
  return undefined
}

const json = (type: string, payload: JsonObject): SseEvent => ({
  event: type,
  data: JSON.stringify({ type, ...payload }),
})

/** One continuation's events rewritten for the client; `push` and `end` return what to send. */
export class Splicer {
  readonly #format: WireFormatName
  readonly #received: string
  readonly #id: string | undefined
  /** Anthropic: continuation index → client index. */
  readonly #indices = new Map<number, number>()
  #nextIndex: number
  /** Anthropic: the client's text block left open by the cut, until the continuation fills or closes it. */
  #openText: number | undefined
  #held: SseEvent[] | undefined = []
  #heldText = ''
  /** Anthropic: the continuation index of the first text block (where a repeat can be). */
  #leadIndex: number | undefined
  readonly #opening: SseEvent[]
  /** Responses and Gemini clients: their side of the splice (dialects.ts). */
  readonly #dialect: SpliceDialect | undefined

  constructor(format: WireFormatName, rec: StreamRecord) {
    this.#dialect = format === 'responses'
      ? new ResponsesSplice(rec)
      : format === 'gemini'
      ? new GeminiSplice(rec)
      : undefined
    this.#format = format
    this.#received = rec.text()
    this.#id = rec.id
    this.#nextIndex = rec.nextIndex
    this.#openText = rec.open?.kind === 'text' ? rec.open.index : undefined
    this.#opening = this.#dialect
      ? this.#dialect.opening()
      : rec.open?.kind === 'thinking'
      ? closeThinking(rec.open.index, rec.id)
      : []
  }

  /** Events to send before any of the continuation's (closing a thinking block the cut left open). */
  opening(): SseEvent[] {
    return this.#opening.splice(0)
  }

  push(evs: readonly SseEvent[]): SseEvent[] {
    if (this.#held === undefined) return this.#rewrite(evs)
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i] as SseEvent
      const lead = this.#leadingText(ev)
      this.#held.push(ev)
      if (lead !== undefined) this.#heldText += lead
      if (lead === undefined || this.#heldText.length >= MAX_OVERLAP) {
        return [...this.#release(), ...this.#rewrite(evs.slice(i + 1))]
      }
    }
    return []
  }

  /** The continuation ended: whatever is still held goes out. */
  end(): SseEvent[] {
    return this.#held === undefined ? [] : this.#release()
  }

  /**
   * The text an event adds to the continuation's leading text, '' for framing that may come
   * before it, undefined for anything that ends the leading text.
   */
  #leadingText(ev: SseEvent): string | undefined {
    if (this.#dialect) return this.#dialect.leading(ev)
    if (this.#format === 'openai') {
      if (ev.data === '[DONE]') return undefined
      const d = obj(tryParse(ev.data))
      const ch = obj(arr(d.choices)[0])
      const delta = obj(ch.delta)
      if (d.error !== undefined || typeof ch.finish_reason === 'string' || delta.tool_calls !== undefined) {
        return undefined
      }
      return str(delta.content) ?? ''
    }
    const d = obj(tryParse(ev.data))
    switch (ev.event) {
      case 'message_start':
      case 'ping':
        return ''
      case 'content_block_start':
        if (str(obj(d.content_block).type) !== 'text' || this.#leadIndex !== undefined) {
          return this.#leadIndex === undefined && str(obj(d.content_block).type) === 'thinking' ? '' : undefined
        }
        this.#leadIndex = num(d.index) ?? 0
        return ''
      case 'content_block_delta': {
        const delta = obj(d.delta)
        if (this.#leadIndex === undefined) {
          return str(delta.type) === 'thinking_delta' || str(delta.type) === 'signature_delta' ? '' : undefined
        }
        return num(d.index) === this.#leadIndex && str(delta.type) === 'text_delta' ? str(delta.text) ?? '' : undefined
      }
      case 'content_block_stop':
        return num(d.index) === this.#leadIndex ? undefined : ''
      default:
        return undefined
    }
  }

  /** Decide the repeat, trim it from the held leading text, and send everything held. */
  #release(): SseEvent[] {
    const held = this.#held ?? []
    this.#held = undefined
    let trim = overlapLength(this.#received, this.#heldText)
    const kept: SseEvent[] = []
    for (const ev of held) {
      if (trim === 0) {
        kept.push(ev)
        continue
      }
      const cut = this.#trimLead(ev, trim)
      trim = cut.left
      if (cut.ev) kept.push(cut.ev)
    }
    return this.#rewrite(kept)
  }

  /** Removes up to `n` leading characters of text from a leading-text event; drops it when nothing is left. */
  #trimLead(ev: SseEvent, n: number): { ev?: SseEvent; left: number } {
    if (this.#dialect) return this.#dialect.trim(ev, n)
    const d = tryParse(ev.data)
    if (!isObject(d)) return { ev, left: n }
    if (this.#format === 'openai') {
      const ch = obj(arr(d.choices)[0])
      const delta = obj(ch.delta)
      const text = str(delta.content)
      if (!text) return { ev, left: n }
      const rest = text.slice(n)
      const left = n - (text.length - rest.length)
      if (rest === '' && Object.keys(delta).every((k) => k === 'content' || k === 'role' || k === 'refusal')) {
        return { left }
      }
      return {
        ev: { ...ev, data: JSON.stringify({ ...d, choices: [{ ...ch, delta: { ...delta, content: rest } }] }) },
        left,
      }
    }
    const delta = obj(d.delta)
    const text = ev.event === 'content_block_delta' ? str(delta.text) : undefined
    if (!text) return { ev, left: n }
    const rest = text.slice(n)
    const left = n - (text.length - rest.length)
    return rest === ''
      ? { left }
      : { ev: { ...ev, data: JSON.stringify({ ...d, delta: { ...delta, text: rest } }) }, left }
  }

  #rewrite(evs: readonly SseEvent[]): SseEvent[] {
    const out: SseEvent[] = []
    for (const ev of evs) {
      if (this.#dialect) out.push(...this.#dialect.rewrite(ev))
      else if (this.#format === 'openai') out.push(...this.#openai(ev))
      else out.push(...this.#anthropic(ev))
    }
    return out
  }

  #openai(ev: SseEvent): SseEvent[] {
    if (ev.data === '[DONE]') return [ev]
    const d = tryParse(ev.data)
    if (!isObject(d) || d.error !== undefined) return [ev]
    const choices = arr(d.choices).map((raw) => {
      const ch = obj(raw)
      const { role: _role, ...delta } = obj(ch.delta)
      return { ...ch, delta }
    })
    const only = obj(choices[0])
    // The continuation's role chunk: the client has had one.
    if (
      choices.length === 1 &&
      Object.keys(obj(only.delta)).every((k) =>
        k === 'refusal' || (k === 'content' && obj(only.delta).content === '')
      ) && typeof only.finish_reason !== 'string' && !isObject(d.usage)
    ) return []
    return [{ ...ev, data: JSON.stringify({ ...d, ...(this.#id === undefined ? {} : { id: this.#id }), choices }) }]
  }

  #anthropic(ev: SseEvent): SseEvent[] {
    if (ev.event === 'message_start') return []
    if (ev.event !== 'content_block_start' && ev.event !== 'content_block_delta' && ev.event !== 'content_block_stop') {
      return [ev]
    }
    const d = obj(tryParse(ev.data))
    const from = num(d.index) ?? 0
    const out: SseEvent[] = []
    let to = this.#indices.get(from)
    if (ev.event === 'content_block_start') {
      const isText = str(obj(d.content_block).type) === 'text'
      if (isText && this.#openText !== undefined) {
        this.#indices.set(from, this.#openText)
        this.#openText = undefined
        return []
      }
      if (this.#openText !== undefined) out.push(json('content_block_stop', { index: this.#openText }))
      this.#openText = undefined
      to = this.#nextIndex++
      this.#indices.set(from, to)
    }
    out.push({ ...ev, data: JSON.stringify({ ...d, index: to ?? from }) })
    return out
  }
}

function closeThinking(index: number, id: string | undefined): SseEvent[] {
  return [
    json('content_block_delta', {
      index,
      delta: { type: 'signature_delta', signature: syntheticSignature(`${id ?? ''}:${index}`) },
    }),
    json('content_block_stop', { index }),
  ]
}

/**
 * The client's request with `text` (what it has been sent) as an assistant prefill, in the
 * client's own format (translation to the target's format happens as for any request). Trailing
 * whitespace is dropped (Anthropic rejects a prefill ending in it; the overlap trim restores
 * it), and extended thinking is switched off (Anthropic does not take a prefill with it).
 */
export function withPrefill(body: JsonObject, text: string, format: WireFormatName = 'anthropic'): JsonObject {
  const prefill = text.trimEnd()
  if (prefill === '') return body
  return withAnswerSoFar(body, prefill, format)
}

/**
 * What a continuation asks a model that takes no prefill (it answered a trailing assistant
 * message with a 400): the mock upstream recognises a last user message starting with "Continue".
 */
export const CONTINUE_INSTRUCTION =
  'Continue your previous answer exactly where it was cut off. Do not repeat any of it and add no preamble: reply with the rest only.'

/**
 * The instruction-style continuation: the text the client has as an assistant message, then a
 * user message asking for the rest (`CONTINUE_INSTRUCTION`). For targets that reject a prefill;
 * the overlap trim removes whatever the model repeats. Extended thinking is off, as for a prefill.
 */
export function withInstruction(body: JsonObject, text: string, format: WireFormatName = 'anthropic'): JsonObject {
  const prefill = text.trimEnd()
  if (prefill === '') return body
  const out = withAnswerSoFar(body, prefill, format)
  if (format === 'gemini') {
    return { ...out, contents: [...arr(out.contents), { role: 'user', parts: [{ text: CONTINUE_INSTRUCTION }] }] }
  }
  if (format === 'responses') {
    return { ...out, input: [...arr(out.input), { type: 'message', role: 'user', content: CONTINUE_INSTRUCTION }] }
  }
  return { ...out, messages: [...arr(out.messages), { role: 'user', content: CONTINUE_INSTRUCTION }] }
}

/**
 * The body with `prefill` as the last assistant turn (after the client's own prefill, if it
 * made one) and extended thinking off, in the client's format: Anthropic and OpenAI
 * `messages`, Gemini `contents` (a `model` turn; `thinkingConfig` dropped), Responses `input`
 * (an assistant message item; `reasoning` dropped). Consecutive assistant turns of Gemini and
 * Responses are joined by their request translation, so a client prefill of theirs comes first.
 */
function withAnswerSoFar(body: JsonObject, prefill: string, format: WireFormatName): JsonObject {
  if (format === 'gemini') {
    const { generationConfig, ...rest } = body
    const { thinkingConfig: _thinking, ...config } = obj(generationConfig)
    return {
      ...rest,
      ...(generationConfig === undefined ? {} : { generationConfig: config }),
      contents: [...arr(body.contents), { role: 'model', parts: [{ text: prefill }] }],
    }
  }
  if (format === 'responses') {
    const { reasoning: _reasoning, ...rest } = body
    const input = typeof body.input === 'string'
      ? [{ type: 'message', role: 'user', content: body.input }]
      : arr(body.input)
    return {
      ...rest,
      input: [...input, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: prefill }] }],
    }
  }
  const { thinking: _thinking, ...rest } = body
  const messages = arr(body.messages).slice()
  const last = obj(messages[messages.length - 1])
  if (last.role === 'assistant') {
    // The client prefilled the answer itself: what it was sent goes after its own prefill.
    const own = typeof last.content === 'string'
      ? last.content
      : arr(last.content).map((b) => str(obj(b).text) ?? '').join('')
    messages[messages.length - 1] = { ...last, content: own + prefill }
  } else messages.push({ role: 'assistant', content: prefill })
  return { ...rest, messages }
}

/** DeepSeek continues a trailing assistant message only when it is marked `prefix: true` (OpenAI format). */
export function markPrefix(body: JsonObject): JsonObject {
  const messages = arr(body.messages).slice()
  const last = obj(messages[messages.length - 1])
  if (last.role !== 'assistant') return body
  messages[messages.length - 1] = { ...last, prefix: true }
  return { ...body, messages }
}
