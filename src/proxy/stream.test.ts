import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { billedUsage } from './stream.ts'

const usage = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
})

describe('billedUsage: what one try that streamed is billed', () => {
  it('a finished try is billed what it reported, however many characters it streamed', () => {
    assert.deepEqual(billedUsage({ usage: usage(900, 12), finished: true, outputChars: 4_000 }, 50), usage(900, 12))
  })

  it('a try cut before any usage (an OpenAI stream) is billed the estimated prompt and ~4 characters a token', () => {
    assert.deepEqual(billedUsage({ usage: undefined, finished: false, outputChars: 21 }, 650), usage(650, 6))
    assert.deepEqual(billedUsage({ usage: undefined, finished: false, outputChars: 0 }, 650), usage(650, 0))
  })

  it('a try cut after message_start keeps its reported prompt and cache, and counts what it streamed', () => {
    const started = { ...usage(700, 1), cacheReadTokens: 300 }
    assert.deepEqual(billedUsage({ usage: started, finished: false, outputChars: 800 }, 50), {
      ...started,
      outputTokens: 200,
    })
  })

  it('never bills less than was reported, nor invents input when some was reported', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.nat(10_000),
        fc.nat(100_000),
        fc.boolean(),
        fc.nat(10_000),
        (input, output, chars, finished, estimate) => {
          const u = billedUsage({ usage: usage(input, output), finished, outputChars: chars }, estimate)
          assert.equal(u.inputTokens, input)
          assert.ok(u.outputTokens >= output)
          if (!finished) assert.ok(u.outputTokens >= Math.ceil(chars / 4))
        },
      ),
    )
  })
})
