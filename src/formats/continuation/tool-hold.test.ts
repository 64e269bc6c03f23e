import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { SseEvent } from '../types.ts'
import { ToolHold } from './tool-hold.ts'

const ev = (type: string, body: object): SseEvent => ({ event: type, data: JSON.stringify({ type, ...body }) })
const chunk = (delta: object, finish: string | null = null): SseEvent => ({
  data: JSON.stringify({ id: 'c1', choices: [{ index: 0, delta, finish_reason: finish }] }),
})

describe('ToolHold', () => {
  it('Anthropic: a tool_use block comes out whole at its stop; text passes at once', () => {
    const h = new ToolHold('anthropic')
    const text = ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hi' } })
    assert.deepEqual(h.push([text]), [text])
    const start = ev('content_block_start', {
      index: 1,
      content_block: { type: 'tool_use', id: 't', name: 'f', input: {} },
    })
    const delta = ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } })
    const stop = ev('content_block_stop', { index: 1 })
    assert.deepEqual(h.push([start, delta]), [])
    assert.equal(h.holding, true)
    assert.deepEqual(h.push([stop, ev('message_stop', {})]), [start, delta, stop, ev('message_stop', {})])
    assert.equal(h.holding, false)
  })

  it('Responses: a function_call item comes out whole at its output_item.done; Gemini chunks pass as they come', () => {
    const h = new ToolHold('responses')
    const text = ev('response.output_text.delta', { output_index: 0, item_id: 'msg_1', delta: 'hi' })
    assert.deepEqual(h.push([text]), [text])
    const added = ev('response.output_item.added', {
      output_index: 1,
      item: { id: 'fc_1', type: 'function_call', call_id: 'c', name: 'f', arguments: '' },
    })
    const delta = ev('response.function_call_arguments.delta', { output_index: 1, item_id: 'fc_1', delta: '{"a":1}' })
    const done = ev('response.output_item.done', {
      output_index: 1,
      item: { id: 'fc_1', type: 'function_call', arguments: '{"a":1}' },
    })
    assert.deepEqual(h.push([added, delta]), [])
    assert.equal(h.holding, true)
    h.drop()
    assert.deepEqual(h.push([added, delta, done]), [added, delta, done])
    const g = new ToolHold('gemini')
    const call = {
      data: JSON.stringify({
        candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] } }],
      }),
    }
    assert.deepEqual(g.push([call]), [call])
  })

  it('OpenAI: tool_calls chunks come out with the first chunk that carries none (the finish_reason)', () => {
    const h = new ToolHold('openai')
    const a = chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"a":' } }] })
    const b = chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] })
    const fin = chunk({}, 'tool_calls')
    assert.deepEqual(h.push([a, b]), [])
    assert.deepEqual(h.push([fin, { data: '[DONE]' }]), [a, b, fin, { data: '[DONE]' }])
  })

  it('a cut drops what is held; end() lets it out', () => {
    const h = new ToolHold('openai')
    const a = chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{' } }] })
    h.push([a])
    h.drop()
    assert.deepEqual(h.end(), [])
    h.push([a])
    assert.deepEqual(h.end(), [a])
  })

  it('a call larger than the bound streams through once it passes it (memory stays bounded)', () => {
    const h = new ToolHold('anthropic', 200)
    const start = ev('content_block_start', {
      index: 0,
      content_block: { type: 'tool_use', id: 't', name: 'f', input: {} },
    })
    const big = ev('content_block_delta', {
      index: 0,
      delta: { type: 'input_json_delta', partial_json: 'x'.repeat(80) },
    })
    assert.deepEqual(h.push([start]), [])
    assert.deepEqual(h.push([big]), [start, big])
    assert.deepEqual(h.push([big]), [big], 'the rest of that call passes through')
    const stop = ev('content_block_stop', { index: 0 })
    assert.deepEqual(h.push([stop]), [stop])
    const next = ev('content_block_start', {
      index: 1,
      content_block: { type: 'tool_use', id: 't2', name: 'f', input: {} },
    })
    assert.deepEqual(h.push([next]), [], 'the next call is held again')
  })
})
