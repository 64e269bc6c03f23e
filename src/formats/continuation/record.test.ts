import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { SseEvent } from '../types.ts'
import { StreamRecord } from './record.ts'

const start: SseEvent = {
  event: 'content_block_start',
  data: '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
}
/** A text delta as Anthropic and the translators write it (compact JSON). */
const compact = (text: string): SseEvent => ({
  event: 'content_block_delta',
  data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
})
/** The same delta as a server that spaces its JSON writes it (the record parses it whole). */
const spaced = (text: string): SseEvent => ({
  event: 'content_block_delta',
  data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, null, 1),
})

function recorded(events: readonly SseEvent[]): string {
  const rec = new StreamRecord('anthropic')
  rec.observe(start)
  for (const ev of events) rec.observe(ev)
  return rec.text()
}

describe('StreamRecord: Anthropic text deltas', () => {
  it('keeps exactly the text of every delta, escaped or not, in either JSON layout', () => {
    // Any UTF-16 string: quotes, backslashes, control characters, lone surrogates, non-ASCII.
    const piece = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\\"', '\n', '}}', '\u2028', ''))
    fc.assert(
      fc.property(fc.array(fc.tuple(piece, fc.boolean()), { maxLength: 12 }), (pieces) => {
        const events = pieces.map(([text, isCompact]) => (isCompact ? compact(text) : spaced(text)))
        // JSON.stringify writes a lone surrogate as an escape, which parses back to the same code unit.
        assert.equal(recorded(events), pieces.map(([text]) => text).join(''))
      }),
      { numRuns: 500 },
    )
  })

  it('keeps plain and escaped text alike', () => {
    const pieces = ['plain words, ünïcode → ok', 'a "quote" and a \\ slash\n']
    assert.equal(recorded(pieces.map(compact)), pieces.join(''))
  })

  it('drops a delta whose JSON is broken rather than recording its raw text', () => {
    const broken: SseEvent = {
      event: 'content_block_delta',
      data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"b"}}',
    }
    assert.equal(recorded([compact('x'), broken, compact('y')]), 'xy')
  })
})
