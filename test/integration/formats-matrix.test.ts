/**
 * Every client format against every upstream format, through the whole pipeline with the
 * mock upstream speaking all four: text (JSON and SSE), tool calls, usage from the upstream
 * (the pass-through usage tap included), upstream errors and cut streams in the client's format.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { JsonObject, SseEvent, WireFormatName } from '../../src/formats/types.ts'
import { HUB_SIDES } from '../../src/formats/hub/pairs.ts'
import { assembleHubMessage } from '../../src/formats/hub/events.ts'
import { testCtx } from '../arbitraries/formats.ts'
import { sseEvents, type TestProxy, testProxy } from './helpers.ts'

const FORMATS: WireFormatName[] = ['anthropic', 'openai', 'responses', 'gemini']
const UPSTREAM: Record<WireFormatName, string> = {
  anthropic: 'ua,m-a',
  openai: 'uo,m-o',
  responses: 'ur,m-r',
  gemini: 'ug,m-g',
}

const config = {
  LOG: false,
  Providers: [
    {
      name: 'ua',
      api_base_url: 'http://mock.test/v1/messages',
      api_key: 'k-a',
      models: ['m-a'],
      transformer: { use: ['Anthropic'] },
    },
    { name: 'uo', api_base_url: 'http://mock.test/v1/chat/completions', api_key: 'k-o', models: ['m-o'] },
    { name: 'ur', api_base_url: 'http://mock.test/v1/responses', api_key: 'k-r', models: ['m-r'] },
    {
      name: 'ug',
      api_base_url: 'http://mock.test/v1beta/models/',
      api_key: 'k-g',
      models: ['m-g'],
      transformer: { use: ['gemini'] },
    },
  ],
  Router: { default: 'uo,m-o', fallbackToOtherTiers: false },
}

const TOOL = {
  name: 'mock_lookup',
  description: 'x',
  schema: { type: 'object', properties: { seq: { type: 'string' } } },
}

/** A request in `client` format for `model`, and where it goes. */
function request(
  client: WireFormatName,
  model: string,
  stream: boolean,
  tool: boolean,
): { path: string; body: JsonObject } {
  switch (client) {
    case 'anthropic':
      return {
        path: '/v1/messages',
        body: {
          model,
          max_tokens: 256,
          stream,
          messages: [{ role: 'user', content: 'hi' }],
          ...(tool ? { tools: [{ name: TOOL.name, description: TOOL.description, input_schema: TOOL.schema }] } : {}),
        },
      }
    case 'openai':
      return {
        path: '/v1/chat/completions',
        body: {
          model,
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
          messages: [{ role: 'user', content: 'hi' }],
          ...(tool
            ? {
              tools: [{
                type: 'function',
                function: { name: TOOL.name, description: TOOL.description, parameters: TOOL.schema },
              }],
            }
            : {}),
        },
      }
    case 'responses':
      return {
        path: '/v1/responses',
        body: {
          model,
          stream,
          input: 'hi',
          ...(tool
            ? { tools: [{ type: 'function', name: TOOL.name, description: TOOL.description, parameters: TOOL.schema }] }
            : {}),
        },
      }
    case 'gemini':
      return {
        path: `/v1beta/models/${encodeURIComponent(model)}:${
          stream ? 'streamGenerateContent?alt=sse' : 'generateContent'
        }`,
        body: {
          contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
          ...(tool
            ? {
              tools: [{
                functionDeclarations: [{
                  name: TOOL.name,
                  description: TOOL.description,
                  parametersJsonSchema: TOOL.schema,
                }],
              }],
            }
            : {}),
        },
      }
  }
}

/** The client's answer read back as a hub message (the stream through the client format's upstream-side reader). */
async function answer(client: WireFormatName, res: Response, stream: boolean): Promise<JsonObject> {
  const ctx = testCtx()
  const text = await res.text()
  assert.equal(res.status, 200, text)
  if (!stream) return HUB_SIDES[client].toHubResponse(JSON.parse(text) as JsonObject, ctx)
  const events: SseEvent[] = sseEvents(text)
  const t = HUB_SIDES[client].toHubStream?.(ctx)
  return assembleHubMessage(t ? [...events.flatMap((e) => t.push(e)), ...t.end()] : events)
}

const textOf = (m: JsonObject) =>
  (m.content as JsonObject[]).filter((b) => b.type === 'text').map((b) => b.text).join('')

describe('every client format × every upstream format', () => {
  for (const client of FORMATS) {
    for (const upstream of FORMATS) {
      it(`${client} client ← ${upstream} upstream: text (JSON and SSE), a tool call, usage`, async () => {
        const p: TestProxy = await testProxy(config)
        for (const stream of [false, true]) {
          const { path, body } = request(client, `${UPSTREAM[upstream]}:chunks=4:tokens=2`, stream, false)
          const m = await answer(client, await p.post(path, body), stream)
          assert.match(textOf(m), /\[0001\].*\[0004\]/s, `${client}←${upstream} stream=${stream}: ${JSON.stringify(m)}`)
          assert.equal(
            (m.usage as JsonObject).output_tokens,
            8,
            `usage ${client}←${upstream} stream=${stream}: ${JSON.stringify(m.usage)}`,
          )
          const t = request(client, `${UPSTREAM[upstream]}:mode=tool:chunks=3`, stream, true)
          const call = (await answer(client, await p.post(t.path, t.body), stream)).content as JsonObject[]
          const use = call.find((b) => b.type === 'tool_use')
          assert.equal(use?.name, 'mock_lookup', JSON.stringify(call))
          assert.match(String((use?.input as JsonObject).seq), /\[0003\]/)
        }
        // The pipeline's own usage record (the tap for pass-through, the translation otherwise).
        const usage = await (await p.app.request('/v1/usage')).json() as JsonObject
        assert.match(JSON.stringify(usage), new RegExp(UPSTREAM[upstream].split(',')[0]!))
        await p.close()
      })
    }
  }
})

describe("errors and cut streams in the client's own format", () => {
  it('an upstream 429 in any format reaches each client as a 429 in its own error shape', async () => {
    for (const client of FORMATS) {
      for (const upstream of FORMATS) {
        // A fresh instance per pair: a 429 puts a hold on its target.
        const p = await testProxy(config)
        const { path, body } = request(client, `${UPSTREAM[upstream]}:status=429`, false, false)
        const res = await p.post(path, body)
        const err = await res.json() as JsonObject
        assert.equal(res.status, 429, `${client}←${upstream}`)
        if (client === 'gemini') assert.equal((err.error as JsonObject).status, 'RESOURCE_EXHAUSTED')
        else if (client === 'anthropic') assert.equal(err.type, 'error')
        else assert.equal(typeof (err.error as JsonObject).message, 'string')
        await p.close()
      }
    }
  })

  it("a stream cut after a few events ends with the client format's error event, never a clean finish (continuation off)", async () => {
    for (const client of FORMATS) {
      for (const upstream of FORMATS) {
        const p = await testProxy({ ...config, Router: { ...config.Router, continueStreams: false } })
        const { path, body } = request(client, `${UPSTREAM[upstream]}:chunks=8:cut=4`, true, false)
        const res = await p.post(path, body)
        const events = sseEvents(await res.text())
        const last = events.at(-1)
        const ok = client === 'anthropic'
          ? last?.event === 'error'
          : client === 'openai'
          ? events.some((e) => e.data.includes('"error"')) && last?.data === '[DONE]'
          : client === 'responses'
          ? last?.event === 'response.failed'
          : (last?.data ?? '').includes('"error"')
        assert.ok(ok, `${client}←${upstream}: ${JSON.stringify(events.slice(-2))}`)
        await p.close()
      }
    }
  })

  it("bad input is refused in the client's format, naming the field", async () => {
    const p = await testProxy(config)
    const r = await p.post('/v1/responses', { model: 'uo,m-o', input: 'hi', max_output_tokens: 'lots' })
    assert.equal(r.status, 400)
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /max_output_tokens/)
    const g = await p.post('/v1beta/models/uo,m-o:generateContent', { contents: 'not a list' })
    const gj = await g.json() as { error: { code: number; message: string; status: string } }
    assert.deepEqual([g.status, gj.error.code, gj.error.status], [400, 400, 'INVALID_ARGUMENT'])
    assert.match(gj.error.message, /contents/)
    // Known fields of the parts have their types and a message its text, as the real APIs
    // require: loose, each of these lost its text in silence and was answered 200.
    const bad = [
      [
        '/v1beta/models/uo,m-o:generateContent',
        { contents: [{ role: 'user', parts: [{ text: 5 }] }] },
        'contents.0.parts.0.text',
      ],
      ['/v1/responses', {
        model: 'uo,m-o',
        input: [{ type: 'message', role: 'user', content: [{ type: 'input_text' }] }],
      }, 'input.0.content.0.text'],
      ['/v1/responses', { model: 'uo,m-o', input: [{ role: 'user' }] }, 'input.0.content'],
      ['/v1/responses', { model: 'uo,m-o', input: [{ type: 'function_call_output', output: 'x' }] }, 'input.0.call_id'],
      ['/v1/chat/completions', { model: 'uo,m-o', messages: [{ role: 'user' }] }, 'messages.0.content'],
      [
        '/v1/chat/completions',
        { model: 'uo,m-o', messages: [{ role: 'user', content: [{ type: 'text' }] }] },
        'messages.0.content.0.text',
      ],
      // A role the real API refuses: loose, each was read as a user turn (a Gemini `assistant`
      // turn became the user's words).
      ['/v1/chat/completions', { model: 'uo,m-o', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages.0.role'],
      [
        '/v1/messages',
        { model: 'uo,m-o', max_tokens: 5, messages: [{ role: 'bot', content: 'hi' }] },
        'messages.0.role',
      ],
      ['/v1/responses', { model: 'uo,m-o', input: [{ role: 'wizard', content: 'hi' }] }, 'input.0.role'],
      // A union says which kinds it takes, not just "Invalid input".
      [
        '/v1/responses',
        { model: 'uo,m-o', input: 5 },
        'input: Invalid input: expected string or array, received number',
      ],
      [
        '/v1beta/models/uo,m-o:generateContent',
        { contents: [{ role: 'assistant', parts: [{ text: 'hi' }] }] },
        'contents.0.role',
      ],
    ] as const
    for (const [path, body, field] of bad) {
      const res = await p.post(path, body)
      const text = await res.text()
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${text}`)
      assert.ok(text.includes(field), `${path}: ${text} names ${field}`)
    }
    // What the rules leave alone: an assistant turn of tool calls only, string content, other parts.
    const fine = [
      ['/v1/chat/completions', {
        model: 'uo,m-o',
        messages: [{ role: 'user', content: 'hi' }, {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
        }, { role: 'tool', tool_call_id: 'c', content: 'ok' }],
      }],
      ['/v1/responses', {
        model: 'uo,m-o',
        input: [{ role: 'user', content: 'hi' }, { type: 'reasoning', summary: [] }],
      }],
      ['/v1beta/models/uo,m-o:generateContent', {
        contents: [{ role: 'user', parts: [{ text: 'hi' }, { futurePart: {} }] }],
      }],
      // Every role each API takes, and a Gemini turn without one.
      ['/v1/chat/completions', {
        model: 'uo,m-o',
        messages: ['system', 'developer', 'user', 'assistant', 'function'].map((role) => ({ role, content: 'x' })),
      }],
      ['/v1/messages', {
        model: 'uo,m-o',
        max_tokens: 5,
        messages: ['user', 'assistant', 'system', 'user'].map((role) => ({ role, content: 'x' })),
      }],
      ['/v1/responses', {
        model: 'uo,m-o',
        input: ['system', 'developer', 'user', 'assistant', 'user'].map((role) => ({ role, content: 'x' })),
      }],
      ['/v1beta/models/uo,m-o:generateContent', {
        contents: [{ parts: [{ text: 'a' }] }, { role: 'model', parts: [{ text: 'b' }] }, {
          role: 'user',
          parts: [{ text: 'c' }],
        }],
      }],
    ] as const
    for (const [path, body] of fine) {
      const res = await p.post(path, body)
      const text = await res.text()
      assert.equal(res.status, 200, `${path}: ${text}`)
    }
    const u = await p.post('/v1beta/models/uo,m-o:embedContent', { contents: [] })
    assert.equal(u.status, 404)
    assert.equal(((await u.json()) as { error: { status: string } }).error.status, 'NOT_FOUND')
    await p.close()
  })
})

describe('reasoning tokens', () => {
  it("the upstream's reasoning-token count reaches Responses and Gemini clients (JSON and stream)", async () => {
    const p = await testProxy(config)
    const model = (u: string) => `${u}:mode=thinking:think=3:chunks=2:tokens=2`
    for (const upstream of ['ug,m-g', 'ur,m-r']) {
      const json =
        await (await p.post('/v1/responses', { model: model(upstream), input: 'think', reasoning: { effort: 'low' } }))
          .json() as { usage: { output_tokens: number; output_tokens_details: { reasoning_tokens: number } } }
      assert.deepEqual([json.usage.output_tokens, json.usage.output_tokens_details.reasoning_tokens], [10, 6], upstream)
      const sse = await (await p.post('/v1/responses', { model: model(upstream), input: 'think', stream: true })).text()
      assert.match(sse, /"output_tokens":10,"output_tokens_details":\{"reasoning_tokens":6\}/, upstream)
    }
    const g = await (await p.post(`/v1beta/models/${encodeURIComponent(model('ur,m-r'))}:generateContent`, {
      contents: [{ parts: [{ text: 'think' }] }],
    })).json() as { usageMetadata: JsonObject }
    assert.deepEqual([g.usageMetadata.candidatesTokenCount, g.usageMetadata.thoughtsTokenCount], [4, 6])
    await p.close()
  })
})
