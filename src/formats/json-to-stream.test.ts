import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { jsonAsStream } from './json-to-stream.ts'

const serve = (text: string) =>
  (async () =>
    new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } })) as unknown as typeof fetch

const message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'm',
  content: [
    { type: 'thinking', thinking: 'let me see', signature: 'sig_abc' },
    { type: 'text', text: 'Checking.' },
    { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'paris', n: 2 } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 34, cache_read_input_tokens: 5, cache_creation_input_tokens: 0 },
}

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{
    index: 0,
    finish_reason: 'tool_calls',
    message: {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"paris"}' } }],
    },
  }],
  usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
}

describe('jsonAsStream', () => {
  it('law: the Anthropic SDK accumulates the replayed stream into the same message (content, stop reason, usage)', async () => {
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://127.0.0.1:9',
      fetch: serve(jsonAsStream('anthropic', message, { includeUsage: false })),
      maxRetries: 0,
    })
    const got = await client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage()
    assert.deepEqual(got.content, message.content)
    assert.equal(got.stop_reason, 'tool_use')
    assert.equal(got.usage.output_tokens, 34)
    assert.equal(got.usage.input_tokens, 12)
  })

  it('law: the OpenAI SDK accumulates the replayed stream into the same completion, with the usage chunk only when asked', async () => {
    const text = jsonAsStream('openai', completion, { includeUsage: true })
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', fetch: serve(text), maxRetries: 0 })
    const got = await client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .finalChatCompletion()
    assert.equal(got.choices[0]?.message.content, 'Checking.')
    assert.deepEqual(got.choices[0]?.message.tool_calls?.map((c) => (c as { function: unknown }).function), [{
      name: 'lookup',
      arguments: '{"q":"paris"}',
    }])
    assert.equal(got.choices[0]?.finish_reason, 'tool_calls')
    assert.match(text, /"usage":\{"prompt_tokens":12/)
    assert.doesNotMatch(jsonAsStream('openai', completion, { includeUsage: false }), /"usage"/)
    assert.ok(text.endsWith('data: [DONE]\n\n'))
  })
})
