import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { foldSystemMessages } from './system-messages.ts'
import { translationFor } from '../translation.ts'
import type { JsonObject } from '../types.ts'
import { testCtx } from '../../../test/arbitraries/formats.ts'

/** What Claude Code 2.1 sends: its environment as a system message after the user's turn. */
const claudeCode: JsonObject = {
  model: 'x',
  max_tokens: 64,
  system: [{ type: 'text', text: 'You are Claude Code.' }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'what does main.ts do?' }] },
    { role: 'system', content: [{ type: 'text', text: '# Environment\nWorking directory: /repo' }] },
  ],
}

describe('system messages in an Anthropic conversation', () => {
  it('are folded into the system prompt, after its own text; a body without any is the same object', () => {
    assert.deepEqual(foldSystemMessages(claudeCode), {
      ...claudeCode,
      system: [{ type: 'text', text: 'You are Claude Code.' }, {
        type: 'text',
        text: '# Environment\nWorking directory: /repo',
      }],
      messages: [(claudeCode.messages as JsonObject[])[0]],
    })
    const plain = { system: 'be brief', messages: [{ role: 'user', content: 'hi' }] }
    assert.equal(foldSystemMessages(plain), plain)
    assert.deepEqual(
      foldSystemMessages({
        system: 'be brief',
        messages: [{ role: 'system', content: 'env' }, { role: 'user', content: 'hi' }],
      }),
      {
        system: [{ type: 'text', text: 'be brief' }, { type: 'text', text: 'env' }],
        messages: [{ role: 'user', content: 'hi' }],
      },
    )
  })

  it("the user's question stays the last message for every other format; the environment goes with the system prompt", () => {
    const openai = translationFor('anthropic', 'openai')!.request(claudeCode, testCtx())
    const msgs = openai.messages as JsonObject[]
    assert.equal(msgs[0]!.role, 'system')
    assert.match(JSON.stringify(msgs[0]!.content), /You are Claude Code\.[\s\S]*# Environment/)
    assert.deepEqual(msgs.map((m) => m.role), ['system', 'user'])
    assert.match(JSON.stringify(msgs.at(-1)), /what does main\.ts do/)

    const gemini = translationFor('anthropic', 'gemini')!.request(claudeCode, testCtx())
    assert.match(JSON.stringify(gemini.systemInstruction), /# Environment/)
    assert.doesNotMatch(JSON.stringify(gemini.contents), /# Environment/)

    const responses = translationFor('anthropic', 'responses')!.request(claudeCode, testCtx())
    assert.match(String(responses.instructions), /# Environment/)
    assert.doesNotMatch(JSON.stringify(responses.input), /# Environment/)
  })

  it('law: folding keeps every non-system message in order and every system text, and leaves none behind', () => {
    const message = fc.record({
      role: fc.constantFrom('user', 'assistant', 'system'),
      content: fc.string({ maxLength: 8 }),
    })
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), (messages) => {
        const out = foldSystemMessages({ system: 'top', messages })
        const kept = out.messages as JsonObject[]
        assert.deepEqual(kept, messages.filter((m) => m.role !== 'system'))
        const texts = messages.filter((m) => m.role === 'system' && m.content !== '').map((m) => m.content)
        if (messages.some((m) => m.role === 'system')) {
          assert.deepEqual((out.system as JsonObject[]).map((b) => b.text), ['top', ...texts])
        }
      }),
    )
  })
})
