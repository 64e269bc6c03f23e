import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createThinkingCache } from './thinking-cache.ts'
import { translationFor } from '../translation.ts'
import { aev, runStream, testCtx } from '../../../test/arbitraries/formats.ts'
import type { JsonObject } from '../types.ts'

const upstream = [
  aev('message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'c',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 1 },
    },
  }),
  aev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  aev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Need ' } }),
  aev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'weather.' } }),
  aev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EuYB' } }),
  aev('content_block_stop', { index: 0 }),
  aev('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } }),
  aev('content_block_stop', { index: 1 }),
  aev('content_block_start', {
    index: 2,
    content_block: { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: {} },
  }),
  aev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":"Paris"}' } }),
  aev('content_block_stop', { index: 2 }),
  aev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }),
  aev('message_stop'),
]

/** The OpenAI client's next turn: it replays the tool call without any thinking. */
const nextTurn: JsonObject = {
  model: 'm',
  reasoning_effort: 'medium',
  messages: [
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{
        id: 'toolu_9',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      }],
    },
    { role: 'tool', tool_call_id: 'toolu_9', content: '18°C' },
  ],
}

describe('thinking cache (Anthropic thinking + tools → OpenAI client → back to Anthropic)', () => {
  it('hit: the remembered signed blocks lead the replayed turn and thinking stays on', () => {
    const cache = createThinkingCache(10)
    runStream(translationFor('openai', 'anthropic')!.stream(testCtx({ onThinking: cache.remember })), upstream)
    const req = translationFor('openai', 'anthropic')!.request(nextTurn, testCtx({ thinkingLookup: cache.lookup }))
    const assistant = (req.messages as JsonObject[])[1]!.content as JsonObject[]
    assert.deepEqual(assistant.slice(0, 2), [{ type: 'thinking', thinking: 'Need weather.', signature: 'EuYB' }, {
      type: 'redacted_thinking',
      data: 'opaque',
    }])
    assert.equal(assistant[2]!.type, 'tool_use')
    assert.deepEqual(req.thinking, { type: 'enabled', budget_tokens: 4096 })
  })
  it('miss: no blocks to replay, so thinking is switched off', () => {
    const req = translationFor('openai', 'anthropic')!.request(
      nextTurn,
      testCtx({ thinkingLookup: createThinkingCache(10).lookup }),
    )
    assert.equal(req.thinking, undefined)
    assert.equal(((req.messages as JsonObject[])[1]!.content as JsonObject[])[0]!.type, 'tool_use')
  })
  it('JSON responses are remembered too', () => {
    const cache = createThinkingCache(10)
    const body = {
      content: [{ type: 'thinking', thinking: 't', signature: 's' }, {
        type: 'tool_use',
        id: 'toolu_j',
        name: 'f',
        input: {},
      }],
      stop_reason: 'tool_use',
    }
    translationFor('openai', 'anthropic')!.response(body, testCtx({ onThinking: cache.remember }))
    assert.deepEqual(cache.lookup('toolu_j'), [{ type: 'thinking', thinking: 't', signature: 's' }])
  })
  it('is bounded: the oldest entry goes first', () => {
    const cache = createThinkingCache(2)
    for (const id of ['a', 'b', 'c']) cache.remember(id, [{ type: 'thinking', thinking: id }])
    assert.equal(cache.size(), 2)
    assert.equal(cache.lookup('a'), undefined)
    assert.ok(cache.lookup('c'))
  })
})
