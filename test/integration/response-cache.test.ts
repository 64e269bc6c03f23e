/**
 * The opt-in response cache through the whole app: hits for all four client formats, streamed and
 * not (a stream is stored folded and replayed as valid SSE), isolation between API keys, no
 * caching of errors or broken streams, and the hit ratio in /v1/usage and /metrics.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { anthropicBody, openaiBody, spyingProxy, sseEvents, testConfigFile } from './helpers.ts'
import { streamFold } from '../../src/formats/stream-to-json.ts'

const ON = { 'x-switchyard-cache': 'on' }
const calls = (p: { seen: unknown[] }) => p.seen.length

describe('response cache', () => {
  it('is off unless enabled or asked for, and `x-switchyard-cache: off` skips an enabled cache', async () => {
    const p = await spyingProxy(testConfigFile({ Cache: { enabled: true } }))
    const a = await p.post('/v1/messages', anthropicBody('oai,mock-o'), { 'x-switchyard-cache': 'off' })
    assert.equal(a.headers.get('x-switchyard-cache'), null)
    await a.text()
    await (await p.post('/v1/messages', anthropicBody('oai,mock-o'), { 'x-switchyard-cache': 'off' })).text()
    assert.equal(calls(p), 2)
    await p.close()
    const q = await spyingProxy()
    for (let i = 0; i < 2; i++) await (await q.post('/v1/messages', anthropicBody('oai,mock-o'))).text()
    assert.equal(calls(q), 2, 'off by default')
    await q.close()
  })

  for (const format of ['anthropic', 'openai'] as const) {
    const path = format === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'
    const body = (
      extra: Record<string, unknown> = {},
    ) => (format === 'anthropic'
      ? anthropicBody('anth,mock-a:mode=tool', extra)
      : openaiBody('oai,mock-o:mode=tool', extra))

    it(`${format}: a JSON miss is stored; the same request is a hit as JSON and as a replayed stream`, async () => {
      const p = await spyingProxy()
      const first = await p.post(path, body(), ON)
      assert.equal(first.headers.get('x-switchyard-cache'), 'miss')
      const json = await first.json()
      await new Promise((r) => setTimeout(r, 5))
      const again = await p.post(path, body(), ON)
      assert.equal(again.headers.get('x-switchyard-cache'), 'hit')
      assert.match(again.headers.get('x-switchyard-route') ?? '', /tier=cache; attempts=0/)
      assert.deepEqual(await again.json(), json)
      const streamed = await p.post(
        path,
        body({ stream: true, ...(format === 'openai' ? { stream_options: { include_usage: true } } : {}) }),
        ON,
      )
      assert.equal(streamed.headers.get('x-switchyard-cache'), 'hit', 'the stream flag is not part of the key')
      assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/)
      const events = sseEvents(await streamed.text())
      assert.ok(events.length > 2)
      assert.equal(calls(p), 1, 'one upstream call for three answers')
      await p.close()
    })

    it(`${format}: a streamed miss is folded, stored, and replays to the SDK as the same answer`, async () => {
      const p = await spyingProxy()
      // The SDKs send their key, and the cache keys by the caller: send the same one.
      const first = await p.post(path, body({ stream: true }), { ...ON, 'x-api-key': 'k', authorization: 'Bearer k' })
      assert.equal(first.headers.get('x-switchyard-cache'), 'miss')
      const original = await first.text()
      await new Promise((r) => setTimeout(r, 5))
      const fetchVia = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = new Request(input, init)
        return await p.app.request(new URL(req.url).pathname, {
          method: 'POST',
          headers: { ...Object.fromEntries(req.headers), ...ON },
          body: await req.text(),
        })
      }) as typeof fetch
      if (format === 'anthropic') {
        const client = new Anthropic({ apiKey: 'k', baseURL: 'http://127.0.0.1:9', fetch: fetchVia, maxRetries: 0 })
        const msg = await client.messages.stream(body() as never).finalMessage()
        const orig = sseEvents(original).filter((e) => e.event === 'content_block_start').length
        assert.equal(msg.content.length, orig)
        assert.ok(msg.content.some((b) => b.type === 'tool_use'))
      } else {
        const client = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', fetch: fetchVia, maxRetries: 0 })
        const c = await client.chat.completions.stream(body() as never).finalChatCompletion()
        assert.ok((c.choices[0]?.message.tool_calls?.length ?? 0) > 0)
      }
      assert.equal(calls(p), 1)
      await p.close()
    })
  }

  // Responses and Gemini clients: the same cache, their own JSON and SSE.
  for (const format of ['responses', 'gemini'] as const) {
    const model = 'anth,mock-a:mode=tool'
    const post = (
      p: { post: (path: string, body: unknown, headers?: Record<string, string>) => Promise<Response> },
      stream: boolean,
      headers: Record<string, string> = {},
    ) =>
      format === 'responses'
        ? p.post('/v1/responses', {
          model,
          input: 'hello',
          tools: [{ type: 'function', name: 'mock_lookup', parameters: { type: 'object' } }],
          ...(stream ? { stream: true } : {}),
        }, { ...ON, ...headers })
        : p.post(`/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, {
          contents: [{ role: 'user', parts: [{ text: 'hello' }] }],
          tools: [{ functionDeclarations: [{ name: 'mock_lookup', parameters: { type: 'object' } }] }],
        }, { ...ON, ...headers })
    /** The answer a stream carries, folded as the cache folds it (undefined when incomplete). */
    const folded = (text: string) => {
      const f = streamFold(format)
      for (const e of sseEvents(text)) f.push(e)
      return f.result()
    }

    it(`${format}: a JSON miss is stored; the same request is a hit as JSON and as a stream replayed as valid SSE in its format`, async () => {
      const p = await spyingProxy()
      const first = await post(p, false)
      assert.equal(first.headers.get('x-switchyard-cache'), 'miss')
      const json = await first.json()
      await new Promise((r) => setTimeout(r, 5))
      const again = await post(p, false)
      assert.equal(again.headers.get('x-switchyard-cache'), 'hit')
      assert.match(again.headers.get('x-switchyard-route') ?? '', /tier=cache; attempts=0/)
      assert.deepEqual(await again.json(), json)
      const streamed = await post(p, true)
      assert.equal(streamed.headers.get('x-switchyard-cache'), 'hit', 'the stream flag is not part of the key')
      assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/)
      const text = await streamed.text()
      const events = sseEvents(text)
      if (format === 'responses') {
        assert.equal(events[0]?.event, 'response.created')
        assert.equal(events.at(-1)?.event, 'response.completed')
        assert.deepEqual(
          events.map((e) => (JSON.parse(e.data) as { sequence_number: number }).sequence_number),
          events.map((_, i) => i),
        )
      } else assert.ok(events.every((e) => (JSON.parse(e.data) as { candidates?: unknown[] }).candidates))
      assert.deepEqual(folded(text), json, 'the replay carries the cached answer')
      assert.equal(calls(p), 1, 'one upstream call for three answers')
      await p.close()
    })

    it(`${format}: a streamed miss is folded and stored; hits replay it as a stream and answer it as JSON`, async () => {
      const p = await spyingProxy()
      const first = await post(p, true)
      assert.equal(first.headers.get('x-switchyard-cache'), 'miss')
      const original = folded(await first.text())
      assert.ok(original, 'the original stream was complete')
      await new Promise((r) => setTimeout(r, 5))
      const replay = await post(p, true)
      assert.equal(replay.headers.get('x-switchyard-cache'), 'hit')
      assert.deepEqual(folded(await replay.text()), original)
      const json = await post(p, false)
      assert.equal(json.headers.get('x-switchyard-cache'), 'hit')
      assert.deepEqual(await json.json(), original)
      assert.equal(calls(p), 1)
      await p.close()
    })

    it(`${format}: keys are per caller and per format; cut and continued streams are never stored`, async () => {
      const p = await spyingProxy(testConfigFile({ Cache: { enabled: true } }, { fallbackToOtherTiers: false }))
      const key = format === 'gemini' ? 'x-goog-api-key' : 'authorization'
      const as = async (k: string) => {
        const r = await post(p, false, { [key]: k })
        await r.text()
        await new Promise((res) => setTimeout(res, 5))
        return r.headers.get('x-switchyard-cache')
      }
      assert.deepEqual([await as('k-one'), await as('k-two'), await as('k-one')], ['miss', 'miss', 'hit'])
      // The same model asked in the other new format is a miss: the client format is part of the key.
      const other = format === 'gemini'
        ? await p.post('/v1/responses', {
          model,
          input: 'hello',
          tools: [{ type: 'function', name: 'mock_lookup', parameters: { type: 'object' } }],
        }, { ...ON, [key]: 'k-one' })
        : await p.post(`/v1beta/models/${model}:generateContent`, {
          contents: [{ role: 'user', parts: [{ text: 'hello' }] }],
        }, { ...ON, authorization: 'k-one' })
      assert.equal(other.headers.get('x-switchyard-cache'), 'miss')
      await other.text()
      const before = calls(p)
      for (let i = 0; i < 2; i++) {
        // A cut the continuation completes: the client gets a whole answer, never stored.
        const r = format === 'responses'
          ? await p.post('/v1/responses', { model: 'anth,mock-a:cut=4', input: 'hi', stream: true }, ON)
          : await p.post('/v1beta/models/anth,mock-a:cut=4:streamGenerateContent?alt=sse', {
            contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
          }, ON)
        assert.notEqual(r.headers.get('x-switchyard-cache'), 'hit')
        assert.ok(folded(await r.text()), 'the continued stream is whole')
        await new Promise((res) => setTimeout(res, 5))
      }
      assert.equal(calls(p) - before, 4, 'each request: the cut try and its continuation')
      await p.close()
    })
  }

  it('a hit never crosses API keys (named keys, and distinct APIKEY callers alike)', async () => {
    const keys = [{ name: 'team-a', key: 'sk-team-a-123456' }, { name: 'team-b', key: 'sk-team-b-123456' }]
    const p = await spyingProxy(testConfigFile({ Keys: keys, Cache: { enabled: true } }))
    const ask = async (key: string) => {
      const r = await p.post('/v1/messages', anthropicBody('oai,mock-o'), { 'x-api-key': key })
      const h = r.headers.get('x-switchyard-cache')
      await r.text()
      await new Promise((res) => setTimeout(res, 5))
      return h
    }
    assert.deepEqual([
      await ask('sk-team-a-123456'),
      await ask('sk-team-b-123456'),
      await ask('sk-team-a-123456'),
      await ask('sk-team-b-123456'),
    ], ['miss', 'miss', 'hit', 'hit'])
    assert.equal(calls(p), 2)
    await p.close()
  })

  it('errors, broken streams and streams without their terminal event are never stored', async () => {
    // Continuation off: each broken stream stays broken (one upstream call per request).
    const p = await spyingProxy(
      testConfigFile({ Cache: { enabled: true } }, {
        fallbackToOtherTiers: false,
        tierRetries: { default: { max_retries: 0 } },
        continueStreams: false,
      }),
    )
    for (const model of ['oai,mock-o:status=500', 'oai,mock-o:cut=2', 'anth,mock-a:cut=3', 'anth,mock-a:noterm']) {
      const before = calls(p)
      for (let i = 0; i < 2; i++) {
        const r = await p.post('/v1/messages', anthropicBody(model, { stream: !model.includes('status') }))
        assert.notEqual(r.headers.get('x-switchyard-cache'), 'hit', model)
        await r.text()
        await new Promise((res) => setTimeout(res, 5))
      }
      assert.equal(calls(p) - before, 2, `${model} went upstream both times`)
    }
    await p.close()
  })

  it('a stream completed by a continuation is never stored: the next request goes upstream again', async () => {
    const p = await spyingProxy(testConfigFile({ Cache: { enabled: true } }, { fallbackToOtherTiers: false }))
    for (let i = 0; i < 2; i++) {
      const r = await p.post('/v1/messages', anthropicBody('anth,mock-a:cut=4', { stream: true }))
      assert.notEqual(r.headers.get('x-switchyard-cache'), 'hit')
      assert.match(await r.text(), /message_stop/)
      await new Promise((res) => setTimeout(res, 5))
    }
    assert.equal(calls(p), 4, 'each request: the cut try and its continuation')
    await p.close()
  })

  it('hit ratio, tokens and cost saved in /v1/usage; lookups in /metrics; cache_control passes through untouched', async () => {
    const file = testConfigFile({ Cache: { enabled: true } })
    ;(file.Providers as Record<string, unknown>[])[1]!.pricing = { input_per_million: 1, output_per_million: 2 }
    const p = await spyingProxy(file)
    const b = anthropicBody('oai,mock-o', {
      system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
    })
    for (let i = 0; i < 3; i++) {
      await (await p.post('/v1/messages', b)).text()
      await new Promise((r) => setTimeout(r, 5))
    }
    const u = (await (await p.app.request('/v1/usage')).json()) as {
      cache: { hits: number; misses: number; hitRatio: number; outputTokensSaved: number; costSavedUsd: number }
      total: { requests: number }
    }
    assert.equal(u.cache.hits, 2)
    assert.equal(u.cache.misses, 1)
    assert.ok(Math.abs(u.cache.hitRatio - 2 / 3) < 1e-9)
    assert.equal(u.cache.outputTokensSaved, 20)
    assert.ok(u.cache.costSavedUsd > 0)
    const metrics = await (await p.app.request('/metrics')).text()
    assert.match(metrics, /switchyard_response_cache_total\{result="hit"\} 2/)
    await p.close()
  })
})
