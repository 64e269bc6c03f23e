/**
 * Requests in the newer formats go through the same routing pipeline: a reasoning effort or
 * thinking budget above the agents' default picks the think scenario, web_search / googleSearch the webSearch one, the token estimate
 * counts their prompts; Codex's custom tools reach other upstreams as one-string functions and
 * come back as custom tool calls; previous_response_id carries the stored conversation; Gemini
 * upstreams get the model and the key the way CCR's gemini transformer sends them.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { JsonObject } from '../../src/formats/types.ts'
import { spyingProxy, testConfigFile, testProxy } from './helpers.ts'

/** An in-process proxy whose logs are kept and whose upstream requests are recorded. */
async function testProxySpy() {
  const p = await testProxy()
  const seen: { body: string }[] = []
  const fetch = p.mock.fetch.bind(p.mock)
  p.mock.fetch = async (req: Request) => {
    seen.push({ body: await req.clone().text() })
    return fetch(req)
  }
  return Object.assign(p, { seen })
}

const routeOf = (r: Response) => r.headers.get('x-switchyard-route') ?? ''
const withGemini = testConfigFile({
  Providers: [
    {
      name: 'anth',
      api_base_url: 'http://mock.test/v1/messages',
      api_key: 'sk-ant-secret-1',
      models: ['claude-up', 'mock-a'],
      transformer: { use: ['Anthropic'] },
    },
    {
      name: 'oai',
      api_base_url: 'http://mock.test/v1/chat/completions',
      api_key: 'sk-oai-secret-2',
      models: ['gpt-up', 'mock-o'],
    },
    {
      name: 'gem',
      api_base_url: 'http://mock.test/v1beta/models/',
      api_key: 'g-secret-3',
      models: ['gemini-up'],
      transformer: { use: ['gemini'] },
    },
  ],
}, { webSearch: 'gem,gemini-up' })

describe('the newer formats go through the routing pipeline', () => {
  it('Responses: a high reasoning effort → think, web_search → webSearch, a plain request or the default effort → default', async () => {
    const p = await spyingProxy(withGemini)
    assert.match(
      routeOf(await p.post('/v1/responses', { model: 'gpt-5.5', input: 'hi', reasoning: { effort: 'high' } })),
      /^think anth,claude-up/,
    )
    assert.match(
      routeOf(await p.post('/v1/responses', { model: 'gpt-5.5', input: 'hi', tools: [{ type: 'web_search' }] })),
      /^webSearch gem,gemini-up/,
    )
    assert.match(routeOf(await p.post('/v1/responses', { model: 'gpt-5.5', input: 'hi' })), /^default oai,gpt-up/)
    // The Codex CLI sends `medium` on every turn: its default, not an ask for more thinking.
    assert.match(
      routeOf(await p.post('/v1/responses', { model: 'gpt-5.5', input: 'hi', reasoning: { effort: 'medium' } })),
      /^default oai,gpt-up/,
    )
    await p.close()
  })

  it('Gemini: a thinking budget past the CLI default → think, googleSearch → webSearch; the estimate counts the prompt', async () => {
    const p = await spyingProxy(withGemini)
    const contents = [{ role: 'user', parts: [{ text: 'hi' }] }]
    assert.match(
      routeOf(
        await p.post('/v1beta/models/gemini-2.5-flash:generateContent', {
          contents,
          generationConfig: { thinkingConfig: { thinkingBudget: 24_576 } },
        }),
      ),
      /^think anth,claude-up/,
    )
    // The Gemini CLI's own budget (8,192) is its default: not an ask for more.
    assert.match(
      routeOf(
        await p.post('/v1beta/models/gemini-2.5-flash:generateContent', {
          contents,
          generationConfig: { thinkingConfig: { thinkingBudget: 8192 } },
        }),
      ),
      /^default /,
    )
    assert.match(
      routeOf(
        await p.post('/v1beta/models/gemini-2.5-flash:generateContent', { contents, tools: [{ googleSearch: {} }] }),
      ),
      /^webSearch gem,gemini-up/,
    )
    const long = [{ role: 'user', parts: [{ text: 'lorem ipsum dolor '.repeat(200) }] }]
    const small = await (await p.post('/v1beta/models/gemini-2.5-flash:countTokens', { contents })).json() as {
      totalTokens: number
    }
    const big = await (await p.post('/v1beta/models/gemini-2.5-flash:countTokens', { contents: long })).json() as {
      totalTokens: number
    }
    assert.ok(big.totalTokens > small.totalTokens + 500, `${big.totalTokens} vs ${small.totalTokens}`)
    await p.close()
  })

  it('a Gemini upstream gets the model in the URL, the key as x-goog-api-key, and cleaned tool schemas', async () => {
    const p = await spyingProxy(withGemini)
    const res = await p.post('/v1/messages', {
      model: 'gem,gemini-up',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{
        name: 'f',
        input_schema: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          additionalProperties: false,
          properties: { a: { type: ['string', 'null'], format: 'uri' } },
        },
      }],
    })
    assert.equal(res.status, 200)
    await res.text()
    const call = p.seen.at(-1)!
    assert.equal(call.url, 'http://mock.test/v1beta/models/gemini-up:streamGenerateContent?alt=sse')
    assert.equal(call.headers.get('x-goog-api-key'), 'g-secret-3')
    assert.equal(call.headers.get('authorization'), null)
    const body = JSON.parse(call.body) as JsonObject
    assert.equal(body.model, undefined)
    assert.deepEqual((body.tools as JsonObject[])[0], {
      functionDeclarations: [{
        name: 'f',
        parameters: { type: 'object', properties: { a: { type: 'string', nullable: true } } },
      }],
    })
    await p.close()
  })
})

describe('Codex-shaped requests', () => {
  const applyPatch = {
    type: 'custom',
    name: 'apply_patch',
    description: 'Edit files',
    format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' },
  }

  it('a custom tool goes upstream as a one-string-argument function, and its call and output map back', async () => {
    const p = await testProxySpy()
    const input = [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'patch it' }] },
      { type: 'custom_tool_call', call_id: 'call_p1', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
      { type: 'custom_tool_call_output', call_id: 'call_p1', output: 'Done!' },
      { type: 'function_call', call_id: 'call_e1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
      { type: 'function_call_output', call_id: 'call_e1', output: 'a.txt' },
    ]
    const res = await p.post('/v1/responses', {
      model: 'oai,gpt-up',
      input,
      tools: [applyPatch, {
        type: 'function',
        name: 'exec_command',
        parameters: { type: 'object', properties: { cmd: { type: 'string' } } },
      }, { type: 'namespace', name: 'x', tools: [] }],
      store: false,
    })
    assert.equal(res.status, 200, await res.clone().text())
    const up = JSON.parse(p.seen.at(-1)!.body) as { messages: JsonObject[]; tools: JsonObject[] }
    assert.deepEqual(up.messages[0], { role: 'system', content: 'You are Codex.' })
    const patchTool = up.tools.find((t) => (t.function as JsonObject).name === 'apply_patch')!.function as JsonObject
    assert.deepEqual((patchTool.parameters as JsonObject).required, ['input'])
    assert.match(JSON.stringify(patchTool.parameters), /Begin Patch/)
    assert.equal(up.tools.length, 2, 'the namespace tool has no equivalent and is dropped')
    assert.ok(p.logs.some((l) => l.includes('namespace')), 'the drop is logged')
    const calls = up.messages.flatMap((m) => (m.tool_calls ?? []) as JsonObject[]).map((
      c,
    ) => (c.function as JsonObject))
    assert.deepEqual(calls, [{
      name: 'apply_patch',
      arguments: JSON.stringify({ input: '*** Begin Patch\n*** End Patch' }),
    }, { name: 'exec_command', arguments: '{"cmd":"ls"}' }])
    assert.deepEqual(up.messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]), [[
      'call_p1',
      'Done!',
    ], ['call_e1', 'a.txt']])
    await p.close()
  })

  it('an upstream call of a custom tool comes back as a custom_tool_call with the raw input (JSON and stream)', async () => {
    const p = await spyingProxy()
    // The mock's tool-mode answer calls `mock_lookup`: declare that name as a custom tool.
    const tools = [{ type: 'custom', name: 'mock_lookup', description: 'x' }]
    const json = await (await p.post('/v1/responses', { model: 'anth,mock-a:mode=tool:chunks=2', input: 'go', tools }))
      .json() as { output: JsonObject[] }
    const item = json.output.find((i) => i.type === 'custom_tool_call')
    assert.ok(item, JSON.stringify(json.output))
    assert.equal(typeof item.input, 'string')
    const sse = await (await p.post('/v1/responses', {
      model: 'oai,mock-o:mode=tool:chunks=2',
      input: 'go',
      tools,
      stream: true,
    })).text()
    assert.match(sse, /response\.custom_tool_call_input\.done/)
    assert.match(sse, /"type":"custom_tool_call"/)
    await p.close()
  })

  it('previous_response_id puts the stored conversation in front of the new input upstream', async () => {
    const p = await spyingProxy()
    const first =
      await (await p.post('/v1/responses', { model: 'anth,mock-a:chunks=2', input: 'remember the word pineapple' }))
        .json() as { id: string }
    const streamed = await p.post('/v1/responses', {
      model: 'anth,mock-a:chunks=2',
      input: 'and then?',
      previous_response_id: first.id,
      stream: true,
    })
    const text = await streamed.text()
    const second = JSON.parse(
      text.split('\n').filter((l) => l.startsWith('data: ') && l.includes('response.completed'))[0]!.slice(6),
    ) as { response: { id: string } }
    const up = JSON.parse(p.seen.at(-1)!.body) as { messages: JsonObject[] }
    assert.deepEqual(up.messages.map((m) => m.role), ['user', 'assistant', 'user'])
    assert.match(JSON.stringify(up.messages[0]), /pineapple/)
    // The streamed answer was stored too: a third turn sees all five items.
    await (await p.post('/v1/responses', {
      model: 'anth,mock-a:chunks=1',
      input: 'last',
      previous_response_id: second.response.id,
    })).text()
    const third = JSON.parse(p.seen.at(-1)!.body) as { messages: JsonObject[] }
    assert.deepEqual(third.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant', 'user'])
    await p.close()
  })
})

describe('dedup with Gemini requests', () => {
  it('shares identical generateContent calls only under the same ?key=, and never a streamGenerateContent', async () => {
    const p = await spyingProxy()
    const body = { contents: [{ role: 'user', parts: [{ text: 'same question' }] }] }
    const send = (key: string, action = 'generateContent') =>
      p.post(`/v1beta/models/oai,gpt-up:chunks=2:ttft=80:${action}?key=${key}`, body, { 'x-switchyard-dedup': '1' })
    const same = await Promise.all([send('a'), send('a')])
    assert.deepEqual(same.map((r) => r.headers.get('x-switchyard-dedup')).sort(), [null, 'shared'])
    const before = p.seen.length
    const other = await Promise.all([send('a'), send('b')])
    assert.deepEqual(other.map((r) => r.headers.get('x-switchyard-dedup')), [null, null])
    assert.equal(p.seen.length - before, 2)
    const streams = await Promise.all([send('a', 'streamGenerateContent'), send('a', 'streamGenerateContent')])
    assert.deepEqual(streams.map((r) => r.headers.get('x-switchyard-dedup')), [null, null])
    await Promise.all(streams.map((r) => r.text()))
    await p.close()
  })

  it('reasoning tokens an OpenAI Chat upstream reports reach Responses and Gemini clients and the usage ledger', async () => {
    const p = await spyingProxy()
    const model = 'oai,mock-o:mode=thinking:chunks=3'
    const sse = await (await p.post('/v1/responses', { model, input: 'think', stream: true })).text()
    const completed = sse.split('\n').filter((l) => l.startsWith('data: ')).map((l) =>
      JSON.parse(l.slice(6)) as JsonObject
    ).find((d) => d.type === 'response.completed')
    const reasoning =
      ((completed?.response as JsonObject).usage as { output_tokens_details: { reasoning_tokens: number } })
        .output_tokens_details.reasoning_tokens
    assert.ok(reasoning > 0, "the upstream's completion_tokens_details.reasoning_tokens")
    const gem = await (await p.post(`/v1beta/models/${model}:generateContent`, {
      contents: [{ role: 'user', parts: [{ text: 'think' }] }],
    })).json() as { usageMetadata: { thoughtsTokenCount: number } }
    assert.equal(gem.usageMetadata.thoughtsTokenCount, reasoning)
    await new Promise((r) => setTimeout(r, 5))
    const usage = await (await p.app.request('/v1/usage')).json() as {
      total: { reasoningTokens: number }
      tiers: { reasoning_tokens: number }[]
    }
    assert.equal(usage.total.reasoningTokens, 2 * reasoning, "Switchyard's own usage records keep the count")
    assert.equal(usage.tiers.reduce((a, t) => a + t.reasoning_tokens, 0), 2 * reasoning)
    await p.close()
  })
})
