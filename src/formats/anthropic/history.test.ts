import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { stripSyntheticThinking } from './history.ts'
import { syntheticSignature } from '../translate/ids.ts'

const ours = { type: 'thinking', thinking: 'from an OpenAI upstream', signature: syntheticSignature('x') }
const genuine = { type: 'thinking', thinking: 'real', signature: 'EuYBCkQYAiJA' }
const tool = { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }

describe('stripSyntheticThinking', () => {
  it('keeps bodies without synthetic signatures as they are (same object)', () => {
    const body = {
      model: 'm',
      messages: [{ role: 'assistant', content: [genuine, tool] }],
      thinking: { type: 'enabled', budget_tokens: 2000 },
    }
    assert.equal(stripSyntheticThinking(body), body)
  })
  it('removes synthetic thinking and disables thinking when the tool turn lost its thinking block (cache miss)', () => {
    const body = {
      model: 'm',
      thinking: { type: 'enabled', budget_tokens: 2000 },
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [ours, tool] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
      ],
    }
    const out = stripSyntheticThinking(body)
    assert.deepEqual((out.messages as { content: unknown }[])[1]!.content, [tool])
    assert.equal(out.thinking, undefined)
    assert.equal(body.thinking.type, 'enabled')
  })
  it('keeps thinking on when the last tool turn still starts with a genuine block', () => {
    const body = {
      model: 'm',
      thinking: { type: 'enabled', budget_tokens: 2000 },
      messages: [
        { role: 'assistant', content: [ours, { type: 'text', text: 'a' }] },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: [genuine, tool] },
      ],
    }
    const out = stripSyntheticThinking(body)
    assert.deepEqual(out.thinking, { type: 'enabled', budget_tokens: 2000 })
    assert.deepEqual((out.messages as { content: unknown }[])[0]!.content, [{ type: 'text', text: 'a' }])
  })
})
