/**
 * Tool calls reach the client whole (docs/resilience.md, "Thinking and tools"). A tool call's
 * events (Anthropic: its `tool_use` block from start to stop; OpenAI: the chunks carrying
 * `tool_calls`; Responses: its item from `output_item.added` to `output_item.done`; Gemini
 * sends a call whole in one chunk) are held back until the call is complete, so a cut inside one leaves nothing of
 * it at the client: the held events are dropped and the continuation makes the call again.
 * Once any of a call's arguments reached the client, a cut can only end in a clean error
 * (`cannotContinue`), never in a tool call whose JSON is invalid.
 *
 * A call larger than `maxBytes` is let through as it streams (memory stays bounded); a cut in
 * it then ends the stream with the error event, with the call's block never closed.
 */
import type { SseEvent, WireFormatName } from '../types.ts'
import { num, obj, str, tryParse } from '../translate/json.ts'

/** The default bound on one held tool call (its events' data), 1 MiB. */
export const TOOL_HOLD_MAX_BYTES = 1 << 20

const TOOL_CALLS = /"tool_calls":\s*\[/
const TOOL_BLOCKS = new Set(['tool_use', 'server_tool_use'])
const RESPONSES_TOOLS = new Set(['function_call', 'custom_tool_call'])

export class ToolHold {
  readonly #format: WireFormatName
  readonly #maxBytes: number
  #held: SseEvent[] = []
  #bytes = 0
  /** Anthropic: the index of the tool block held (or let through past the bound). */
  #index: number | undefined
  /** The call outgrew the bound: its events pass through until it ends. */
  #passing = false

  constructor(format: WireFormatName, maxBytes = TOOL_HOLD_MAX_BYTES) {
    this.#format = format
    this.#maxBytes = maxBytes
  }

  /** A tool call is held (a cut now loses nothing the client has). */
  get holding(): boolean {
    return this.#held.length > 0
  }

  /**
   * The events to send now, in order; a tool call's events come out when it is complete. While
   * nothing is held, events that cannot start a hold are let through without a copy: the input
   * itself comes back when all of them are (the common case, once per chunk).
   */
  push(evs: readonly SseEvent[]): readonly SseEvent[] {
    // Gemini sends a function call whole, in one chunk: its events pass as they come.
    if (this.#format === 'gemini') return evs
    let out: SseEvent[] | undefined
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!
      if (out === undefined) {
        if (this.#passes(ev)) continue
        out = evs.slice(0, i)
      }
      if (this.#format === 'anthropic') this.#anthropic(ev, out)
      else if (this.#format === 'openai') this.#openai(ev, out)
      else this.#responses(ev, out)
    }
    return out ?? evs
  }

  /** Nothing is held and this event starts no hold: the per-format step would only let it out. */
  #passes(ev: SseEvent): boolean {
    if (this.#held.length > 0 || this.#passing || this.#index !== undefined) return false
    if (this.#format === 'anthropic') return ev.event !== 'content_block_start'
    if (this.#format === 'openai') return ev.data === '[DONE]' || !TOOL_CALLS.test(ev.data)
    return !ev.data.includes('"response.output_item.added"')
  }

  /** The answer ended normally: whatever is held goes out. */
  end(): SseEvent[] {
    return this.#release()
  }

  /** The stream broke: the held tool call is dropped (the client never sees any of it). */
  drop(): void {
    this.#held = []
    this.#bytes = 0
    this.#index = undefined
    this.#passing = false
  }

  #anthropic(ev: SseEvent, out: SseEvent[]): void {
    if (this.#index === undefined) {
      if (
        ev.event === 'content_block_start' && TOOL_BLOCKS.has(str(obj(obj(tryParse(ev.data)).content_block).type) ?? '')
      ) {
        this.#index = num(obj(tryParse(ev.data)).index) ?? 0
        this.#hold(ev, out)
      } else out.push(ev)
      return
    }
    const inBlock = ev.event === 'content_block_delta' || ev.event === 'ping' ||
      (ev.event === 'content_block_stop' && num(obj(tryParse(ev.data)).index) === this.#index)
    if (!inBlock) {
      // The block never closed (a malformed upstream): let it out as it came, then go on.
      out.push(...this.#release(), ev)
      return
    }
    this.#hold(ev, out)
    if (ev.event === 'content_block_stop') out.push(...this.#release())
  }

  /** Responses: a function or custom tool call item, from its `output_item.added` to its `output_item.done`. */
  #responses(ev: SseEvent, out: SseEvent[]): void {
    if (this.#index === undefined) {
      const d = ev.data.includes('"response.output_item.added"') ? obj(tryParse(ev.data)) : undefined
      if (d && RESPONSES_TOOLS.has(str(obj(d.item).type) ?? '')) {
        this.#index = num(d.output_index) ?? 0
        this.#hold(ev, out)
      } else out.push(ev)
      return
    }
    const d = obj(tryParse(ev.data))
    if (num(d.output_index) !== this.#index) {
      // The item never closed (a malformed upstream): let it out as it came, then go on.
      out.push(...this.#release(), ev)
      return
    }
    this.#hold(ev, out)
    if (str(d.type) === 'response.output_item.done' || ev.event === 'response.output_item.done') {
      out.push(...this.#release())
    }
  }

  #openai(ev: SseEvent, out: SseEvent[]): void {
    if (ev.data !== '[DONE]' && TOOL_CALLS.test(ev.data)) return this.#hold(ev, out)
    // A chunk without tool calls (text, the finish_reason, usage, [DONE]): the calls before it are complete.
    if (this.#held.length > 0 || this.#passing) out.push(...this.#release())
    out.push(ev)
  }

  #hold(ev: SseEvent, out: SseEvent[]): void {
    if (this.#passing) return void out.push(ev)
    this.#held.push(ev)
    this.#bytes += ev.data.length
    if (this.#bytes > this.#maxBytes) {
      out.push(...this.#held)
      this.#held = []
      this.#bytes = 0
      this.#passing = true
    }
  }

  #release(): SseEvent[] {
    const held = this.#held
    this.drop()
    return held
  }
}
