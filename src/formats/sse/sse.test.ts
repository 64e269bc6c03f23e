import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createSseDecoder } from './decode.ts'
import { encodeSse, encodeSseAll, encodeSseComment } from './encode.ts'
import { cutsArb, splitAt, sseEventArb } from '../../../test/arbitraries/formats.ts'
import type { SseEvent } from '../types.ts'

function decodeChunks(chunks: readonly string[]): SseEvent[] {
  const d = createSseDecoder()
  return [...chunks.flatMap((c) => d.push(c)), ...d.flush()]
}

describe('createSseDecoder', () => {
  it('parses named and unnamed events, CRLF, comments, multi-line data', () => {
    const text =
      ': OPENROUTER PROCESSING\r\n\r\nevent: ping\r\ndata: {"a":1}\r\n\r\ndata:x\ndata:  y\nid: 3\nretry: 5\n\ndata: [DONE]\n\n'
    assert.deepEqual(decodeChunks([text]), [
      { event: 'ping', data: '{"a":1}' },
      { data: 'x\n y' },
      { data: '[DONE]' },
    ])
  })
  it('buffers a partial event until its blank line', () => {
    const d = createSseDecoder()
    assert.deepEqual(d.push('event: message_st'), [])
    assert.deepEqual(d.push('op\ndata: {"type":"mess'), [])
    assert.deepEqual(d.push('age_stop"}\r'), [])
    assert.deepEqual(d.push('\n\r\n'), [{ event: 'message_stop', data: '{"type":"message_stop"}' }])
  })
  it('drops an event with no data and resets the event name', () => {
    assert.deepEqual(decodeChunks(['event: a\n\ndata: 1\n\n']), [{ data: '1' }])
  })
  it('ignores a leading byte-order mark only at the very start', () => {
    assert.deepEqual(decodeChunks(['', '\uFEFFdata: a\n\n', '\uFEFFdata: b\n\n']), [{ data: 'a' }])
  })
  it('flush returns an unterminated final event', () => {
    assert.deepEqual(decodeChunks(['data: {"x":1}']), [{ data: '{"x":1}' }])
  })
  it('is idle only between events: not inside a line, nor after a field line before its blank line', () => {
    const d = createSseDecoder()
    assert.equal(d.idle, true)
    d.push('event: a\nda')
    assert.equal(d.idle, false)
    d.push('ta: 1\n')
    assert.equal(d.idle, false)
    d.push('\n: comment\n')
    assert.equal(d.idle, true)
    d.push('event: b\n')
    assert.equal(d.idle, false, 'an event name without data yet')
    d.push('\r\n')
    assert.equal(d.idle, true)
  })
  it('law: any chunking of the same text yields the same events', () => {
    fc.assert(fc.property(fc.array(sseEventArb, { maxLength: 8 }), cutsArb(300), fc.boolean(), (evs, cuts, crlf) => {
      let text = encodeSseAll(evs)
      if (crlf) text = text.replaceAll('\n', '\r\n')
      assert.deepEqual(decodeChunks(splitAt(text, cuts)), decodeChunks([text]))
    }))
  })
  it('law: decode(encode(events)) equals events', () => {
    fc.assert(fc.property(fc.array(sseEventArb, { maxLength: 8 }), (evs) => {
      assert.deepEqual(decodeChunks([encodeSseAll(evs)]), evs)
    }))
  })
})

describe('encodeSseComment', () => {
  it('is a comment the decoder skips, also across lines, around events', () => {
    assert.equal(encodeSseComment('a'), ': a\n\n')
    const d = createSseDecoder()
    const ev: SseEvent = { event: 'x', data: '1' }
    assert.deepEqual(d.push(encodeSseComment('a\nb') + encodeSse(ev) + encodeSseComment('c')), [ev])
  })
})

describe('encodeSse', () => {
  it('writes the event line only when named', () => {
    assert.equal(encodeSse({ event: 'ping', data: '{}' }), 'event: ping\ndata: {}\n\n')
    assert.equal(encodeSse({ data: 'a\nb' }), 'data: a\ndata: b\n\n')
  })
})
