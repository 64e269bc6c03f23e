import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createSseDecoder } from './sse/decode.ts'
import { jsonAsStream } from './json-to-stream.ts'
import { streamFold } from './stream-to-json.ts'
import type { JsonObject, SseEvent, WireFormatName } from './types.ts'
import { hubToResponsesResponse } from './responses/from-hub.ts'
import { hubToGeminiResponse } from './gemini/stream.ts'
import { arr, obj } from './translate/json.ts'

const FC = { seed: 2026, numRuns: 200 }
const events = (text: string): SseEvent[] => {
  const d = createSseDecoder()
  return [...d.push(text), ...d.flush()]
}
const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown
const fold = (format: WireFormatName, evs: readonly SseEvent[]) => {
  const f = streamFold(format)
  evs.forEach((e) => f.push(e))
  return f.result()
}

const text = fc.string({ maxLength: 40 })
const anthropicBlock = fc.oneof(
  fc.record({ type: fc.constant('text'), text }),
  fc.record({ type: fc.constant('thinking'), thinking: text, signature: fc.string({ minLength: 1, maxLength: 10 }) }),
  fc.record({
    type: fc.constant('tool_use'),
    id: fc.string({ minLength: 1, maxLength: 8 }),
    name: fc.string({ minLength: 1, maxLength: 8 }),
    input: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), fc.string({ maxLength: 5 }))),
  }),
)
const messageArb: fc.Arbitrary<JsonObject> = fc.record({
  id: fc.constant('msg_1'),
  type: fc.constant('message'),
  role: fc.constant('assistant'),
  model: fc.constant('m'),
  content: fc.array(anthropicBlock, { maxLength: 4 }),
  stop_reason: fc.constantFrom('end_turn', 'tool_use', 'max_tokens'),
  stop_sequence: fc.constant(null),
  usage: fc.record({ input_tokens: fc.nat(1e6), output_tokens: fc.nat(1e5) }),
})
const completionArb: fc.Arbitrary<JsonObject> = fc.record({
  content: text,
  calls: fc.array(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 8 }),
      name: fc.string({ minLength: 1, maxLength: 8 }),
      arguments: fc.json(),
    }),
    { maxLength: 3 },
  ),
  finish: fc.constantFrom('stop', 'tool_calls', 'length'),
}).map(({ content, calls, finish }) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{
    index: 0,
    message: {
      role: 'assistant',
      content: content === '' && calls.length ? null : content,
      ...(calls.length
        ? {
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          })),
        }
        : {}),
    },
    logprobs: null,
    finish_reason: finish,
  }],
  usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
}))

describe('streamFold', () => {
  it('law: folding the replayed Anthropic stream gives back the message', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        assert.deepEqual(fold('anthropic', events(jsonAsStream('anthropic', m, { includeUsage: false }))), plain(m))
      }),
      FC,
    )
  })

  it('law: folding the replayed OpenAI stream gives back the completion', () => {
    fc.assert(
      fc.property(completionArb, (c) => {
        assert.deepEqual(fold('openai', events(jsonAsStream('openai', c, { includeUsage: true }))), plain(c))
      }),
      FC,
    )
  })

  it('law: a stream cut before its terminal event folds to nothing (never cached as complete)', () => {
    fc.assert(
      fc.property(messageArb, completionArb, fc.nat(), (m, c, k) => {
        const a = events(jsonAsStream('anthropic', m, { includeUsage: false }))
        assert.equal(fold('anthropic', a.slice(0, k % a.length)), undefined)
        const o = events(jsonAsStream('openai', c, { includeUsage: false })).filter((e) => e.data !== '[DONE]')
        assert.equal(fold('openai', o.slice(0, o.length - 1 - (k % o.length))), undefined)
      }),
      FC,
    )
  })

  it('law: folding a replayed Responses or Gemini answer gives it back; cut before its end, nothing', () => {
    const ctx = {
      model: 'm',
      upstreamModel: 'm',
      requestId: 'r1',
      estimatedInputTokens: 3,
      includeUsage: false,
      created: 1,
    }
    fc.assert(
      fc.property(messageArb, fc.nat(), (m, k) => {
        for (
          const [format, body] of [['responses', hubToResponsesResponse(m, ctx)], [
            'gemini',
            hubToGeminiResponse(m, ctx),
          ]] as const
        ) {
          const evs = events(jsonAsStream(format, body, { includeUsage: false }))
          assert.deepEqual(fold(format, evs), plain(body), format)
          // A Gemini stream's finishReason is on its last chunk; a Responses stream ends with response.completed.
          assert.equal(fold(format, evs.slice(0, k % evs.length)), undefined, format)
        }
      }),
      FC,
    )
    const gem = [{ data: '{"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]}}]}' }, {
      data: '{"candidates":[{"content":{"role":"model","parts":[{"text":"b"}]},"finishReason":"STOP"}]}',
    }]
    assert.deepEqual(obj(obj(arr(obj(fold('gemini', gem)).candidates)[0]).content).parts, [{ text: 'ab' }])
    assert.equal(
      fold('gemini', [gem[0]!, { data: '{"error":{"code":503,"message":"x","status":"UNAVAILABLE"}}' }, gem[1]!]),
      undefined,
    )
    assert.equal(
      fold('responses', [{
        event: 'response.failed',
        data: '{"type":"response.failed","response":{"status":"failed"}}',
      }]),
      undefined,
    )
  })

  it('an error event anywhere means no result', () => {
    const m = {
      id: 'm',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [{ type: 'text', text: 'hi' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {},
    }
    const a = events(jsonAsStream('anthropic', m, { includeUsage: false }))
    assert.ok(fold('anthropic', a))
    assert.equal(
      fold('anthropic', [...a.slice(0, 3), {
        event: 'error',
        data: '{"type":"error","error":{"type":"overloaded_error","message":"x"}}',
      }, ...a.slice(3)]),
      undefined,
    )
    assert.equal(
      fold('openai', [{ data: '{"id":"c","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}' }, {
        data: '{"error":{"message":"boom"}}',
      }]),
      undefined,
    )
  })
})
