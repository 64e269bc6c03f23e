import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { estimatePromptTokens, probeBody, PROMPTS } from './prompts.ts'

describe('prompts', () => {
  it('sizes grow from minimal to long in both input and requested output', () => {
    const order = [PROMPTS.minimal, PROMPTS.short, PROMPTS.medium, PROMPTS.long]
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1]!, order[i]!]
      assert.ok(estimatePromptTokens(b) >= estimatePromptTokens(a), `${b.size} input >= ${a.size}`)
      assert.ok(b.maxTokens > a.maxTokens, `${b.size} output > ${a.size}`)
    }
    assert.ok(estimatePromptTokens(PROMPTS.long) > 1000, 'long prompt is a real long context')
  })
  it('is deterministic: the same body every time', () => {
    const a = JSON.stringify(probeBody(PROMPTS.long, { model: 'p,m', stream: true, cap: 100 }))
    const b = JSON.stringify(probeBody(PROMPTS.long, { model: 'p,m', stream: true, cap: 100 }))
    assert.equal(a, b)
  })
  it('law: max_tokens never exceeds the cap nor the prompt own length, and is at least 1', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(PROMPTS)), fc.integer({ min: -5, max: 5000 }), (spec, cap) => {
        const body = probeBody(spec, { model: 'p,m', stream: false, cap })
        const mt = body.max_tokens as number
        assert.ok(mt >= 1 && mt <= Math.max(1, cap) && mt <= spec.maxTokens)
      }),
    )
  })
  it('builds a valid Anthropic Messages body', () => {
    const body = probeBody(PROMPTS.short, { model: 'prov,model-x', stream: true, cap: 1000 })
    assert.equal(body.model, 'prov,model-x')
    assert.equal(body.stream, true)
    assert.equal(typeof body.system, 'string')
    assert.deepEqual(body.messages, [{ role: 'user', content: PROMPTS.short.user }])
  })
})
