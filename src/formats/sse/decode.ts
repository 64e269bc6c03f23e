import type { SseEvent } from '../types.ts'

/** Default cap on one SSE line or event, in UTF-16 characters (`SSE_MAX_EVENT_BYTES`). */
export const DEFAULT_MAX_EVENT_CHARS = 16 * 1024 * 1024

/**
 * Thrown by `push` when a line, or the data of one event, outgrows the cap: an upstream that
 * sends `data: ` and then bytes without a newline must not grow memory without limit.
 */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`upstream sent an SSE event larger than ${limit} characters`)
    this.name = 'SseEventTooLarge'
  }
}

/** An incremental SSE parser: feed decoded text as it arrives, get whole events back. */
export interface SseDecoder {
  push(text: string): SseEvent[]
  /** The input ended: parse a last unterminated line and return a pending event, if any. */
  flush(): SseEvent[]
  /** Nothing is pending: every byte pushed so far belongs to an event already returned (or a comment). */
  readonly idle: boolean
}

/**
 * Create an SSE decoder (docs/protocols.md §1): events end at a blank line (`\n` or `\r\n` line
 * ends), one optional space after the colon is stripped, several `data:` lines join with `\n`,
 * `:` comment lines and unknown fields are ignored. Only the unterminated tail of the input is
 * kept between pushes (as pieces), so no byte is scanned or copied twice; lines are split with
 * indexOf, not regexes.
 * A line or an event's data longer than `maxEventChars` throws `SseEventTooLarge`.
 * @example createSseDecoder().push('event: ping\ndata: {}\n\n') // [{ event: 'ping', data: '{}' }]
 */
export function createSseDecoder(opts: { readonly maxEventChars?: number } = {}): SseDecoder {
  return new Decoder(opts.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS)
}

/** One object with methods, not closures over a scope: an open stream keeps its decoder. */
class Decoder implements SseDecoder {
  readonly #max: number
  #tail: string[] = []
  #tailChars = 0
  #first = true
  #event: string | undefined
  /** The event's first `data:` line; the rest (rare) in #more, joined with `\n` when it ends. */
  #data: string | undefined
  #more: string[] | undefined
  #dataChars = 0
  #lastName = ''

  constructor(max: number) {
    this.#max = max
  }

  get idle(): boolean {
    return this.#tail.length === 0 && this.#data === undefined && this.#event === undefined
  }

  /**
   * The line `text[start, end)` (its `\n` excluded). Read in place: no string is made for the
   * line or its field name, only for a value that is kept. Fields other than `data` and `event`
   * (`id`, `retry`, unknown ones) are ignored, so the field is recognised by its first characters.
   */
  #line(text: string, start: number, end: number, out: SseEvent[]): void {
    if (end > start && text.charCodeAt(end - 1) === 13) end--
    if (end === start) {
      const data = this.#data
      if (data !== undefined) {
        const joined = this.#more === undefined ? data : this.#more.join('\n')
        const event = this.#event
        out.push(event === undefined ? { data: joined } : { event, data: joined })
      }
      this.#event = undefined
      this.#data = undefined
      this.#more = undefined
      this.#dataChars = 0
      return
    }
    if (text.charCodeAt(start) === 58) return // ':' comment, e.g. OpenRouter's keep-alive
    if (text.startsWith('data', start)) {
      const from = valueAt(text, start + 4, end)
      if (from < 0) return
      const value = text.slice(from, end)
      this.#dataChars += value.length + 1
      if (this.#dataChars > this.#max) throw new SseEventTooLarge(this.#max)
      if (this.#data === undefined) this.#data = value
      else if (this.#more === undefined) this.#more = [this.#data, value]
      else this.#more.push(value)
    } else if (text.startsWith('event', start)) {
      const from = valueAt(text, start + 5, end)
      if (from < 0) return
      // Streams repeat a few names (`content_block_delta`, …): the last one is reused, not sliced again.
      const last = this.#lastName
      this.#event = end - from === last.length && text.startsWith(last, from)
        ? last
        : (this.#lastName = text.slice(from, end))
    }
  }

  push(text: string): SseEvent[] {
    const out: SseEvent[] = []
    if (this.#first && text.length > 0) {
      this.#first = false
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // the SSE spec ignores a leading BOM
    }
    let nl = text.indexOf('\n')
    let start = 0
    if (nl >= 0 && this.#tail.length > 0) {
      // The unterminated line so far is kept as pieces and joined once its newline arrives,
      // so a long line costs linear time, not a copy of everything so far on every push.
      const line = this.#tail.join('') + text.slice(0, nl)
      this.#tail = []
      this.#tailChars = 0
      this.#line(line, 0, line.length, out)
      start = nl + 1
      nl = text.indexOf('\n', start)
    }
    while (nl >= 0) {
      this.#line(text, start, nl, out)
      start = nl + 1
      nl = text.indexOf('\n', start)
    }
    if (start < text.length) {
      this.#tail.push(start === 0 ? text : text.slice(start))
      this.#tailChars += text.length - start
      if (this.#tailChars > this.#max) throw new SseEventTooLarge(this.#max)
    }
    return out
  }

  flush(): SseEvent[] {
    const out: SseEvent[] = []
    if (this.#tail.length > 0) {
      const line = this.#tail.join('')
      this.#line(line, 0, line.length, out)
    }
    this.#tail = []
    this.#tailChars = 0
    this.#line('', 0, 0, out)
    return out
  }
}

/**
 * Where the value of a field whose name ends at `at` starts, in the line ending at `end`: after
 * the colon and one optional space, or `end` (an empty value) when the line is the name alone;
 * -1 when the name goes on (`database:` is not `data`).
 */
function valueAt(text: string, at: number, end: number): number {
  if (at === end) return end
  if (text.charCodeAt(at) !== 58) return -1
  const from = at + 1
  return from < end && text.charCodeAt(from) === 32 ? from + 1 : from
}
