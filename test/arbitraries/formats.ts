import fc from 'fast-check'
import type { SseEvent } from '../../src/formats/types.ts'

/** Split `text` at the given cut points (sorted, deduplicated, clamped to the text). */
export function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), text.length)))].sort((a, b) => a - b)
  const out: string[] = []
  let prev = 0
  for (const p of points) {
    out.push(text.slice(prev, p))
    prev = p
  }
  out.push(text.slice(prev))
  return out
}

/** Cut points for chunking a text of up to `max` characters. */
export const cutsArb = (max = 400): fc.Arbitrary<number[]> => fc.array(fc.nat({ max }), { maxLength: 30 })

/** Split an event list into consecutive groups (how a network delivers them). */
export function groupAt<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  return splitAt('x'.repeat(items.length), cuts).map((s, i, all) => {
    const start = all.slice(0, i).reduce((n, p) => n + p.length, 0)
    return items.slice(start, start + s.length)
  })
}

const fieldText = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', '{', '"', 'é', '😀', '\n') })

/** SSE events whose data may span lines (no bare `\r`: the wire cannot carry it in a data line). */
export const sseEventArb: fc.Arbitrary<SseEvent> = fc.record(
  { event: fc.constantFrom('message_start', 'ping', 'content_block_delta', 'error'), data: fieldText },
  { requiredKeys: ['data'] },
).map((e) => ({ ...e }))

/** A text delta that may contain think tags, tag fragments, whitespace and unicode. */
export const contentPieceArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('<think>', '</think>', '<th', 'ink>', '</th', '\n', ' ', 'x<y', 'é'),
  fc.string({ unit: fc.constantFrom('a', 'b', ' ', '<', '>', '/', '\n'), maxLength: 12 }),
)
