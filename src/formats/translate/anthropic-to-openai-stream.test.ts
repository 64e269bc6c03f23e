import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { translationFor } from '../translation.ts'
import { accumulateOpenAI, aev, cutsArb, runStream, splitAt, testCtx } from '../../../test/arbitraries/formats.ts'
import { createSseDecoder } from '../sse/decode.ts'
import { encodeSseAll } from '../sse/encode.ts'
import type { JsonObject, SseEvent, TranslateContext } from '../types.ts'

const toO = (events: readonly SseEvent[], ctx: TranslateContext = testCtx()) =>
  runStream(translationFor('openai', 'anthropic')!.stream(ctx), events)

const anthropicStream: SseEvent[] = [
  aev('message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 412, cache_creation_input_tokens: 0, cache_read_input_tokens: 1830, output_tokens: 1 },
    },
  }),
  aev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  aev('ping'),
  aev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Need forecast.' } }),
  aev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EuYB' } }),
  aev('content_block_stop', { index: 0 }),
  aev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  aev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Let me check.' } }),
  aev('content_block_stop', { index: 1 }),
  aev('content_block_start', {
    index: 2,
    content_block: { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: {} },
  }),
  aev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
  aev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Paris", "da' } }),
  aev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: 'y": "tomorrow"}' } }),
  aev('content_block_stop', { index: 2 }),
  aev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 96 } }),
  aev('message_stop'),
]

describe('Anthropic stream → OpenAI chunks', () => {
  it('maps thinking, text, tool calls (tool index counts tools only), finish and usage', () => {
    const out = toO(anthropicStream, testCtx({ includeUsage: true }))
    const r = accumulateOpenAI(out)
    assert.equal(r.role, 'assistant')
    assert.equal(r.reasoning, 'Need forecast.')
    assert.equal(r.content, 'Let me check.')
    assert.deepEqual(r.toolCalls, [{
      id: 'toolu_01B',
      name: 'get_weather',
      arguments: '{"city": "Paris", "day": "tomorrow"}',
    }])
    assert.equal(r.finish, 'tool_calls')
    assert.deepEqual(r.usage, {
      prompt_tokens: 2242,
      completion_tokens: 96,
      total_tokens: 2338,
      prompt_tokens_details: { cached_tokens: 1830, cache_write_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    })
    assert.equal(out.at(-1)!.data, '[DONE]')
    assert.ok(out.slice(0, -2).every((e) => (JSON.parse(e.data) as JsonObject).usage === null))
  })
  it('without include_usage sends no usage chunk', () => {
    const r = accumulateOpenAI(toO(anthropicStream))
    assert.equal(r.usage, undefined)
    assert.equal(r.terminals, 1)
  })
  it('event: error mid-stream becomes an error chunk then [DONE]; a cut stream errors', () => {
    const out = toO([
      ...anthropicStream.slice(0, 8),
      aev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
    ])
    const r = accumulateOpenAI(out)
    assert.equal(r.error?.type, 'overloaded_error')
    assert.equal(r.terminals, 1)
    const cut = accumulateOpenAI(toO(anthropicStream.slice(0, 8)))
    assert.equal(cut.error?.message, 'Upstream stream ended before it was complete')
    assert.equal(cut.finish, null)
  })
  it('repairToolArgs buffers a call and sends repaired arguments once', () => {
    const broken = anthropicStream.map((e) =>
      e.data.includes('tomorrow')
        ? aev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: 'y": "tomorrow"' } })
        : e
    )
    const r = accumulateOpenAI(toO(broken, testCtx({ repairToolArgs: true })))
    assert.deepEqual(JSON.parse(r.toolCalls[0]!.arguments), { city: 'Paris', day: 'tomorrow' })
  })
})

/** A random Anthropic answer: optional thinking, text pieces, tool calls with fragmented input, usage. */
const anthropicAnswerArb = fc.record({
  thinking: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  text: fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }),
  tools: fc.array(
    fc.record({
      name: fc.constantFrom('f', 'g'),
      input: fc.dictionary(fc.constantFrom('a', 'b'), fc.string({ maxLength: 4 })),
    }),
    { maxLength: 3 },
  ),
  usage: fc.record({ input_tokens: fc.nat(5000), output_tokens: fc.nat(5000), cache_read_input_tokens: fc.nat(5000) }),
  stop: fc.constantFrom('end_turn', 'max_tokens', 'tool_use', 'stop_sequence'),
})
type AAnswer = typeof anthropicAnswerArb extends fc.Arbitrary<infer T> ? T : never

function anthropicEventsOf(a: AAnswer, cut: number): SseEvent[] {
  const evs: SseEvent[] = [
    aev('message_start', {
      message: {
        id: 'msg_p',
        type: 'message',
        role: 'assistant',
        model: 'c',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...a.usage, output_tokens: 1 },
      },
    }),
  ]
  let i = 0
  const block = (start: JsonObject, deltas: JsonObject[]) => {
    evs.push(
      aev('content_block_start', { index: i, content_block: start }),
      ...deltas.map((delta) => aev('content_block_delta', { index: i, delta })),
      aev('content_block_stop', { index: i }),
    )
    i++
  }
  if (a.thinking.length) {
    block({ type: 'thinking', thinking: '', signature: '' }, [
      ...a.thinking.map((t) => ({ type: 'thinking_delta', thinking: t })),
      { type: 'signature_delta', signature: 's' },
    ])
  }
  if (a.text.length) block({ type: 'text', text: '' }, a.text.map((t) => ({ type: 'text_delta', text: t })))
  a.tools.forEach((t, n) => {
    const json = JSON.stringify(t.input)
    block(
      { type: 'tool_use', id: `toolu_${n}`, name: t.name, input: {} },
      [json.slice(0, cut), json.slice(cut)].map((p) => ({ type: 'input_json_delta', partial_json: p })),
    )
  })
  evs.push(
    aev('message_delta', {
      delta: { stop_reason: a.stop, stop_sequence: null },
      usage: { output_tokens: a.usage.output_tokens },
    }),
    aev('message_stop'),
  )
  return evs
}

function anthropicJsonOf(a: AAnswer): JsonObject {
  const content: JsonObject[] = []
  if (a.thinking.length) content.push({ type: 'thinking', thinking: a.thinking.join(''), signature: 's' })
  if (a.text.length) content.push({ type: 'text', text: a.text.join('') })
  a.tools.forEach((t, n) => content.push({ type: 'tool_use', id: `toolu_${n}`, name: t.name, input: t.input }))
  return { id: 'msg_p', type: 'message', role: 'assistant', content, stop_reason: a.stop, usage: a.usage }
}

describe('stream reducer laws (Anthropic upstream → OpenAI client)', () => {
  it('law: any byte chunking of the upstream SSE gives the same client chunks', () => {
    fc.assert(fc.property(anthropicAnswerArb, fc.nat(6), cutsArb(2000), (a, cut, cuts) => {
      const events = anthropicEventsOf(a, cut)
      const text = encodeSseAll(events)
      const decoder = createSseDecoder()
      const decoded = [...splitAt(text, cuts).flatMap((c) => decoder.push(c)), ...decoder.flush()]
      const ctx = testCtx({ includeUsage: true })
      assert.deepEqual(toO(decoded, ctx), toO(events, ctx))
    }))
  })
  it('law: the stream accumulates to the JSON response; exactly one [DONE]; usage kept', () => {
    fc.assert(fc.property(anthropicAnswerArb, fc.nat(6), (a, cut) => {
      const ctx = testCtx({ includeUsage: true })
      const r = accumulateOpenAI(toO(anthropicEventsOf(a, cut), ctx))
      const json = translationFor('openai', 'anthropic')!.response(anthropicJsonOf(a), ctx)
      const choice = (json.choices as JsonObject[])[0]!
      const msg = choice.message as JsonObject
      assert.equal(r.content, msg.content ?? '')
      assert.equal(r.reasoning, msg.reasoning_content ?? '')
      const calls = ((msg.tool_calls as JsonObject[] | undefined) ?? []).map((
        c,
      ) => [c.id, (c.function as JsonObject).name, JSON.parse((c.function as JsonObject).arguments as string)])
      assert.deepEqual(r.toolCalls.map((c) => [c.id, c.name, JSON.parse(c.arguments)]), calls)
      assert.equal(r.finish, choice.finish_reason)
      assert.equal(r.terminals, 1)
      assert.deepEqual(r.usage, json.usage)
    }))
  })
})

describe('Anthropic stream → OpenAI chunks: the hand-written chunk text', () => {
  it('is byte for byte what JSON.stringify writes for the same chunk, for any text, with and without usage', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.boolean(), (text, includeUsage) => {
        const ctx = testCtx({ includeUsage })
        const out = toO([
          aev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }),
          aev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
          aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
        ], ctx)
        const chunk = out.map((e) => e.data).find((d) => d.includes('"content":') && !d.includes('"role"'))
        assert.ok(chunk !== undefined)
        const parsed = JSON.parse(chunk) as JsonObject
        const want: JsonObject = {
          id: parsed.id!,
          object: 'chat.completion.chunk',
          created: parsed.created!,
          model: parsed.model!,
          choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }],
        }
        if (includeUsage) want.usage = null
        assert.equal(chunk, JSON.stringify(want))
      }),
      { numRuns: 300 },
    )
  })
})
