import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { OpenAIChatRequestSchema } from './schema.ts'

describe('OpenAI request schema', () => {
  it('accept OpenAI requests with null content, tool messages, string stop, nulls', () => {
    const r = OpenAIChatRequestSchema.safeParse({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      stop: 'END',
      temperature: null,
      messages: [{ role: 'user', content: 'hi' }, {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
      }, { role: 'tool', tool_call_id: 'c', content: 'ok' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'auto',
      seed: 3,
    })
    assert.equal(r.success, true)
    assert.equal(r.data?.seed, 3)
    assert.equal(OpenAIChatRequestSchema.safeParse({ model: 'gpt-4o' }).success, false)
  })
})
