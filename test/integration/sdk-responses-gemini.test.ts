/**
 * The official SDKs of the two newer formats as clients of Switchyard: openai-node's Responses
 * API (in-process fetch) and @google/genai (over a loopback port: it has no fetch option), with
 * the mock upstream in Anthropic and OpenAI Chat format. Text, streams, tool calls, usage, and
 * errors in each client's own format.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import { GoogleGenAI } from '@google/genai'
import { runtime, type Served } from '../../src/runtime/index.ts'
import { testConfigFile, type TestProxy, testProxy, viaApp } from './helpers.ts'

const LOOKUP = {
  type: 'function' as const,
  name: 'mock_lookup',
  description: 'x',
  parameters: { type: 'object', properties: { seq: { type: 'string' } } },
  strict: false,
}

for (const upstream of ['anth,mock-a', 'oai,mock-o']) {
  const label = upstream.startsWith('anth') ? 'Anthropic' : 'OpenAI Chat'

  describe(`openai-node Responses API through the proxy, ${label} upstream`, () => {
    let p: TestProxy
    let client: OpenAI
    before(async () => {
      p = await testProxy(testConfigFile({}, { fallbackToOtherTiers: false }))
      client = new OpenAI({
        apiKey: 'client-key',
        baseURL: 'http://switchyard.test/v1',
        fetch: viaApp(p),
        maxRetries: 0,
      })
    })
    after(async () => {
      await p.close()
    })

    it('responses.create answers text with usage', async () => {
      const r = await client.responses.create({ model: `${upstream}:chunks=4`, input: 'hi', instructions: 'be brief' })
      assert.match(r.output_text, /\[0001\].*\[0004\]/s)
      assert.equal(r.status, 'completed')
      assert.equal(r.usage?.output_tokens, 4)
      assert.ok(r.id.startsWith('resp_'))
    })

    it('responses.stream().finalResponse() accumulates the events', async () => {
      const stream = client.responses.stream({
        model: `${upstream}:chunks=5`,
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      })
      const deltas: string[] = []
      stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
      const r = await stream.finalResponse()
      assert.match(r.output_text, /\[0001\].*\[0005\]/s)
      assert.equal(deltas.join(''), r.output_text)
      assert.equal(r.usage?.output_tokens, 5)
    })

    it('a streamed function call arrives as a function_call item with JSON arguments', async () => {
      const r = await client.responses.stream({
        model: `${upstream}:mode=tool:chunks=3`,
        input: 'look',
        tools: [LOOKUP],
      }).finalResponse()
      const call = r.output.find((i) => i.type === 'function_call')
      assert.equal(call?.type === 'function_call' && call.name, 'mock_lookup')
      assert.match(JSON.parse(call?.type === 'function_call' ? call.arguments : '{}').seq, /\[0003\]/)
    })

    it('thinking comes back as a reasoning item with a summary', async () => {
      const r = await client.responses.create({
        model: `${upstream}:mode=thinking:chunks=2`,
        input: 'think',
        reasoning: { effort: 'low' },
      })
      const reasoning = r.output.find((i) => i.type === 'reasoning')
      assert.ok(
        reasoning && reasoning.type === 'reasoning' && reasoning.summary.some((s) => /think/.test(s.text)),
        JSON.stringify(r.output),
      )
      assert.ok(r.output_text.length > 0)
    })

    it('responses.compact answers the user messages and one compaction item, which a next create takes', async () => {
      const history = [
        { role: 'user' as const, content: 'rename the flag' },
        { role: 'assistant' as const, content: 'Which one?' },
        { role: 'user' as const, content: '--quick to --fast' },
      ]
      const compacted = await client.responses.compact({ model: `${upstream}:chunks=2`, input: history })
      assert.equal(compacted.object, 'response.compaction')
      assert.deepEqual(compacted.output.map((i) => i.type), ['message', 'message', 'compaction'])
      const next = await client.responses.create({
        model: `${upstream}:chunks=1`,
        input: [...compacted.output, { role: 'user', content: 'go on' }] as never,
      })
      assert.equal(next.status, 'completed')
    })

    it('an upstream error is an APIError with its status, in the OpenAI error shape', async () => {
      await assert.rejects(
        client.responses.create({ model: `${upstream}:status=503`, input: 'hi' }),
        (e: unknown) => e instanceof OpenAI.APIError && e.status === 503,
      )
      await assert.rejects(
        client.responses.create({ model: 'nope,x', input: 'hi' }),
        (e: unknown) => e instanceof OpenAI.NotFoundError && /nope/.test(e.message),
      )
    })
  })
}

describe('openai-node Responses API: previous_response_id and input_tokens', () => {
  it('a follow-up with previous_response_id carries the stored conversation upstream', async () => {
    const p = await testProxy()
    const client = new OpenAI({
      apiKey: 'client-key',
      baseURL: 'http://switchyard.test/v1',
      fetch: viaApp(p),
      maxRetries: 0,
    })
    const first = await client.responses.create({ model: 'anth,mock-a:chunks=2', input: 'first question' })
    const second = await client.responses.create({
      model: 'anth,mock-a:chunks=2',
      input: 'second question',
      previous_response_id: first.id,
    })
    assert.equal(second.status, 'completed')
    const last = p.mock.attempts().at(-1)
    assert.ok(last, 'the mock saw the follow-up')
    await assert.rejects(
      client.responses.create({ model: 'anth,mock-a', input: 'x', previous_response_id: 'resp_unknown' }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /previous_response_id/.test(e.message),
    )
    const counted = await (await p.post('/v1/responses/input_tokens', {
      model: 'anth,mock-a',
      input: 'count these words please',
      previous_response_id: first.id,
    })).json() as { object: string; input_tokens: number }
    assert.equal(counted.object, 'response.input_tokens')
    const alone =
      await (await p.post('/v1/responses/input_tokens', { model: 'anth,mock-a', input: 'count these words please' }))
        .json() as { input_tokens: number }
    assert.ok(counted.input_tokens > alone.input_tokens, `${counted.input_tokens} > ${alone.input_tokens}`)
    await p.close()
  })
})

describe('@google/genai through the proxy (loopback port)', () => {
  let p: TestProxy
  let served: Served
  let ai: GoogleGenAI
  before(async () => {
    p = await testProxy(testConfigFile({ APIKEY: 'sy-gemini-key' }, { fallbackToOtherTiers: false }))
    served = await runtime.serve((req) => p.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    ai = new GoogleGenAI({ apiKey: 'sy-gemini-key', httpOptions: { baseUrl: `http://127.0.0.1:${served.port}` } })
  })
  after(async () => {
    await served.stop(true)
    await p.close()
  })

  for (const upstream of ['anth,mock-a', 'oai,mock-o']) {
    it(`generateContent and generateContentStream (${upstream})`, async () => {
      const r = await ai.models.generateContent({
        model: `${upstream}:chunks=3`,
        contents: 'hi',
        config: { systemInstruction: 'be brief', maxOutputTokens: 64 },
      })
      assert.match(r.text ?? '', /\[0001\].*\[0003\]/s)
      assert.equal(r.candidates?.[0]?.finishReason, 'STOP')
      assert.equal(r.usageMetadata?.candidatesTokenCount, 3)
      let text = ''
      let finish: string | undefined
      for await (
        const chunk of await ai.models.generateContentStream({ model: `${upstream}:chunks=4`, contents: 'hi' })
      ) {
        text += chunk.text ?? ''
        finish = chunk.candidates?.[0]?.finishReason ?? finish
      }
      assert.match(text, /\[0001\].*\[0004\]/s)
      assert.equal(finish, 'STOP')
    })

    it(`function calls come back as functionCalls (${upstream})`, async () => {
      const r = await ai.models.generateContent({
        model: `${upstream}:mode=tool:chunks=2`,
        contents: 'look',
        config: {
          tools: [{
            functionDeclarations: [{
              name: 'mock_lookup',
              description: 'x',
              parametersJsonSchema: { type: 'object', properties: { seq: { type: 'string' } } },
            }],
          }],
        },
      })
      const call = r.functionCalls?.[0]
      assert.equal(call?.name, 'mock_lookup')
      assert.match(String((call?.args as { seq?: string } | undefined)?.seq), /\[0002\]/)
    })
  }

  it('models.list and models.get read the configured models; an unknown one is a 404 naming it', async () => {
    const names: string[] = []
    for await (const m of await ai.models.list()) names.push(String(m.name))
    assert.deepEqual(names.sort(), [
      'models/anth,claude-up',
      'models/anth,mock-a',
      'models/oai,gpt-up',
      'models/oai,mock-o',
    ])
    const one = await ai.models.get({ model: 'anth,mock-a' })
    assert.equal(one.name, 'models/anth,mock-a')
    assert.deepEqual(one.supportedActions, ['generateContent', 'streamGenerateContent', 'countTokens'])
    // The SDK lists under /v1 (the path OpenAI and Anthropic clients share, told apart by their
    // headers); the v1beta paths answer the same.
    const beta = await fetch(`http://127.0.0.1:${served.port}/v1beta/models/anth,mock-a?key=sy-gemini-key`)
    assert.deepEqual(await beta.json(), {
      name: 'models/anth,mock-a',
      displayName: 'anth,mock-a',
      supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
    })
    const missing = await fetch(`http://127.0.0.1:${served.port}/v1beta/models/nope?key=sy-gemini-key`)
    assert.equal(missing.status, 404)
    assert.equal((await missing.json() as { error: { status: string } }).error.status, 'NOT_FOUND')
    assert.equal((await ai.models.get({ model: 'models/gpt-up' })).name, 'models/oai,gpt-up', 'a bare model name')
    await assert.rejects(
      ai.models.get({ model: 'nope' }),
      (e: unknown) => /404/.test(String(e)) && /'nope' is not a configured model/.test(String(e)),
    )
  })

  it("countTokens, and errors in Google's shape", async () => {
    const counted = await ai.models.countTokens({ model: 'anth,mock-a', contents: 'count these words please' })
    assert.ok((counted.totalTokens ?? 0) > 3)
    await assert.rejects(
      ai.models.generateContent({ model: 'nope,x', contents: 'hi' }),
      (e: unknown) => /404/.test(String(e)) && /NOT_FOUND|nope/.test(String(e)),
    )
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: `http://127.0.0.1:${served.port}` } })
    await assert.rejects(
      bad.models.generateContent({ model: 'anth,mock-a', contents: 'hi' }),
      (e: unknown) => /401/.test(String(e)),
    )
    const res = await fetch(
      `http://127.0.0.1:${served.port}/v1beta/models/anth,mock-a:generateContent?key=sy-gemini-key`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
      },
    )
    assert.equal(res.status, 200)
    const wrong = await fetch(`http://127.0.0.1:${served.port}/v1beta/models/anth,mock-a:generateContent?key=nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    const body = await wrong.json() as { error: { code: number; status: string } }
    assert.deepEqual([wrong.status, body.error.code, body.error.status], [401, 401, 'UNAUTHENTICATED'])
  })
})
