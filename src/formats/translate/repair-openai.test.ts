import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sameFormatRepair } from '../translation.ts'
import { accumulateOpenAI, openaiChunks, runStream, testCtx } from '../../../test/arbitraries/formats.ts'

const ctx = testCtx({ repairToolArgs: true })

describe('sameFormatRepair (enhancetool on OpenAI → OpenAI)', () => {
  it('is only active for OpenAI with repairToolArgs', () => {
    assert.equal(sameFormatRepair('openai', testCtx()), undefined)
    assert.equal(sameFormatRepair('anthropic', ctx), undefined)
  })
  it('repairs JSON tool-call arguments without touching the rest', () => {
    const body = {
      id: 'x',
      choices: [{
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1' } }],
        },
        finish_reason: 'tool_calls',
      }],
    }
    const out = sameFormatRepair('openai', ctx)!.response(body, ctx)
    assert.equal(JSON.stringify(out).includes('"arguments":"{\\"a\\":1}"'), true)
    assert.equal(body.choices[0]!.message.tool_calls[0]!.function.arguments, '{"a":1')
  })
  it('holds argument fragments and sends one repaired fragment per call before the finish chunk', () => {
    const events = openaiChunks([
      { role: 'assistant', content: '' },
      { tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{"a":' } }] },
      { tool_calls: [{ index: 1, id: 'c1', type: 'function', function: { name: 'g', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '1' } }] },
    ], { finish: 'tool_calls', usage: { prompt_tokens: 1, completion_tokens: 1 } })
    const t = sameFormatRepair('openai', ctx)!.stream(ctx)
    const out = runStream(t, events)
    const r = accumulateOpenAI(out)
    assert.deepEqual(r.toolCalls, [{ id: 'c0', name: 'f', arguments: '{"a":1}' }, {
      id: 'c1',
      name: 'g',
      arguments: '{}',
    }])
    assert.equal(r.finish, 'tool_calls')
    assert.deepEqual(r.usage, { prompt_tokens: 1, completion_tokens: 1 })
    assert.equal(t.done && !t.errored, true)
  })
  it('a stream cut before finish ends with an error', () => {
    const t = sameFormatRepair('openai', ctx)!.stream(ctx)
    const r = accumulateOpenAI(runStream(t, openaiChunks([{ role: 'assistant', content: 'x' }], { done: false })))
    assert.equal(r.error?.type, 'api_error')
    assert.equal(t.errored, true)
  })
})
