import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { testCtx } from '../../../test/arbitraries/formats.ts'
import { translationFor } from '../translation.ts'
import type { JsonObject, SseEvent } from '../types.ts'
import { arr, obj } from '../translate/json.ts'
import { COMPACTION_INSTRUCTION, compactionItem, expandCompactions, summaryOf } from './compaction.ts'

const TOOL = { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: {} } }

const compactRequest = (over: JsonObject = {}): JsonObject => ({
  model: 'gpt-5.5',
  input: [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'fix the build' }] },
    { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{"cmd":"make"}' },
    { type: 'function_call_output', call_id: 'c1', output: 'error: x' },
    { type: 'compaction_trigger' },
  ],
  tools: [TOOL],
  ...over,
})

/** An Anthropic upstream's answer to the compaction request: thinking, the summary in two pieces, a stray tool call. */
const upstreamEvents = (parts: readonly string[]): SseEvent[] => {
  const ev = (type: string, d: JsonObject): SseEvent => ({ event: type, data: JSON.stringify({ type, ...d }) })
  return [
    ev('message_start', { message: { id: 'm', usage: { input_tokens: 900, output_tokens: 0 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
    ev('content_block_stop', { index: 0 }),
    ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
    ...parts.map((text) => ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text } })),
    ev('content_block_stop', { index: 1 }),
    ev('content_block_start', {
      index: 2,
      content_block: { type: 'tool_use', id: 't', name: 'exec_command', input: {} },
    }),
    ev('content_block_stop', { index: 2 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 40 } }),
    ev('message_stop', {}),
  ]
}

describe('compaction items', () => {
  it("carry any summary text and give it back; other providers' items and other items give nothing", () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (summary) => {
      assert.equal(summaryOf(compactionItem('cmp_1', summary)), summary)
    }))
    assert.equal(summaryOf({ type: 'compaction', encrypted_content: 'gAAAAB-openai-opaque' }), undefined)
    assert.equal(summaryOf({ type: 'compaction', encrypted_content: 'switchyard:compaction:%%%' }), undefined)
    assert.equal(
      summaryOf({ type: 'message', encrypted_content: compactionItem('x', 's').encrypted_content }),
      undefined,
    )
  })

  it("expandCompactions turns Switchyard's into user messages holding the summary and leaves the rest", () => {
    const openai = { type: 'compaction', encrypted_content: 'gAAAAB-opaque' }
    const plain = [{ type: 'message', role: 'user', content: 'hi' }, openai]
    assert.equal(expandCompactions(plain), plain, 'nothing of ours: the same array')
    const out = expandCompactions([compactionItem('cmp_1', 'we fixed the build'), ...plain]) as JsonObject[]
    assert.equal(out.length, 3)
    assert.equal(out[0]!.role, 'user')
    assert.match(JSON.stringify(out[0]!.content), /we fixed the build/)
    assert.deepEqual(out.slice(1), plain)
  })
})

describe('compaction for an upstream of another format', () => {
  it('the trigger becomes the summary instruction, with tools kept but not callable', () => {
    const ctx = testCtx()
    const up = translationFor('responses', 'anthropic')!.request(compactRequest(), ctx)
    const messages = arr(up.messages).map(obj)
    const last = messages.at(-1)!
    assert.equal(last.role, 'user')
    assert.match(JSON.stringify(last.content), new RegExp(COMPACTION_INSTRUCTION.slice(0, 40)))
    assert.deepEqual(up.tool_choice, { type: 'none' })
    assert.equal(arr(up.tools).length, 1)
    const chat = translationFor('responses', 'openai')!.request(compactRequest(), testCtx())
    assert.equal(chat.tool_choice, 'none')
  })

  it('the answer is exactly one compaction item holding the text, streamed or not; reasoning and tool calls are left out', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 6 }), (parts) => {
      const t = translationFor('responses', 'anthropic')!
      const ctx = testCtx()
      t.request(compactRequest(), ctx)
      const s = t.stream(ctx)
      const out = [...upstreamEvents(parts).flatMap((e) => s.push(e)), ...s.end()].map((e) => obj(JSON.parse(e.data)))
      const done = out.filter((e) => e.type === 'response.output_item.done').map((e) => obj(e.item))
      assert.equal(done.length, 1)
      assert.equal(done[0]!.type, 'compaction')
      assert.equal(summaryOf(done[0]), parts.join('').trim())
      assert.ok(!out.some((e) => String(e.type).includes('delta')), 'no deltas are shown')
      const completed = obj(out.at(-1)!.response)
      assert.equal(out.at(-1)!.type, 'response.completed')
      assert.deepEqual(completed.output, done)
      assert.equal(obj(completed.usage).output_tokens, 40)
    }))
    const t = translationFor('responses', 'anthropic')!
    const ctx = testCtx()
    t.request(compactRequest(), ctx)
    const json = t.response({
      id: 'm',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'the summary' }, { type: 'tool_use', id: 't', name: 'exec_command', input: {} }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 10, output_tokens: 3 },
    }, ctx)
    assert.deepEqual(arr(json.output).map((i) => obj(i).type), ['compaction'])
    assert.equal(summaryOf(arr(json.output)[0]), 'the summary')
  })

  it('a request without the trigger answers as before', () => {
    const t = translationFor('responses', 'anthropic')!
    const ctx = testCtx()
    const body = compactRequest()
    t.request({ ...body, input: arr(body.input).slice(0, -1) }, ctx)
    const s = t.stream(ctx)
    const types = [...upstreamEvents(['text']).flatMap((e) => s.push(e)), ...s.end()]
      .map((e) => obj(JSON.parse(e.data)))
      .filter((e) => e.type === 'response.output_item.done')
      .map((e) => obj(e.item).type)
    assert.deepEqual(types, ['reasoning', 'message', 'function_call'])
  })
})
