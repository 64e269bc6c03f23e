import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { translationFor } from '../translation.ts'
import {
  accumulateAnthropic,
  contentPieceArb,
  openaiChunks,
  runStream,
  testCtx,
} from '../../../test/arbitraries/formats.ts'
import type { JsonObject, SseEvent, TranslateContext } from '../types.ts'

const toA = (events: readonly SseEvent[], ctx: TranslateContext = testCtx()) =>
  runStream(translationFor('anthropic', 'openai')!.stream(ctx), events)
const usage = {
  prompt_tokens: 2242,
  completion_tokens: 96,
  total_tokens: 2338,
  prompt_tokens_details: { cached_tokens: 1830 },
}

describe('OpenAI stream → Anthropic events', () => {
  it('text with usage after finish_reason: message_start first, usage in message_delta', () => {
    const r = accumulateAnthropic(
      toA(
        openaiChunks([{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }], {
          finish: 'stop',
          usage,
        }),
      ),
    )
    assert.deepEqual(r.content, [{ type: 'text', text: 'Hello' }])
    assert.equal(r.stopReason, 'end_turn')
    assert.equal(r.usage.input_tokens, 412)
    assert.equal(r.usage.cache_read_input_tokens, 1830)
    assert.equal(r.usage.output_tokens, 96)
    assert.equal(r.terminals, 1)
  })
  it('usage inside the finish chunk is kept; no usage leaves the estimate', () => {
    const events = openaiChunks([{ content: 'x' }], { done: false })
    events.push({
      data: JSON.stringify({
        choices: [{ index: 0, delta: {}, finish_reason: 'length' }],
        usage: { prompt_tokens: 5, completion_tokens: 3 },
      }),
    }, { data: '[DONE]' })
    const r = accumulateAnthropic(toA(events))
    assert.equal(r.stopReason, 'max_tokens')
    assert.equal(r.usage.output_tokens, 3)
    assert.equal(r.usage.input_tokens, 5)
    const none = accumulateAnthropic(toA(openaiChunks([{ content: 'x' }], { finish: 'stop' })))
    assert.equal(none.usage.input_tokens, 77)
  })
  it('reasoning_content and reasoning become one thinking block with a signature, then tool calls', () => {
    const r = accumulateAnthropic(toA(openaiChunks([
      { reasoning_content: 'Need ' },
      { reasoning: 'weather.' },
      {
        tool_calls: [{
          index: 0,
          id: 'functions.get_weather:0',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        }],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      {
        tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }, {
          index: 1,
          id: 'call_b',
          function: { name: 'noargs', arguments: '{}' },
        }],
      },
    ], { finish: 'stop' })))
    assert.equal(r.content[0]!.type, 'thinking')
    assert.equal(r.content[0]!.thinking, 'Need weather.')
    assert.ok(String(r.content[0]!.signature).length > 0)
    assert.equal(r.content[1]!.name, 'get_weather')
    assert.match(r.content[1]!.id as string, /^[a-zA-Z0-9_-]+$/)
    assert.deepEqual(r.content[1]!.input, { city: 'Paris' })
    assert.deepEqual(r.content[2]!.input, {})
    assert.equal(r.stopReason, 'tool_use')
  })
  it('splits leading <think> tags across chunks, keeps later tags as text', () => {
    const r = accumulateAnthropic(
      toA(
        openaiChunks([{ content: ' <thi' }, { content: 'nk>plan</th' }, { content: 'ink>\n\nAnswer <think>' }], {
          finish: 'stop',
        }),
      ),
    )
    assert.deepEqual(r.content.map((b) => b.type), ['thinking', 'text'])
    assert.equal(r.content[0]!.thinking, 'plan')
    assert.equal(r.content[1]!.text, 'Answer <think>')
  })
  it('a name-less first tool fragment waits for its name; broken args are repaired with repairToolArgs', () => {
    const events = openaiChunks([
      { tool_calls: [{ index: 0, id: 'c1', function: { arguments: '{"a":' } }] },
      { tool_calls: [{ index: 0, function: { name: 'f', arguments: '1' } }] },
    ], { finish: 'tool_calls' })
    const r = accumulateAnthropic(toA(events, testCtx({ repairToolArgs: true })))
    assert.deepEqual(r.content, [{ type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } }])
    assert.throws(() => accumulateAnthropic(toA(events)), SyntaxError)
  })
  it('an upstream error chunk becomes event: error; a stream cut before finish ends with an error', () => {
    const mid = toA([...openaiChunks([{ content: 'x' }], { done: false }), {
      data: '{"error":{"message":"Overloaded","type":"server_error"}}',
    }])
    const r = accumulateAnthropic(mid)
    assert.equal(r.error?.type, 'api_error')
    assert.equal(r.error?.message, 'Overloaded')
    assert.equal(r.terminals, 1)
    const t = translationFor('anthropic', 'openai')!.stream(testCtx())
    const cut = accumulateAnthropic(runStream(t, openaiChunks([{ content: 'x' }], { done: false })))
    assert.equal(t.done && t.errored, true)
    assert.equal(cut.error?.type, 'api_error')
    assert.equal(cut.stopReason, null)
  })
  it('calls announced before any arguments still arrive whole', () => {
    const r = accumulateAnthropic(toA(openaiChunks([
      {
        tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '' } }, {
          index: 1,
          id: 'b',
          type: 'function',
          function: { name: 'g', arguments: '' },
        }],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"y":' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '2}' } }] },
      { tool_calls: [{ index: 2, id: 'c', type: 'function', function: { name: 'h', arguments: '' } }] },
    ], { finish: 'tool_calls' })))
    assert.deepEqual(r.content.map((b) => [b.id, b.name, b.input]), [['a', 'f', { x: 1 }], ['b', 'g', { y: 2 }], [
      'c',
      'h',
      {},
    ]])
  })
  it('a refusal delta becomes text with stop_reason refusal', () => {
    const r = accumulateAnthropic(toA(openaiChunks([{ refusal: 'I cannot help with that.' }], { finish: 'stop' })))
    assert.deepEqual(r.content, [{ type: 'text', text: 'I cannot help with that.' }])
    assert.equal(r.stopReason, 'refusal')
  })
  it('only choice 0 is translated', () => {
    const events = [{
      data: JSON.stringify({
        choices: [{ index: 1, delta: { content: 'other' } }, { index: 0, delta: { content: 'mine' } }],
      }),
    }, ...openaiChunks([], { finish: 'stop' })]
    assert.deepEqual(accumulateAnthropic(toA(events)).content, [{ type: 'text', text: 'mine' }])
  })
  it('a finish_reason without [DONE] still completes normally', () => {
    const t = translationFor('anthropic', 'openai')!.stream(testCtx())
    const r = accumulateAnthropic(runStream(t, openaiChunks([{ content: 'x' }], { finish: 'stop', done: false })))
    assert.equal(t.done && !t.errored, true)
    assert.equal(r.error, undefined)
    assert.equal(r.terminals, 1)
  })
})

/** A random OpenAI answer: content pieces (think tags included), reasoning pieces, tool calls, usage. */
const answerArb = fc.record({
  reasoning: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
  content: fc.array(contentPieceArb, { maxLength: 8 }),
  tools: fc.array(
    fc.record({ name: fc.constantFrom('f', 'g'), args: fc.dictionary(fc.constantFrom('a', 'b'), fc.integer()) }),
    { maxLength: 3 },
  ),
  usage: fc.option(fc.record({ prompt_tokens: fc.nat(5000), completion_tokens: fc.nat(5000) }), { nil: undefined }),
  finish: fc.constantFrom('stop', 'length', 'tool_calls'),
})

type Answer = typeof answerArb extends fc.Arbitrary<infer T> ? T : never

function chunksOf(a: Answer, pieces: (s: string) => string[]): SseEvent[] {
  const deltas: JsonObject[] = [{ role: 'assistant', content: '' }]
  for (const r of a.reasoning) deltas.push({ reasoning_content: r })
  for (const c of a.content) deltas.push({ content: c })
  a.tools.forEach((t, i) => {
    const [first, ...rest] = pieces(JSON.stringify(t.args))
    deltas.push({
      tool_calls: [{ index: i, id: `call_${i}`, type: 'function', function: { name: t.name, arguments: first ?? '' } }],
    })
    for (const p of rest) deltas.push({ tool_calls: [{ index: i, function: { arguments: p } }] })
  })
  return openaiChunks(deltas, a.usage ? { finish: a.finish, usage: a.usage } : { finish: a.finish })
}

function jsonOf(a: Answer): JsonObject {
  const tool_calls = a.tools.map((t, i) => ({
    id: `call_${i}`,
    type: 'function',
    function: { name: t.name, arguments: JSON.stringify(t.args) },
  }))
  const message: JsonObject = {
    role: 'assistant',
    content: a.content.join(''),
    ...(tool_calls.length ? { tool_calls } : {}),
  }
  if (a.reasoning.join('')) message.reasoning_content = a.reasoning.join('')
  return { choices: [{ index: 0, message, finish_reason: a.finish }], ...(a.usage ? { usage: a.usage } : {}) }
}

describe('stream reducer laws (OpenAI upstream → Anthropic client)', () => {
  it('law: the stream accumulates to the same content, stop reason and usage as the JSON response', () => {
    fc.assert(fc.property(answerArb, fc.nat(5), (a, k) => {
      const streamed = accumulateAnthropic(toA(chunksOf(a, (s) => [s.slice(0, k), s.slice(k)])))
      const json = translationFor('anthropic', 'openai')!.response(jsonOf(a), testCtx())
      const blocks = (json.content as JsonObject[]).map(({ signature: _s, ...b }) => b)
      const merged = streamed.content.map(({ signature: _s, ...b }) => b)
      assert.deepEqual(merge(merged), merge(blocks))
      assert.equal(streamed.stopReason, json.stop_reason)
      assert.equal(streamed.terminals, 1)
      const u = json.usage as JsonObject
      assert.equal(streamed.usage.output_tokens, a.usage ? u.output_tokens : 0)
      assert.equal(streamed.usage.input_tokens, u.input_tokens)
    }))
  })
  it('law: any split of content and arguments into deltas gives the same client result', () => {
    fc.assert(fc.property(answerArb, fc.nat(8), fc.nat(8), (a, i, j) => {
      const one = accumulateAnthropic(toA(chunksOf(a, (s) => [s])))
      const resplit = { ...a, content: a.content.flatMap((c) => [c.slice(0, i), c.slice(i)]) }
      const many = accumulateAnthropic(
        toA(chunksOf(resplit, (s) => [s.slice(0, j), s.slice(j, j + 2), s.slice(j + 2)])),
      )
      assert.deepEqual(merge(many.content), merge(one.content))
      assert.deepEqual(many.usage, one.usage)
    }))
  })
})

/** Adjacent same-kind text/thinking blocks are equivalent content; merge them for comparison. */
function merge(blocks: readonly JsonObject[]): JsonObject[] {
  const out: JsonObject[] = []
  for (const b of blocks) {
    const last = out.at(-1)
    if (last && last.type === b.type && b.type === 'text') last.text = String(last.text) + String(b.text)
    else if (last && last.type === b.type && b.type === 'thinking') {
      last.thinking = String(last.thinking) + String(b.thinking)
    } else out.push({ ...b })
  }
  return out
}

describe('OpenAI stream → Anthropic events: the hand-written delta text', () => {
  it('is byte for byte what JSON.stringify writes for the same event, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        // A text that opens with a tag could start a <think> section: that is another test's business.
        fc.pre(![a, b].some((t) => t.trimStart().startsWith('<')))
        for (const text of [a, b]) {
          const out = toA(openaiChunks([{ content: text }], { finish: 'stop' }))
          const deltas = out.filter((e) => e.event === 'content_block_delta')
          assert.equal(deltas.length, 1)
          const want = JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })
          assert.equal(deltas[0]!.data, want)
        }
      }),
      { numRuns: 300 },
    )
  })
})
