import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createUsageTap, usageFromJson } from './usage.ts'
import { aev, openaiChunks } from '../../test/arbitraries/formats.ts'

describe('usageFromJson', () => {
  it('reads both formats', () => {
    assert.deepEqual(usageFromJson('anthropic', { usage: { input_tokens: 4, output_tokens: 2, cache_read_input_tokens: 10 } }),
      { inputTokens: 4, outputTokens: 2, cacheReadTokens: 10, cacheCreationTokens: 0 })
    assert.deepEqual(usageFromJson('openai', { usage: { prompt_tokens: 14, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 10 } } }),
      { inputTokens: 4, outputTokens: 2, cacheReadTokens: 10, cacheCreationTokens: 0 })
    assert.equal(usageFromJson('openai', { choices: [] }), undefined)
  })
})

describe('createUsageTap', () => {
  it('Anthropic: input from message_start, cumulative output from the last message_delta', () => {
    const tap = createUsageTap('anthropic')
    const events = [
      aev('message_start', { message: { usage: { input_tokens: 412, cache_read_input_tokens: 1830, output_tokens: 1 } } }),
      aev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'He said \\"hi\\"' } }),
      aev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 50 } }),
      aev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 96 } }),
    ]
    for (const e of events) tap.observe(e)
    assert.equal(tap.terminal, false)
    tap.observe(aev('message_stop'))
    assert.deepEqual(tap.usage, { inputTokens: 412, outputTokens: 96, cacheReadTokens: 1830, cacheCreationTokens: 0 })
    assert.equal(tap.terminal, true)
    assert.equal(tap.errored, false)
    assert.equal(tap.events, 6)
    assert.equal(tap.contentEvents, 1)
    assert.equal(tap.outputChars, JSON.stringify('He said \\"hi\\"').length - 2)
  })
  it('OpenAI: usage from the final chunk, terminal at [DONE], errors seen', () => {
    const tap = createUsageTap('openai')
    for (const e of openaiChunks([{ role: 'assistant', content: '' }, { content: 'abc' }], { finish: 'stop', usage: { prompt_tokens: 9, completion_tokens: 3 } })) tap.observe(e)
    assert.deepEqual(tap.usage, { inputTokens: 9, outputTokens: 3, cacheReadTokens: 0, cacheCreationTokens: 0 })
    assert.equal(tap.terminal, true)
    assert.equal(tap.contentEvents, 1)
    assert.equal(tap.outputChars, 3)
    const bad = createUsageTap('openai')
    bad.observe({ data: '{"choices":[{"delta":{"content":"the \\"error\\" word"}}]}' })
    assert.equal(bad.errored, false)
    bad.observe({ data: '{ "error": { "message": "x" } }' })
    assert.equal(bad.errored, true)
    assert.equal(bad.usage, undefined)
  })
  it('OpenAI: a finish_reason marks the answer finished before [DONE]; null and quoted text do not', () => {
    const tap = createUsageTap('openai')
    tap.observe({ data: '{"choices":[{"delta":{"content":"say \\"finish_reason\\":\\"stop\\""},"finish_reason":null}]}' })
    assert.equal(tap.finished, false)
    tap.observe({ data: '{"choices":[{"delta":{},"finish_reason":"stop"}]}' })
    assert.equal(tap.finished, true)
    assert.equal(tap.terminal, false)
  })
  it('Anthropic error events mark the tap errored', () => {
    const tap = createUsageTap('anthropic')
    tap.observe(aev('error', { error: { type: 'overloaded_error', message: 'x' } }))
    assert.equal(tap.errored, true)
    assert.equal(tap.terminal, false)
  })
})
