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
  const max = opts.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS
  let tail: string[] = []
  let tailChars = 0
  let first = true
  let event: string | undefined
  let data: string[] = []
  let dataChars = 0

  const line = (raw: string, out: SseEvent[]): void => {
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw
    if (text.length === 0) {
      if (data.length > 0) out.push(event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') })
      event = undefined
      data = []
      dataChars = 0
      return
    }
    if (text.charCodeAt(0) === 58) return // ':' comment, e.g. OpenRouter's keep-alive
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') {
      dataChars += value.length + 1
      if (dataChars > max) throw new SseEventTooLarge(max)
      data.push(value)
    } else if (field === 'event') event = value
  }

  return {
    push(text: string): SseEvent[] {
      const out: SseEvent[] = []
      if (first && text.length > 0) {
        first = false
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // the SSE spec ignores a leading BOM
      }
      let nl = text.indexOf('\n')
      let start = 0
      if (nl >= 0) {
        // The unterminated line so far is kept as pieces and joined once its newline arrives,
        // so a long line costs linear time, not a copy of everything so far on every push.
        line(tail.length > 0 ? tail.join('') + text.slice(0, nl) : text.slice(0, nl), out)
        tail = []
        tailChars = 0
        start = nl + 1
        nl = text.indexOf('\n', start)
        while (nl >= 0) {
          line(text.slice(start, nl), out)
          start = nl + 1
          nl = text.indexOf('\n', start)
        }
      }
      if (start < text.length) {
        tail.push(start === 0 ? text : text.slice(start))
        tailChars += text.length - start
        if (tailChars > max) throw new SseEventTooLarge(max)
      }
      return out
    },
    flush(): SseEvent[] {
      const out: SseEvent[] = []
      if (tail.length > 0) line(tail.join(''), out)
      tail = []
      tailChars = 0
      line('', out)
      return out
    },
  }
}
