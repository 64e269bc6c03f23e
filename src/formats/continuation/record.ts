/**
 * What the client has been sent so far, in its own wire format: enough to decide whether a
 * broken stream can be continued, to build the prefill, and to splice the continuation in.
 * Cheap per event: text-bearing events are kept as their raw data and parsed only when a
 * continuation is needed; only block starts and stops (a few per answer) are parsed at once.
 */
import type { SseEvent, WireFormatName } from '../types.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'

export type OpenBlock = { readonly index: number; readonly kind: 'text' | 'thinking' | 'tool' | 'other' }

const TOOL_CALLS = /"tool_calls":\s*\[/
const CONTENT = /"content":\s*"/

const BLOCK_KINDS: Readonly<Record<string, OpenBlock['kind']>> = { text: 'text', thinking: 'thinking', redacted_thinking: 'thinking', tool_use: 'tool', server_tool_use: 'tool' }

export class StreamRecord {
  readonly format: WireFormatName
  /** Anthropic message id / OpenAI chunk id of the first answer, kept on spliced events. */
  id: string | undefined
  /** Anthropic: the block open at the last event, if any. */
  open: OpenBlock | undefined
  /** Anthropic: the index the next new block takes. */
  nextIndex = 0
  /** A tool call reached the client (its JSON cannot be prefilled). */
  toolStarted = false
  /** A terminal or error event reached the client. */
  ended = false
  readonly #raw: string[] = []

  constructor(format: WireFormatName) {
    this.format = format
  }

  observe(ev: SseEvent): void {
    if (this.format === 'anthropic') this.#anthropic(ev)
    else this.#openai(ev)
  }

  /** The answer text the client has (text blocks / `content` deltas, in order). */
  text(): string {
    let s = ''
    for (const data of this.#raw) {
      const d = obj(tryParse(data))
      if (this.format === 'anthropic') s += str(obj(d.delta).text) ?? ''
      else s += str(obj(obj(arr(d.choices)[0]).delta).content) ?? ''
    }
    return s
  }

  #anthropic(ev: SseEvent): void {
    switch (ev.event) {
      case 'content_block_delta':
        if (this.open?.kind === 'text' && ev.data.includes('"text_delta"')) this.#raw.push(ev.data)
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
      case 'message_stop': case 'error':
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
    if (CONTENT.test(data)) this.#raw.push(data)
    if (ev.event === 'error' || (data.includes('"error"') && isObject(obj(tryParse(data)).error))) this.ended = true
  }
}
