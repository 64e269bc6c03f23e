import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicStopOf, openaiFinishOf } from './finish-reasons.ts'

describe('finish reasons', () => {
  it('maps OpenAI finish reasons, tool calls winning over stop', () => {
    assert.equal(anthropicStopOf('stop', false), 'end_turn')
    assert.equal(anthropicStopOf('stop', true), 'tool_use')
    assert.equal(anthropicStopOf('length', true), 'max_tokens')
    assert.equal(anthropicStopOf('content_filter', false), 'refusal')
    assert.equal(anthropicStopOf(null, false), 'end_turn')
    assert.equal(anthropicStopOf('eos', false), 'end_turn')
  })
  it('maps Anthropic stop reasons', () => {
    assert.equal(openaiFinishOf('tool_use'), 'tool_calls')
    assert.equal(openaiFinishOf('model_context_window_exceeded'), 'length')
    assert.equal(openaiFinishOf('pause_turn'), 'stop')
    assert.equal(openaiFinishOf('refusal'), 'content_filter')
  })
})
