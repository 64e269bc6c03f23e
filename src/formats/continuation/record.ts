/**
 * What the client has been sent so far, in its own wire format: enough to decide whether a
 * broken stream can be continued, to build the prefill, and to splice the continuation in.
 * Only the answer's text is kept, not the events that carried it: a text event's JSON is ~20×
 * its text, and every open stream that may be continued holds its record to the end (1,000
 * open answers of 2,000 deltas each held ~260 MB as raw events). Text events and block starts
 * and stops are parsed as they pass; nothing else is.
 */
import type { JsonObject, SseEvent, WireFormatName } from '../types.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'

export type OpenBlock = { readonly index: number; readonly kind: 'text' | 'thinking' | 'tool' | 'other' }

const TOOL_CALLS = /"tool_calls":\s*\[/
const CONTENT = /"content":\s*"/

const SEQUENCE = /"sequence_number":\s*(\d+)/
const FUNCTION_CALL = /"functionCall":/
const GEMINI_TEXT = /"text":\s*"/
const GEMINI_END = /"finishReason":\s*"/

/** Responses output item types → the kind of block they are. */
const ITEM_KINDS: Readonly<Record<string, OpenBlock['kind']>> = {
  message: 'text',
  reasoning: 'thinking',
  function_call: 'tool',
  custom_tool_call: 'tool',
}

/** The Responses event type: the SSE event name, or the data's `type`. */
export const responsesType = (ev: SseEvent, d?: JsonObject): string | undefined =>
  ev.event ?? str((d ?? obj(tryParse(ev.data))).type)

const BLOCK_KINDS: Readonly<Record<string, OpenBlock['kind']>> = {
  text: 'text',
  thinking: 'thinking',
  redacted_thinking: 'thinking',
  tool_use: 'tool',
  server_tool_use: 'tool',
}

export class StreamRecord {
  readonly format: WireFormatName
  /** Anthropic message id / OpenAI chunk id of the first answer, kept on spliced events. */
  id: string | undefined
  /** Anthropic: the block open at the last event, if any. */
  open: OpenBlock | undefined
  /** Anthropic: the index the next new block takes. */
  nextIndex = 0
  /** Responses: the output items the client has whole (`output_item.done`), for the final `response.output`. */
  readonly items: JsonObject[] = []
  /** Responses: the item open at the last event (its `output_item.added` item). */
  openItem: JsonObject | undefined
  /** Responses: the next `sequence_number`. */
  nextSeq = 0
  /** A tool call reached the client (its JSON cannot be prefilled). */
  toolStarted = false
  /** A terminal or error event reached the client. */
  ended = false
  readonly #text = new TextLog()
  /** Responses: where the open message item's text starts in #text; its reasoning summary so far. */
  #openFrom = 0
  /** Gemini: the first chunk (which names the responseId) was seen. */
  #seenFirst = false
  #reasoning = ''

  constructor(format: WireFormatName) {
    this.format = format
  }

  observe(ev: SseEvent): void {
    if (this.format === 'anthropic') this.#anthropic(ev)
    else if (this.format === 'responses') this.#responses(ev)
    else if (this.format === 'gemini') this.#gemini(ev)
    else this.#openai(ev)
  }

  /** Responses: the text of the message item open at the cut. */
  openText(): string {
    return this.#text.from(this.#openFrom)
  }

  /** Responses: the reasoning summary of the reasoning item open at the cut. */
  openReasoning(): string {
    return this.#reasoning
  }

  /** The answer text the client has (text blocks / `content` deltas, in order). */
  text(): string {
    return this.#text.from(0)
  }

  #responses(ev: SseEvent): void {
    const data = ev.data
    const seq = SEQUENCE.exec(data)
    if (seq) this.nextSeq = Math.max(this.nextSeq, Number(seq[1]) + 1)
    else this.nextSeq++
    const type = ev.event ?? str(obj(tryParse(data)).type)
    switch (type) {
      case 'response.output_text.delta':
        if (this.open?.kind === 'text') this.#text.push(str(obj(tryParse(data)).delta))
        return
      case 'response.reasoning_summary_text.delta':
        if (this.open?.kind === 'thinking') this.#reasoning += str(obj(tryParse(data)).delta) ?? ''
        return
      case 'response.output_item.added': {
        const d = obj(tryParse(data))
        const item = obj(d.item)
        const index = num(d.output_index) ?? this.nextIndex
        const kind = ITEM_KINDS[str(item.type) ?? ''] ?? 'other'
        this.open = { index, kind }
        this.openItem = item
        this.nextIndex = Math.max(this.nextIndex, index + 1)
        this.#openFrom = this.#text.length
        this.#reasoning = ''
        if (kind === 'tool') this.toolStarted = true
        return
      }
      case 'response.output_item.done':
        this.items.push(obj(obj(tryParse(data)).item))
        this.open = undefined
        this.openItem = undefined
        return
      case 'response.created':
        this.id ??= str(obj(obj(tryParse(data)).response).id)
        return
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
      case 'error':
        this.ended = true
        return
      default:
    }
  }

  #gemini(ev: SseEvent): void {
    const data = ev.data
    if (!this.#seenFirst) {
      this.#seenFirst = true
      this.id = str(obj(tryParse(data)).responseId)
    }
    if (FUNCTION_CALL.test(data)) this.toolStarted = true
    if (GEMINI_TEXT.test(data)) this.#text.push(geminiText(obj(tryParse(data))))
    if (
      GEMINI_END.test(data) || ev.event === 'error' || (data.includes('"error"') && isObject(obj(tryParse(data)).error))
    ) this.ended = true
  }

  #anthropic(ev: SseEvent): void {
    switch (ev.event) {
      case 'content_block_delta':
        if (this.open?.kind === 'text' && ev.data.includes('"text_delta"')) {
          this.#text.push(plainTextDelta(ev.data) ?? str(obj(obj(tryParse(ev.data)).delta).text))
        }
        return
      case 'content_block_start': {
        const d = obj(tryParse(ev.data))
        const index = num(d.index) ?? this.nextIndex
        const kind = BLOCK_KINDS[str(obj(d.content_block).type) ?? ''] ?? 'other'
        this.open = { index, kind }
        this.nextIndex = Math.max(this.nextIndex, index + 1)
        if (kind === 'tool') this.toolStarted = true
        return
      }
      case 'content_block_stop':
        this.open = undefined
        return
      case 'message_start':
        this.id ??= str(obj(obj(tryParse(ev.data)).message).id)
        return
      case 'message_stop':
      case 'error':
        this.ended = true
        return
      default:
    }
  }

  #openai(ev: SseEvent): void {
    const data = ev.data
    if (data === '[DONE]') return void (this.ended = true)
    if (this.id === undefined) {
      const d = tryParse(data)
      if (isObject(d) && typeof d.id === 'string') this.id = d.id
    }
    // Servers that write JSON with spaces (`"content": "…"`) are matched too.
    if (TOOL_CALLS.test(data)) this.toolStarted = true
    if (CONTENT.test(data)) this.#text.push(str(obj(obj(arr(obj(tryParse(data)).choices)[0]).delta).content))
    if (ev.event === 'error' || (data.includes('"error"') && isObject(obj(tryParse(data)).error))) this.ended = true
  }
}

const DELTA_HEAD = '{"type":"content_block_delta","index":'
const TEXT_DELTA = ',"delta":{"type":"text_delta","text":'

/**
 * The text of an Anthropic text delta written exactly as Anthropic and the translators write it,
 * `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"…"}}`, parsing
 * only its string (a quarter of the time of parsing the event, and no objects); undefined for
 * any other shape or invalid JSON, which the caller parses whole as before.
 */
function plainTextDelta(data: string): string | undefined {
  if (!data.startsWith(DELTA_HEAD) || !data.endsWith('}}')) return undefined
  let i = DELTA_HEAD.length
  // A JSON integer: 0, or digits without a leading zero.
  if (data.charCodeAt(i) === 48) i++
  else while (isDigit(data.charCodeAt(i))) i++
  if (i === DELTA_HEAD.length || !data.startsWith(TEXT_DELTA, i)) return undefined
  const from = i + TEXT_DELTA.length
  if (data.charCodeAt(from) !== 34) return undefined
  // One JSON string exactly (an unescaped quote inside would leave text after it: a parse error).
  // Parsed even when it holds no escape: the parse makes a string of its own, where a slice of
  // `data` would keep the whole event alive in the record until its next join (measured: +5.8 KB
  // per stream at 40 chunks, docs/benchmarks.md "Seventh pass").
  const text = tryParse(data.slice(from, data.length - 2))
  return typeof text === 'string' ? text : undefined
}

const isDigit = (c: number) => c >= 48 && c <= 57

/**
 * Text appended piece by piece, kept flat: every 64 pieces are joined into one string, so a
 * long answer costs its characters and one string per 64 deltas, not a string (or a rope node)
 * per delta, and nothing is copied twice.
 */
class TextLog {
  readonly #blocks: string[] = []
  #pieces: string[] = []
  length = 0

  push(piece: string | undefined): void {
    if (!piece) return
    this.#pieces.push(piece)
    this.length += piece.length
    if (this.#pieces.length >= 64) {
      this.#blocks.push(this.#pieces.join(''))
      this.#pieces = []
    }
  }

  /** The text from character `start` on. */
  from(start: number): string {
    return (this.#blocks.join('') + this.#pieces.join('')).slice(start)
  }
}

/** The answer text of a Gemini chunk (its parts that are not thoughts). */
export function geminiText(d: JsonObject): string {
  let s = ''
  for (const p of arr(obj(obj(arr(d.candidates)[0]).content).parts)) {
    const part = obj(p)
    if (part.thought !== true) s += str(part.text) ?? ''
  }
  return s
}
