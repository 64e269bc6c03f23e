import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { unsupportedFeature } from './unsupported.ts'

describe('unsupportedFeature', () => {
  it('refuses n > 1 and input_audio only on the OpenAI → Anthropic path', () => {
    const n3 = { model: 'm', n: 3, messages: [] }
    assert.equal(unsupportedFeature('openai', 'anthropic', n3)?.param, 'n')
    assert.equal(unsupportedFeature('openai', 'openai', n3), undefined)
    assert.equal(unsupportedFeature('openai', 'anthropic', { model: 'm', n: 1, messages: [] }), undefined)
    const audio = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }],
    }
    assert.equal(unsupportedFeature('openai', 'anthropic', audio)?.param, 'messages')
    assert.equal(unsupportedFeature('anthropic', 'openai', audio), undefined)
  })
})
