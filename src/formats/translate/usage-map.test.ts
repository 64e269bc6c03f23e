import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { openaiUsageBody, usageOfAnthropic, usageOfOpenAI } from './usage-map.ts'
import { translationFor } from '../translation.ts'

describe('usage map', () => {
  it('subtracts cached tokens from OpenAI prompt tokens, reads DeepSeek hits', () => {
    assert.deepEqual(
      usageOfOpenAI({ prompt_tokens: 2242, completion_tokens: 96, prompt_tokens_details: { cached_tokens: 1830 } }),
      { inputTokens: 412, outputTokens: 96, cacheReadTokens: 1830, cacheCreationTokens: 0 },
    )
    assert.equal(usageOfOpenAI({ prompt_tokens: 10, prompt_cache_hit_tokens: 4 })?.inputTokens, 6)
    assert.equal(usageOfOpenAI(null), undefined)
  })
  it("an OpenAI-compatible answer with Anthropic usage names is read with their meaning (ccr-rust's mock backend answers so)", () => {
    assert.deepEqual(
      usageOfOpenAI({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 3, cache_creation_input_tokens: 2 }),
      { inputTokens: 10, outputTokens: 5, cacheReadTokens: 3, cacheCreationTokens: 2 },
    )
    // The OpenAI names win when both are there.
    assert.deepEqual(usageOfOpenAI({ prompt_tokens: 12, completion_tokens: 4, input_tokens: 99, output_tokens: 99 }), {
      inputTokens: 12,
      outputTokens: 4,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
    })
  })
  it('law: Anthropic → OpenAI → Anthropic usage round-trips', () => {
    fc.assert(fc.property(fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), (i, o, r, c) => {
      const u = { inputTokens: i, outputTokens: o, cacheReadTokens: r, cacheCreationTokens: c }
      assert.deepEqual(usageOfOpenAI(openaiUsageBody(u)), u)
      assert.deepEqual(
        usageOfAnthropic({
          input_tokens: i,
          output_tokens: o,
          cache_read_input_tokens: r,
          cache_creation_input_tokens: c,
        }),
        u,
      )
    }))
  })
})

describe('reasoning tokens from an OpenAI Chat upstream', () => {
  const ctx = {
    model: 'm',
    upstreamModel: 'm',
    requestId: 'r1',
    estimatedInputTokens: 3,
    includeUsage: true,
    created: 1,
  }
  const usage = {
    prompt_tokens: 10,
    completion_tokens: 40,
    total_tokens: 50,
    completion_tokens_details: { reasoning_tokens: 25 },
  }
  const chunk = (body: object) => ({
    data: JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', ...body }),
  })
  const upstream = [
    chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }] }),
    chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    chunk({ choices: [], usage }),
    { data: '[DONE]' },
  ]
  const json = {
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage,
  }
  const streamed = (client: 'anthropic' | 'responses' | 'gemini') => {
    const tr = translationFor(client, 'openai')!.stream(ctx)
    // deno-lint-ignore no-explicit-any -- a test reads deep fields of parsed wire JSON
    return [...upstream.flatMap((e) => tr.push(e)), ...tr.end()].map((e) => JSON.parse(e.data) as Record<string, any>)
  }

  it('are read into the usage record (Usage.reasoningTokens) and kept out when zero', () => {
    assert.equal(usageOfOpenAI(usage)?.reasoningTokens, 25)
    assert.equal(
      'reasoningTokens' in usageOfOpenAI({ ...usage, completion_tokens_details: { reasoning_tokens: 0 } })!,
      false,
    )
  })

  it('reach a Responses client as output_tokens_details.reasoning_tokens and a Gemini client as thoughtsTokenCount, streamed and as JSON', () => {
    assert.equal(streamed('responses').at(-1)?.response.usage.output_tokens_details.reasoning_tokens, 25)
    assert.equal(
      // deno-lint-ignore no-explicit-any -- a test reads deep fields of parsed wire JSON
      (translationFor('responses', 'openai')!.response(json, ctx) as any).usage.output_tokens_details.reasoning_tokens,
      25,
    )
    const g = streamed('gemini').at(-1)?.usageMetadata
    assert.deepEqual([g.thoughtsTokenCount, g.candidatesTokenCount, g.totalTokenCount], [25, 15, 50])
    // deno-lint-ignore no-explicit-any -- a test reads deep fields of parsed wire JSON
    assert.equal((translationFor('gemini', 'openai')!.response(json, ctx) as any).usageMetadata.thoughtsTokenCount, 25)
  })

  it("an Anthropic client gets Anthropic usage (no reasoning field); the count stays in Switchyard's records", () => {
    const delta = streamed('anthropic').find((d) => d.type === 'message_delta')
    assert.equal(delta?.usage.output_tokens, 40)
    assert.equal(delta?.usage.output_tokens_details, undefined)
    assert.equal(
      // deno-lint-ignore no-explicit-any -- a test reads deep fields of parsed wire JSON
      (translationFor('anthropic', 'openai')!.response(json, ctx) as any).usage.output_tokens_details,
      undefined,
    )
  })
})
