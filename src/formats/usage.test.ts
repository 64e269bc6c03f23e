import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createUsageTap, usageFromJson } from './usage.ts'
import { aev, openaiChunks } from '../../test/arbitraries/formats.ts'

describe('usageFromJson', () => {
  it('reads both formats', () => {
    assert.deepEqual(
      usageFromJson('anthropic', { usage: { input_tokens: 4, output_tokens: 2, cache_read_input_tokens: 10 } }),
      { inputTokens: 4, outputTokens: 2, cacheReadTokens: 10, cacheCreationTokens: 0 },
    )
    assert.deepEqual(
      usageFromJson('openai', {
        usage: { prompt_tokens: 14, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 10 } },
      }),
      { inputTokens: 4, outputTokens: 2, cacheReadTokens: 10, cacheCreationTokens: 0 },
    )
    assert.equal(usageFromJson('openai', { choices: [] }), undefined)
  })
})

describe('createUsageTap', () => {
  it('Anthropic: input from message_start, cumulative output from the last message_delta', () => {
    const tap = createUsageTap('anthropic')
    const events = [
      aev('message_start', {
        message: { usage: { input_tokens: 412, cache_read_input_tokens: 1830, output_tokens: 1 } },
      }),
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
    for (
      const e of openaiChunks([{ role: 'assistant', content: '' }, { content: 'abc' }], {
        finish: 'stop',
        usage: { prompt_tokens: 9, completion_tokens: 3 },
      })
    ) tap.observe(e)
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
    tap.observe({
      data: '{"choices":[{"delta":{"content":"say \\"finish_reason\\":\\"stop\\""},"finish_reason":null}]}',
    })
    assert.equal(tap.finished, false)
    tap.observe({ data: '{"choices":[{"delta":{},"finish_reason":"stop"}]}' })
    assert.equal(tap.finished, true)
    assert.equal(tap.terminal, false)
  })
  it('spaced JSON counts as content too ("content": "…", as Python\'s json.dumps writes it); a non-string value does not', () => {
    const tap = createUsageTap('openai')
    tap.observe({ data: '{"choices": [{"index": 0, "delta": {"content": "The "}, "finish_reason": null}]}' })
    tap.observe({ data: '{"choices": [{"delta": {"content" :\t"a\\"b", "reasoning_content": null}}]}' })
    tap.observe({
      data:
        '{"choices": [{"delta": {"content": null, "tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]}',
    })
    tap.observe({ data: '{"choices": [{"delta": {"content": null}}]}' })
    assert.equal(tap.contentEvents, 3)
    assert.equal(tap.outputChars, 4 + 4 + 2)
    const a = createUsageTap('anthropic')
    a.observe({
      event: 'content_block_delta',
      data: '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}}',
    })
    assert.equal(a.contentEvents, 1)
    assert.equal(a.outputChars, 2)
  })
  it('Gemini function-call arguments (an object) and Responses deltas count as content, spaced or not', () => {
    const g = createUsageTap('gemini')
    g.observe({
      data:
        '{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {"city": "Paris", "n": {"x": "}"}}}}]}}]}',
    })
    assert.equal(g.contentEvents, 1)
    assert.equal(g.outputChars, '{"city": "Paris", "n": {"x": "}"}}'.length)
    const r = createUsageTap('responses')
    r.observe({ event: 'response.output_text.delta', data: '{"type": "response.output_text.delta", "delta": "Hi"}' })
    assert.equal(r.contentEvents, 1)
    assert.equal(r.outputChars, 2)
  })
  it('Anthropic error events mark the tap errored', () => {
    const tap = createUsageTap('anthropic')
    tap.observe(aev('error', { error: { type: 'overloaded_error', message: 'x' } }))
    assert.equal(tap.errored, true)
    assert.equal(tap.terminal, false)
  })
})
