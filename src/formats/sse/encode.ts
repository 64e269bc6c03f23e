import type { SseEvent, WireFormatName } from '../types.ts'

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
 * An SSE comment (`: text`): an SSE parser skips it, so it can carry data for people and tools
 * reading the raw stream without the client seeing an event. Newlines become more comment
 * lines. Not for every client: see `takesSseComments`.
 * @example encodeSseComment('hello') // ': hello\n\n'
 */
export function encodeSseComment(text: string): string {
  return text.split(/\r\n|\r|\n/).map((line) => `: ${line}\n`).join('') + '\n'
}

/**
 * Whether clients of `format` may be sent SSE comments. Gemini's may not: the SSE reader of the
 * `@google/genai` the Gemini CLI bundles (0.61.0 bundles 1.30) matches each event as `data: …`
 * at the start of its buffer, so a comment stalls it, every later event piles up behind it, and
 * the stream ends in "Incomplete JSON segment at the end": the CLI then asks again and prints
 * the answer twice. Google's own API sends no comments, so its clients never had to skip one.
 */
export function takesSseComments(format: WireFormatName): boolean {
  return format !== 'gemini'
}
