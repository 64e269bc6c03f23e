import type { SseEvent } from '../types.ts'

/**
 * Frame one event for the wire: `event: x\ndata: y\n\n`, or `data: y\n\n` without a name.
 * Data containing newlines becomes several `data:` lines so the decoder joins it back.
 * @example encodeSse({ data: '[DONE]' }) // 'data: [DONE]\n\n'
 */
export function encodeSse(ev: SseEvent): string {
  const head = ev.event === undefined ? '' : `event: ${ev.event}\n`
  if (ev.data.indexOf('\n') < 0) return `${head}data: ${ev.data}\n\n`
  return `${head}data: ${ev.data.split(/\r?\n/).join('\ndata: ')}\n\n`
}

/** Frame many events at once (one string, one write). */
export function encodeSseAll(events: readonly SseEvent[]): string {
  let s = ''
  for (const ev of events) s += encodeSse(ev)
  return s
}

/**
 * An SSE comment (`: text`): every SSE parser skips it, so it can carry data for people and
 * tools reading the raw stream without any client seeing an event. Newlines become more
 * comment lines.
 * @example encodeSseComment('hello') // ': hello\n\n'
 */
export function encodeSseComment(text: string): string {
  return text.split(/\r\n|\r|\n/).map((line) => `: ${line}\n`).join('') + '\n'
}
