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
  #data: string[] = []
  #dataChars = 0

  constructor(max: number) {
    this.#max = max
  }

  get idle(): boolean {
    return this.#tail.length === 0 && this.#data.length === 0 && this.#event === undefined
  }

  #line(raw: string, out: SseEvent[]): void {
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw
    if (text.length === 0) {
      const event = this.#event
      if (this.#data.length > 0) {
        out.push(event === undefined ? { data: this.#data.join('\n') } : { event, data: this.#data.join('\n') })
      }
      this.#event = undefined
      this.#data = []
      this.#dataChars = 0
      return
    }
    if (text.charCodeAt(0) === 58) return // ':' comment, e.g. OpenRouter's keep-alive
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') {
      this.#dataChars += value.length + 1
      if (this.#dataChars > this.#max) throw new SseEventTooLarge(this.#max)
      this.#data.push(value)
    } else if (field === 'event') this.#event = value
  }

  push(text: string): SseEvent[] {
    const out: SseEvent[] = []
    if (this.#first && text.length > 0) {
      this.#first = false
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // the SSE spec ignores a leading BOM
    }
    let nl = text.indexOf('\n')
    let start = 0
    if (nl >= 0) {
      // The unterminated line so far is kept as pieces and joined once its newline arrives,
      // so a long line costs linear time, not a copy of everything so far on every push.
      const tail = this.#tail
      this.#line(tail.length > 0 ? tail.join('') + text.slice(0, nl) : text.slice(0, nl), out)
      if (tail.length > 0) this.#tail = []
      this.#tailChars = 0
      start = nl + 1
      nl = text.indexOf('\n', start)
      while (nl >= 0) {
        this.#line(text.slice(start, nl), out)
        start = nl + 1
        nl = text.indexOf('\n', start)
      }
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
    if (this.#tail.length > 0) this.#line(this.#tail.join(''), out)
    this.#tail = []
    this.#tailChars = 0
    this.#line('', out)
    return out
  }
}
