/**
 * Streams emitted by our translators, fed to the real SDK accumulators (docs/protocols.md §7.2):
 * Anthropic's MessageStream.finalMessage() and openai-node's ChatCompletionStream.finalChatCompletion().
 * The SDKs get a `fetch` that answers from memory, so nothing leaves the process.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { encodeSseAll, renderError, translationFor } from '../../src/formats/index.ts'
import type { JsonObject, SseEvent, TranslateContext } from '../../src/formats/index.ts'
import { aev, openaiChunks, runStream, testCtx } from '../arbitraries/formats.ts'

/** A fetch that serves `body` as an SSE response, split into small chunks to exercise the SDK's parser. */
function serve(events: readonly SseEvent[]): typeof fetch {
  const text = encodeSseAll(events)
  return (async () => {
    const bytes = new TextEncoder().encode(text)
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.slice(i, i + 7))
        c.close()
      },
    })
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
  }) as unknown as typeof fetch
}

function serveJson(body: JsonObject): typeof fetch {
  return (async () =>
    new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    })) as unknown as typeof fetch
}

const anthropicClient = (f: typeof fetch) =>
  new Anthropic({ apiKey: 'test', baseURL: 'http://127.0.0.1:9', fetch: f, maxRetries: 0 })
const openaiClient = (f: typeof fetch) =>
  new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1', fetch: f, maxRetries: 0 })

/** OpenAI upstream chunks → our Anthropic stream → Anthropic SDK final message. */
async function viaAnthropicSdk(upstream: readonly SseEvent[], ctx: TranslateContext = testCtx()) {
  const out = runStream(translationFor('anthropic', 'openai')!.stream(ctx), upstream)
  const stream = anthropicClient(serve(out)).messages.stream({
    model: 'client-model',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'hi' }],
  })
  return stream.finalMessage()
}

/** Anthropic upstream events → our OpenAI stream → openai-node final completion. */
async function viaOpenAISdk(upstream: readonly SseEvent[], ctx: TranslateContext = testCtx({ includeUsage: true })) {
  const out = runStream(translationFor('openai', 'anthropic')!.stream(ctx), upstream)
  const stream = openaiClient(serve(out)).chat.completions.stream({
    model: 'client-model',
    messages: [{ role: 'user', content: 'hi' }],
    stream_options: { include_usage: true },
  })
  return stream.finalChatCompletion()
}

const usage = { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: 8 } }

describe('Anthropic SDK accepts our OpenAI → Anthropic streams', () => {
  it('text', async () => {
    const m = await viaAnthropicSdk(
      openaiChunks([{ role: 'assistant', content: '' }, { content: 'Hello, ' }, { content: 'wörld 😀' }], {
        finish: 'stop',
        usage,
      }),
    )
    assert.deepEqual(m.content.map((b) => (b.type === 'text' ? b.text : b.type)), ['Hello, wörld 😀'])
    assert.equal(m.stop_reason, 'end_turn')
    assert.equal(m.usage.input_tokens, 12)
    assert.equal(m.usage.cache_read_input_tokens, 8)
    assert.equal(m.usage.output_tokens, 5)
  })
  it('parallel tool calls with a sanitized id and fragmented arguments', async () => {
    const m = await viaAnthropicSdk(openaiChunks([
      {
        tool_calls: [{
          index: 0,
          id: 'functions.Bash:0',
          type: 'function',
          function: { name: 'Bash', arguments: '{"comm' },
        }],
      },
      { tool_calls: [{ index: 0, function: { arguments: 'and":"ls"}' } }] },
      { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'Read', arguments: '' } }] },
    ], { finish: 'tool_calls' }))
    const tools = m.content.filter((b) => b.type === 'tool_use')
    assert.equal(tools.length, 2)
    assert.deepEqual(tools[0]!.type === 'tool_use' && tools[0]!.input, { command: 'ls' })
    assert.match(tools[0]!.type === 'tool_use' ? tools[0]!.id : '', /^[a-zA-Z0-9_-]+$/)
    assert.deepEqual(tools[1]!.type === 'tool_use' && tools[1]!.input, {})
    assert.equal(m.stop_reason, 'tool_use')
  })
  it('thinking from reasoning_content and from <think> tags', async () => {
    const m = await viaAnthropicSdk(
      openaiChunks([{ reasoning_content: 'Let me think.' }, { content: 'Answer.' }], { finish: 'stop' }),
    )
    assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text'])
    assert.equal(m.content[0]!.type === 'thinking' && m.content[0]!.thinking, 'Let me think.')
    assert.ok(m.content[0]!.type === 'thinking' && m.content[0]!.signature.length > 0)
    const tags = await viaAnthropicSdk(
      openaiChunks([{ content: '<think>plan' }, { content: '</think>done' }], { finish: 'stop' }),
    )
    assert.deepEqual(tags.content.map((b) => (b.type === 'thinking' ? b.thinking : b.type === 'text' ? b.text : '')), [
      'plan',
      'done',
    ])
  })
  it('an upstream error chunk and a cut stream reject with an API error', async () => {
    await assert.rejects(
      viaAnthropicSdk([...openaiChunks([{ content: 'x' }], { done: false }), {
        data: '{"error":{"message":"Overloaded","type":"overloaded_error"}}',
      }]),
      /Overloaded/,
    )
    await assert.rejects(
      viaAnthropicSdk(openaiChunks([{ content: 'x' }], { done: false })),
      /ended before it was complete/,
    )
  })
  it('a translated JSON response parses as a Message', async () => {
    const body = translationFor('anthropic', 'openai')!.response({
      choices: [{
        message: {
          role: 'assistant',
          content: 'hi',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
        },
        finish_reason: 'tool_calls',
      }],
      usage,
    }, testCtx())
    const m = await anthropicClient(serveJson(body)).messages.create({
      model: 'client-model',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    })
    assert.equal(m.stop_reason, 'tool_use')
    assert.deepEqual(m.content[1]!.type === 'tool_use' && m.content[1]!.input, { a: 1 })
  })
})

const start = aev('message_start', {
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 30, cache_read_input_tokens: 10, cache_creation_input_tokens: 0, output_tokens: 1 },
  },
})
const stop = (
  reason: string,
  output: number,
) => [
  aev('message_delta', { delta: { stop_reason: reason, stop_sequence: null }, usage: { output_tokens: output } }),
  aev('message_stop'),
]

describe('openai-node accepts our Anthropic → OpenAI streams', () => {
  it('text with include_usage', async () => {
    const c = await viaOpenAISdk([
      start,
      aev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi ' } }),
      aev('ping'),
      aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'there' } }),
      aev('content_block_stop', { index: 0 }),
      ...stop('end_turn', 7),
    ])
    assert.equal(c.choices[0]!.message.content, 'Hi there')
    assert.equal(c.choices[0]!.finish_reason, 'stop')
    assert.equal(c.usage?.prompt_tokens, 40)
    assert.equal(c.usage?.completion_tokens, 7)
  })
  it('thinking then two tool calls', async () => {
    const c = await viaOpenAISdk([
      start,
      aev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      aev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
      aev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
      aev('content_block_stop', { index: 0 }),
      aev('content_block_start', {
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
      }),
      aev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
      aev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }),
      aev('content_block_stop', { index: 1 }),
      aev('content_block_start', {
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_2', name: 'noargs', input: {} },
      }),
      aev('content_block_stop', { index: 2 }),
      ...stop('tool_use', 12),
    ])
    const msg = c.choices[0]!.message
    assert.equal(c.choices[0]!.finish_reason, 'tool_calls')
    assert.deepEqual(
      msg.tool_calls?.map((t) => t.type === 'function' ? [t.id, t.function.name, t.function.arguments] : []),
      [['toolu_1', 'get_weather', '{"city":"Paris"}'], ['toolu_2', 'noargs', '{}']],
    )
  })
  it('an upstream event: error rejects', async () => {
    await assert.rejects(
      viaOpenAISdk([start, aev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })]),
      /Overloaded/,
    )
  })
  it('a translated JSON response parses as a ChatCompletion', async () => {
    const body = translationFor('openai', 'anthropic')!.response({
      id: 'msg_1',
      content: [{ type: 'thinking', thinking: 't', signature: 's' }, { type: 'text', text: 'ok' }],
      stop_reason: 'max_tokens',
      usage: { input_tokens: 3, output_tokens: 4 },
    }, testCtx())
    const c = await openaiClient(serveJson(body)).chat.completions.create({
      model: 'client-model',
      messages: [{ role: 'user', content: 'hi' }],
    })
    assert.equal(c.choices[0]!.message.content, 'ok')
    assert.equal(c.choices[0]!.finish_reason, 'length')
    assert.equal(c.usage?.total_tokens, 7)
  })
})

describe('both SDKs read our error bodies', () => {
  const serveError = (format: 'anthropic' | 'openai') => {
    const { status, body } = renderError(format, {
      kind: 'upstream_status',
      target: 't',
      status: 404,
      message: 'model x not found',
      code: 'model_not_found',
    }, 'req_9')
    return (async () =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      })) as unknown as typeof fetch
  }
  it('Anthropic: status, error type and message', async () => {
    await assert.rejects(
      anthropicClient(serveError('anthropic')).messages.create({
        model: 'm',
        max_tokens: 1,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (e: unknown) => e instanceof Anthropic.NotFoundError && e.status === 404 && /model x not found/.test(e.message),
    )
  })
  it('OpenAI: status, code and message', async () => {
    await assert.rejects(
      openaiClient(serveError('openai')).chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (e: unknown) =>
        e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found' &&
        /model x not found/.test(e.message),
    )
  })
})
