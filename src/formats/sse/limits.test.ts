import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createSseDecoder, DEFAULT_MAX_EVENT_CHARS, SseEventTooLarge } from './decode.ts'

describe('SSE decoder limits', () => {
  it('a line without a newline past the cap throws SseEventTooLarge, holding no more than the cap', () => {
    const d = createSseDecoder({ maxEventChars: 1000 })
    d.push('data: ')
    assert.throws(() => {
      for (let i = 0; i < 100; i++) d.push('x'.repeat(100))
    }, (e) => e instanceof SseEventTooLarge && e.limit === 1000)
  })

  it('many short data lines of one event are capped too', () => {
    const d = createSseDecoder({ maxEventChars: 1000 })
    assert.throws(() => {
      for (let i = 0; i < 100; i++) d.push(`data: ${'y'.repeat(50)}\n`)
    }, SseEventTooLarge)
  })

  it('events under the cap decode as before, however the input is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 }).filter((s) => !/[\r\n]/.test(s)), { maxLength: 10 }),
        fc.integer({ min: 1, max: 17 }),
        (datas, size) => {
          const text = datas.map((x) => `data: ${x}\n\n`).join('')
          const d = createSseDecoder({ maxEventChars: 64 })
          const out = []
          for (let i = 0; i < text.length; i += size) out.push(...d.push(text.slice(i, i + size)))
          out.push(...d.flush())
          assert.deepEqual(out.map((e) => e.data), datas)
        },
      ),
      { seed: 42, numRuns: 200 },
    )
  })

  it('a line just under the default cap, fed in 1 KiB pushes, is decoded in linear time (was quadratic copying)', () => {
    const d = createSseDecoder()
    const piece = 'z'.repeat(1024)
    const t0 = performance.now()
    d.push('data: ')
    for (let n = 6; n + piece.length < DEFAULT_MAX_EVENT_CHARS - 16; n += piece.length) d.push(piece)
    const [ev] = d.push('\n\n')
    assert.ok(ev && ev.data.length > DEFAULT_MAX_EVENT_CHARS - 2048)
    const ms = performance.now() - t0
    assert.ok(ms < 3_000, `${ms.toFixed(0)} ms`)
  })
})
