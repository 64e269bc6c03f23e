import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { translationFor } from './translation.ts'
import { testCtx } from '../../test/arbitraries/formats.ts'
import type { JsonObject } from './types.ts'

const longName = `mcp__github__${'create_or_update_pull_request_review_comment_'.repeat(2)}`

const anthropicReq: JsonObject = {
  model: 'claude-sonnet-4-5',
  max_tokens: 2048,
  temperature: 0.3,
  stream: true,
  top_k: 5,
  system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }, {
    type: 'text',
    text: 'Be kind.',
  }],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
        { type: 'text', text: 'Which city?' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'text', text: 'Paris.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_01B', name: longName, input: {} },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Thanks.' },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_01A',
          content: [{ type: 'text', text: '18°C' }, { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }],
        },
        { type: 'tool_result', tool_use_id: 'toolu_01B', content: 'boom', is_error: true },
      ],
    },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      cache_control: { type: 'ephemeral' },
    },
    { name: longName, input_schema: { type: 'object' } },
    { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
  ],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['a', 'b', 'c', 'd', 'e'],
  metadata: { user_id: 'u-7f3a' },
  thinking: { type: 'enabled', budget_tokens: 5000 },
}

describe('translationFor', () => {
  it('is undefined for same-format pairs (pass-through) and defined across formats', () => {
    assert.equal(translationFor('anthropic', 'anthropic'), undefined)
    assert.equal(translationFor('openai', 'openai'), undefined)
    assert.ok(translationFor('openai', 'anthropic'))
  })
})

describe('Anthropic request → OpenAI request', () => {
  const out = translationFor('anthropic', 'openai')!.request(anthropicReq, testCtx())
  const msgs = out.messages as JsonObject[]
  it('hoists system, keeps images as data URLs, orders tool messages before user text', () => {
    assert.equal(out.model, 'up-model')
    assert.deepEqual(msgs[0], { role: 'system', content: 'You are terse.\nBe kind.' })
    assert.deepEqual((msgs[1]!.content as JsonObject[])[0], {
      type: 'image_url',
      image_url: { url: 'data:image/png;base64,iVBOR' },
    })
    assert.deepEqual(msgs.slice(3).map((m) => m.role), ['tool', 'tool', 'user', 'user'])
    assert.deepEqual(msgs[3], { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C' })
    assert.equal(msgs[4]!.content, '[tool error] boom')
    assert.deepEqual(msgs[5]!.content, [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }])
    assert.deepEqual(msgs[6], { role: 'user', content: 'Thanks.' })
  })
  it('maps assistant tool_use to tool_calls with string arguments and drops thinking', () => {
    const a = msgs[2]!
    assert.equal(a.content, 'Paris.')
    assert.equal(a.reasoning_content, undefined)
    const calls = a.tool_calls as JsonObject[]
    assert.deepEqual(calls[0], {
      id: 'toolu_01A',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    })
    assert.equal(((calls[1]!.function as JsonObject).name as string).length, 64)
  })
  it('maps tools, tool_choice, stop, user, stream options, effort; drops server tools, top_k, cache_control', () => {
    const tools = out.tools as JsonObject[]
    assert.equal(tools.length, 2)
    assert.deepEqual(tools[0], {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    })
    assert.equal(out.tool_choice, 'required')
    assert.equal(out.parallel_tool_calls, false)
    assert.deepEqual(out.stop, ['a', 'b', 'c', 'd'])
    assert.equal(out.user, 'u-7f3a')
    assert.deepEqual(out.stream_options, { include_usage: true })
    assert.equal(out.reasoning_effort, 'high')
    assert.equal(out.top_k, undefined)
    assert.equal(JSON.stringify(out).includes('cache_control'), false)
  })
  it('round-trips reasoning_content only when asked (DeepSeek thinking + tools)', () => {
    const o = translationFor('anthropic', 'openai')!.request(anthropicReq, testCtx({ roundTripReasoning: true }))
    assert.equal((o.messages as JsonObject[])[2]!.reasoning_content, 'hmm')
  })
  it('restores shortened tool names in responses given the same ctx, even from another translationFor call', () => {
    const ctx = testCtx()
    const req = translationFor('anthropic', 'openai')!.request(anthropicReq, ctx)
    const short = ((req.tools as JsonObject[])[1]!.function as JsonObject).name
    const upstream = {
      choices: [{
        message: {
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: short, arguments: '{}' } }],
        },
        finish_reason: 'tool_calls',
      }],
    }
    const res = translationFor('anthropic', 'openai')!.response(upstream, ctx)
    assert.equal(((res.content as JsonObject[])[0]!).name, longName)
    const other = translationFor('anthropic', 'openai')!.response(upstream, testCtx())
    assert.equal(((other.content as JsonObject[])[0]!).name, short)
  })
  it('maps adaptive thinking through output_config.effort', () => {
    const t = translationFor('anthropic', 'openai')!
    const base = {
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      thinking: { type: 'adaptive' },
    }
    assert.equal(t.request({ ...base, output_config: { effort: 'low' } }, testCtx()).reasoning_effort, 'low')
    assert.equal(t.request({ ...base, output_config: { effort: 'max' } }, testCtx()).reasoning_effort, 'high')
    assert.equal(t.request({ ...base, thinking: { type: 'disabled' } }, testCtx()).reasoning_effort, undefined)
  })
  it('maps tool_choice tool/none/auto', () => {
    const t = translationFor('anthropic', 'openai')!
    const base = {
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    }
    assert.deepEqual(t.request({ ...base, tool_choice: { type: 'tool', name: 'f' } }, testCtx()).tool_choice, {
      type: 'function',
      function: { name: 'f' },
    })
    assert.equal(t.request({ ...base, tool_choice: { type: 'none' } }, testCtx()).tool_choice, 'none')
    const plain = t.request({ ...base, tool_choice: { type: 'auto' } }, testCtx())
    assert.equal(plain.tool_choice, 'auto')
    assert.equal(plain.stream, undefined)
    assert.equal(plain.stream_options, undefined)
  })
})

const openaiReq: JsonObject = {
  model: 'gpt-4o',
  max_completion_tokens: 2048,
  temperature: 1.7,
  stream: true,
  stream_options: { include_usage: true },
  messages: [
    { role: 'system', content: 'You are terse.' },
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
        { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'high' } },
        { type: 'text', text: 'Which city?' },
      ],
    },
    {
      role: 'assistant',
      content: 'Paris.',
      tool_calls: [
        {
          id: 'functions.get_weather:0',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"' },
        },
        { id: 'call_2', type: 'function', function: { name: 'noargs', arguments: '' } },
      ],
    },
    { role: 'tool', tool_call_id: 'functions.get_weather:0', content: '18°C' },
    { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'ok' }] },
    { role: 'developer', content: 'Late rule.' },
    { role: 'user', content: 'Tomorrow?' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }, {
    type: 'function',
    function: { name: 'noargs' },
  }],
  tool_choice: 'auto',
  parallel_tool_calls: false,
  stop: 'END',
  user: 'u1',
  n: 1,
  logprobs: false,
}

describe('OpenAI request → Anthropic request', () => {
  it('allowed_tools keeps only the allowed tools and maps its mode to auto / any', () => {
    const fn = (name: string) => ({
      type: 'function',
      function: { name, parameters: { type: 'object', properties: {} } },
    })
    const toA = (mode: string) =>
      translationFor('openai', 'anthropic')!.request({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [fn('a'), fn('b'), fn('c')],
        tool_choice: {
          type: 'allowed_tools',
          allowed_tools: {
            mode,
            tools: [{ type: 'function', function: { name: 'a' } }, { type: 'function', function: { name: 'c' } }],
          },
        },
      }, testCtx())
    const req = toA('required')
    assert.deepEqual((req.tools as { name: string }[]).map((t) => t.name), ['a', 'c'])
    assert.deepEqual(req.tool_choice, { type: 'any' })
    assert.deepEqual(toA('auto').tool_choice, { type: 'auto' })
  })

  it("turns JSON mode into a system instruction after the client's own system text, and a json_schema into output_config", () => {
    const toA = (extra: JsonObject) =>
      translationFor('openai', 'anthropic')!.request({
        model: 'm',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }],
        ...extra,
      }, testCtx())
    const json = toA({ response_format: { type: 'json_object' } })
    const system = json.system as { text: string }[]
    assert.equal(system[0]?.text, 'Be brief.')
    assert.match(system[1]?.text ?? '', /single valid JSON object/)
    assert.equal((toA({}).system as unknown[]).length, 1)
    const schema = { type: 'object', properties: { a: { type: 'string' } } }
    assert.deepEqual(
      toA({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }).output_config,
      { format: { type: 'json_schema', schema } },
    )
  })

  const out = translationFor('openai', 'anthropic')!.request(openaiReq, testCtx())
  const msgs = out.messages as JsonObject[]
  it('hoists system and developer messages in order, keeps max tokens, clamps temperature', () => {
    assert.deepEqual(out.system, [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Late rule.' }])
    assert.equal(out.max_tokens, 2048)
    assert.equal(out.temperature, 1)
    assert.deepEqual(out.stop_sequences, ['END'])
    assert.deepEqual(out.metadata, { user_id: 'u1' })
    assert.equal(out.model, 'up-model')
    for (const k of ['n', 'logprobs', 'stream_options', 'user']) assert.equal(out[k], undefined)
  })
  it('turns images into base64 and url sources', () => {
    const blocks = msgs[0]!.content as JsonObject[]
    assert.deepEqual(blocks[0], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } })
    assert.deepEqual(blocks[1], { type: 'image', source: { type: 'url', url: 'https://x/y.png' } })
  })
  it('sanitizes tool ids the same way on tool_use and tool_result; repairs arguments', () => {
    const assistant = msgs[1]!.content as JsonObject[]
    assert.deepEqual(assistant[0], { type: 'text', text: 'Paris.' })
    const use = assistant[1]!
    assert.match(use.id as string, /^[a-zA-Z0-9_-]+$/)
    assert.deepEqual(use.input, { city: 'Paris' })
    assert.deepEqual(assistant[2]!.input, {})
    const results = msgs[2]!.content as JsonObject[]
    assert.equal(msgs[2]!.role, 'user')
    assert.deepEqual(results.map((b) => b.type), ['tool_result', 'tool_result', 'text'])
    assert.equal(results[0]!.tool_use_id, use.id)
    assert.equal(results[1]!.content, 'ok')
    assert.equal(msgs.length, 3)
  })
  it('maps tools and parallel_tool_calls', () => {
    assert.deepEqual(out.tools, [{ name: 'get_weather', input_schema: { type: 'object' } }, {
      name: 'noargs',
      input_schema: { type: 'object', properties: {} },
    }])
    assert.deepEqual(out.tool_choice, { type: 'auto', disable_parallel_tool_use: true })
  })
  it('defaults max_tokens and maps reasoning_effort to a thinking budget below max_tokens', () => {
    const t = translationFor('openai', 'anthropic')!
    const o = t.request({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'high',
      temperature: 0.5,
    }, testCtx())
    const thinking = o.thinking as JsonObject
    assert.equal(thinking.type, 'enabled')
    assert.ok((o.max_tokens as number) > (thinking.budget_tokens as number))
    assert.equal(o.temperature, undefined)
    assert.equal(t.request({ model: 'm', messages: [] }, testCtx()).max_tokens, 8192)
  })
  it('maps legacy functions / function_call like tools / tool_choice', () => {
    const o = translationFor('openai', 'anthropic')!.request({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      functions: [{ name: 'f', parameters: { type: 'object' } }],
      function_call: { name: 'f' },
    }, testCtx())
    assert.deepEqual(o.tools, [{ name: 'f', input_schema: { type: 'object' } }])
    assert.deepEqual(o.tool_choice, { type: 'tool', name: 'f' })
  })
  it('does not enable thinking inside a tool loop the client cannot replay thinking for', () => {
    const o = translationFor('openai', 'anthropic')!.request({
      ...openaiReq,
      messages: (openaiReq.messages as JsonObject[]).slice(0, 5),
      reasoning_effort: 'medium',
    }, testCtx())
    assert.equal(o.thinking, undefined)
  })
})
