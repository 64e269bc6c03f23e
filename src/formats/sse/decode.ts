import type { SseEvent } from '../types.ts'

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
 * kept between pushes, so no byte is scanned twice; lines are split with indexOf, not regexes.
 * @example createSseDecoder().push('event: ping\ndata: {}\n\n') // [{ event: 'ping', data: '{}' }]
 */
export function createSseDecoder(): SseDecoder {
  let tail = ''
  let first = true
  let event: string | undefined
  let data: string[] = []

  const line = (raw: string, out: SseEvent[]): void => {
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw
    if (text.length === 0) {
      if (data.length > 0) out.push(event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') })
      event = undefined
      data = []
      return
    }
    if (text.charCodeAt(0) === 58) return // ':' comment, e.g. OpenRouter's keep-alive
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
  }

  return {
    push(text: string): SseEvent[] {
      const out: SseEvent[] = []
      if (first && text.length > 0) {
        first = false
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // the SSE spec ignores a leading BOM
      }
      const chunk = tail.length > 0 ? tail + text : text
      let start = 0
      // The tail holds no newline (that is why it is the tail), so resume the scan after it.
      let nl = chunk.indexOf('\n', tail.length)
      while (nl >= 0) {
        line(chunk.slice(start, nl), out)
        start = nl + 1
        nl = chunk.indexOf('\n', start)
      }
      tail = start === 0 ? chunk : chunk.slice(start)
      return out
    },
    flush(): SseEvent[] {
      const out: SseEvent[] = []
      if (tail.length > 0) line(tail, out)
      tail = ''
      line('', out)
      return out
    },
  }
}
