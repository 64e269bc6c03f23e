import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { openaiUsageBody, usageOfAnthropic, usageOfOpenAI } from './usage-map.ts'

describe('usage map', () => {
  it('subtracts cached tokens from OpenAI prompt tokens, reads DeepSeek hits', () => {
    assert.deepEqual(usageOfOpenAI({ prompt_tokens: 2242, completion_tokens: 96, prompt_tokens_details: { cached_tokens: 1830 } }),
      { inputTokens: 412, outputTokens: 96, cacheReadTokens: 1830, cacheCreationTokens: 0 })
    assert.equal(usageOfOpenAI({ prompt_tokens: 10, prompt_cache_hit_tokens: 4 })?.inputTokens, 6)
    assert.equal(usageOfOpenAI(null), undefined)
  })
  it('an OpenAI-compatible answer with Anthropic usage names is read with their meaning (ccr-rust\'s mock backend answers so)', () => {
    assert.deepEqual(usageOfOpenAI({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 3, cache_creation_input_tokens: 2 }),
      { inputTokens: 10, outputTokens: 5, cacheReadTokens: 3, cacheCreationTokens: 2 })
    // The OpenAI names win when both are there.
    assert.deepEqual(usageOfOpenAI({ prompt_tokens: 12, completion_tokens: 4, input_tokens: 99, output_tokens: 99 }),
      { inputTokens: 12, outputTokens: 4, cacheReadTokens: 0, cacheCreationTokens: 0 })
  })
  it('law: Anthropic → OpenAI → Anthropic usage round-trips', () => {
    fc.assert(fc.property(fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), (i, o, r, c) => {
      const u = { inputTokens: i, outputTokens: o, cacheReadTokens: r, cacheCreationTokens: c }
      assert.deepEqual(usageOfOpenAI(openaiUsageBody(u)), u)
      assert.deepEqual(usageOfAnthropic({ input_tokens: i, output_tokens: o, cache_read_input_tokens: r, cache_creation_input_tokens: c }), u)
    }))
  })
})
