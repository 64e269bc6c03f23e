/**
 * End to end through the Hono app with the harness mock as the upstream: every client/upstream
 * pairing, JSON and SSE, routing scenarios, auth, bad input and client disconnects.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { createInstance } from '../../src/compose.ts'
import {
  anthropicBody,
  configOf,
  openaiBody,
  settled,
  spyingProxy,
  sseEvents,
  testConfigFile,
  testProxy,
} from './helpers.ts'

describe('proxy: the four client/upstream pairings', () => {
  for (
    const [client, model, upstream] of [
      ['anthropic', 'anth,mock-a', 'anthropic'],
      ['anthropic', 'oai,mock-o', 'openai'],
      ['openai', 'anth,mock-a', 'anthropic'],
      ['openai', 'oai,mock-o', 'openai'],
    ] as const
  ) {
    it(`${client} client → ${upstream} upstream, JSON: text arrives with usage`, async () => {
      const p = await testProxy()
      const path = client === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'
      const body = client === 'anthropic' ? anthropicBody(`${model}:chunks=3`) : openaiBody(`${model}:chunks=3`)
      const res = await p.post(path, body)
      assert.equal(res.status, 200)
      const json = (await res.json()) as Record<string, unknown>
      if (client === 'anthropic') {
        const content = json.content as { type: string; text?: string }[]
        assert.match(content.find((b) => b.type === 'text')?.text ?? '', /\[0001\].*\[0002\].*\[0003\]/s)
        assert.equal((json.usage as { output_tokens: number }).output_tokens, 3)
      } else {
        const msg = (json.choices as { message: { content: string } }[])[0]!.message
        assert.match(msg.content, /\[0001\].*\[0003\]/s)
        assert.equal((json.usage as { completion_tokens: number }).completion_tokens, 3)
      }
      assert.match(res.headers.get('x-switchyard-route') ?? '', new RegExp(`^explicit ${model}:chunks=3; tier=`))
      await p.close()
    })

    it(`${client} client → ${upstream} upstream, SSE: every chunk in order and one terminal event`, async () => {
      const p = await testProxy()
      const path = client === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'
      const body = client === 'anthropic'
        ? anthropicBody(`${model}:chunks=5`, { stream: true })
        : openaiBody(`${model}:chunks=5`, { stream: true, stream_options: { include_usage: true } })
      const res = await p.post(path, body)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
      const events = sseEvents(await res.text())
      const text = events.map((e) => e.data).join('')
      for (let i = 1; i <= 5; i++) assert.ok(text.includes(`[000${i}]`), `chunk ${i} missing`)
      assert.ok(text.indexOf('[0001]') < text.indexOf('[0005]'))
      if (client === 'anthropic') {
        assert.equal(events[0]?.event, 'message_start')
        assert.equal(events.filter((e) => e.event === 'message_stop').length, 1)
        assert.equal(events.at(-1)?.event, 'message_stop')
      } else {
        assert.equal(events.filter((e) => e.data === '[DONE]').length, 1)
        assert.equal(events.at(-1)?.data, '[DONE]')
        const usage = events.map((e) => e.data).filter((d) => d.includes('"usage":{'))
        assert.ok(usage.length >= 1, 'usage chunk present')
      }
      await p.close()
    })
  }
})

describe('proxy: routing scenarios', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['default', anthropicBody('claude-sonnet-4'), /^default oai,gpt-up/],
    ['background (haiku)', anthropicBody('claude-3-5-haiku-latest'), /^background anth,mock-a/],
    [
      'think',
      anthropicBody('claude-sonnet-4', { thinking: { type: 'enabled', budget_tokens: 2048 } }),
      /^think anth,claude-up/,
    ],
    [
      'longContext',
      anthropicBody('claude-sonnet-4', { messages: [{ role: 'user', content: 'word '.repeat(70_000) }] }),
      /^longContext oai,mock-o/,
    ],
    [
      'subagent tag in system[2]',
      anthropicBody('claude-sonnet-4', {
        system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }, {
          type: 'text',
          text: '<CCR-SUBAGENT-MODEL>anth,mock-a</CCR-SUBAGENT-MODEL> do it',
        }],
      }),
      /^subagent anth,mock-a/,
    ],
  ]
  for (const [name, body, route] of cases) {
    it(`${name} is chosen and shown in x-switchyard-route`, async () => {
      const p = await testProxy()
      const res = await p.post('/v1/messages', body)
      assert.equal(res.status, 200, await res.clone().text())
      assert.match(res.headers.get('x-switchyard-route') ?? '', route)
      await p.close()
    })
  }

  it('strips the subagent tag before the upstream sees the prompt', async () => {
    const spy = await spyingProxy()
    const seen = spy.seen
    const body = anthropicBody('claude-sonnet-4', {
      system: [{ type: 'text', text: 'x' }, {
        type: 'text',
        text: '<CCR-SUBAGENT-MODEL>anth,mock-a</CCR-SUBAGENT-MODEL>rest',
      }],
    })
    const res = await spy.post('/v1/messages', body)
    assert.equal(res.status, 200)
    assert.equal(seen.length, 1)
    assert.ok(!seen[0]!.body.includes('CCR-SUBAGENT-MODEL'), 'tag removed upstream')
    assert.ok(seen[0]!.body.includes('rest'), 'the rest of the prompt kept')
  })

  it('a bare model id listed by exactly one provider routes there on /v1/chat/completions', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/chat/completions', openaiBody('mock-o'))
    assert.equal(res.status, 200)
    assert.match(res.headers.get('x-switchyard-route') ?? '', /^explicit oai,mock-o/)
    await p.close()
  })
})

describe('proxy: bad input gets a 4xx in the client format and the server keeps serving', () => {
  it('malformed JSON on /v1/messages → 400 invalid_request_error (Anthropic shape)', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/messages', '{"model": "x", ')
    assert.equal(res.status, 400)
    const body = (await res.json()) as { type: string; error: { type: string; message: string } }
    assert.equal(body.type, 'error')
    assert.equal(body.error.type, 'invalid_request_error')
    assert.match(body.error.message, /JSON/i)
    assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a'))).status, 200)
    await p.close()
  })

  it('media type and empty bodies: each refusal names what is wrong, once', async () => {
    const p = await testProxy()
    const body = JSON.stringify(anthropicBody('anth,mock-a'))
    const send = (headers: Record<string, string>, b?: string) =>
      p.app.request('/v1/messages', { method: 'POST', headers, ...(b === undefined ? {} : { body: b }) })
    const message = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message
    // A body that is not declared JSON (or not declared at all) is refused, naming the header and what it held.
    // (Deno's `Request` gives a string body without a header the Fetch default, text/plain.)
    const refusals = [
      [
        { 'content-type': 'text/plain; charset=utf-8' },
        /^content-type: expected application\/json, received text\/plain$/,
      ],
      [{}, /^content-type: expected application\/json, received (none|text\/plain)$/],
    ] as const
    for (const [headers, expected] of refusals) {
      const res = await send(headers, body)
      assert.equal(res.status, 400)
      assert.match(await message(res), expected)
    }
    // No content-type and no body: validated as `{}`, so each missing field is named.
    const empty = await send({})
    assert.equal(empty.status, 400)
    assert.match(await message(empty), /^model: .*messages: .*max_tokens: /)
    const blank = await send({ 'content-type': 'application/json' }, '')
    assert.equal(await message(blank), 'body: empty, expected a JSON object')
    // Malformed JSON: the parser's own words (they differ between Bun and Deno), said once.
    const broken = await send({ 'content-type': 'application/json' }, '{"model": "x", ')
    const said = await message(broken)
    assert.match(said, /^body: malformed JSON \(.+\)$/)
    assert.doesNotMatch(said, /Malformed JSON in request body/)
    const array = await send({ 'content-type': 'application/json' }, '[1]')
    assert.equal(await message(array), 'body: Invalid input: expected object, received array')
    // JSON with parameters or a structured suffix is JSON.
    for (const type of ['application/json; charset=utf-8', 'application/vnd.x+json']) {
      assert.equal((await send({ 'content-type': type }, body)).status, 200, type)
    }
    await p.close()
  })

  it('wrong type names the field: max_tokens as a string → 400 naming max_tokens', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/messages', anthropicBody('anth,mock-a', { max_tokens: 'lots' }))
    assert.equal(res.status, 400)
    const body = (await res.json()) as { error: { message: string } }
    assert.match(body.error.message, /max_tokens/)
    await p.close()
  })

  it('wrong type on /v1/chat/completions → 400 in OpenAI shape with param', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/chat/completions', { model: 'oai,gpt-up', messages: 'hi' })
    assert.equal(res.status, 400)
    const body = (await res.json()) as { error: { message: string; type: string; param: string | null } }
    assert.equal(body.error.param, 'messages')
    assert.match(body.error.message, /messages/)
    await p.close()
  })

  it('unknown provider → 404 naming it and the configured ones', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/messages', anthropicBody('nope,model'))
    assert.equal(res.status, 404)
    const body = (await res.json()) as { error: { type: string; message: string } }
    assert.equal(body.error.type, 'not_found_error')
    assert.match(body.error.message, /"nope"/)
    assert.match(body.error.message, /anth/)
    await p.close()
  })

  it('unknown route → 404 in the client format', async () => {
    const p = await testProxy()
    const res = await p.app.request('/v1/nothing')
    assert.equal(res.status, 404)
    assert.equal(((await res.json()) as { type: string }).type, 'error')
    await p.close()
  })

  it('passes unknown fields and the ?beta=true query through to an Anthropic upstream', async () => {
    const spy = await spyingProxy()
    const seen = spy.seen
    const res = await spy.post('/v1/messages?beta=true', anthropicBody('anth,mock-a', { some_future_field: { a: 1 } }))
    assert.equal(res.status, 200)
    assert.match(seen[0]!.url, /\?beta=true$/)
    assert.deepEqual(JSON.parse(seen[0]!.body).some_future_field, { a: 1 })
  })
})

describe('proxy: upstream errors', () => {
  it('an upstream 400 reaches an OpenAI client with its status in OpenAI shape and is not retried', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/chat/completions', openaiBody('anth,mock-a:status=400:invalid'))
    assert.equal(res.status, 400)
    const body = (await res.json()) as { error: { message: string } }
    assert.ok(body.error.message.length > 0)
    assert.equal(p.mock.attempts().length, 1)
    await p.close()
  })

  it('an Anthropic "prompt is too long" 400 goes to the Router longContext target', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/messages', anthropicBody('anth,mock-a:status=400'))
    assert.equal(res.status, 200)
    assert.match(res.headers.get('x-switchyard-route') ?? '', /oai,mock-o/)
    await res.text()
    await p.close()
  })

  it('with continueStreams off, a stream cut mid-way ends with a well-formed in-stream error, never a fake message_stop', async () => {
    const p = await testProxy(testConfigFile({}, { continueStreams: false }))
    const res = await p.post('/v1/messages', anthropicBody('oai,mock-o:chunks=10:cut=4', { stream: true }))
    assert.equal(res.status, 200)
    const events = sseEvents(await res.text())
    assert.equal(events.at(-1)?.event, 'error')
    assert.equal(events.filter((e) => e.event === 'message_stop').length, 0)
    await p.close()
  })
})

describe('proxy: auth', () => {
  it('with APIKEY set, a missing key is a 401 and the right key (either header) passes; /health stays public', async () => {
    const p = await testProxy(testConfigFile({ APIKEY: 'top-secret-key' }))
    assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a'))).status, 401)
    assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a'), { 'x-api-key': 'wrong' })).status, 401)
    assert.equal(
      (await p.post('/v1/messages', anthropicBody('anth,mock-a'), { 'x-api-key': 'top-secret-key' })).status,
      200,
    )
    assert.equal(
      (await p.post('/v1/chat/completions', openaiBody('oai,mock-o'), { authorization: 'Bearer top-secret-key' }))
        .status,
      200,
    )
    const unauth = await p.post('/v1/chat/completions', openaiBody('oai,mock-o'))
    assert.equal(unauth.status, 401)
    assert.ok('error' in ((await unauth.json()) as object))
    assert.equal((await p.app.request('/health')).status, 200)
    await p.close()
  })
})

describe('proxy: client disconnect', () => {
  it('cancelling the response body aborts the upstream request', async () => {
    const p = await testProxy()
    const res = await p.post('/v1/messages', anthropicBody('anth,mock-a:chunks=50:delay=20', { stream: true }))
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    // The abort reaches the mock asynchronously: wait for it (bounded) rather than a fixed 100 ms.
    await settled(() => p.mock.attempts()[0]?.outcome === 'aborted')
    const a = p.mock.attempts()
    assert.equal(a.length, 1)
    assert.equal(a[0]!.outcome, 'aborted')
    await p.close()
  })
})

describe('proxy: models and count_tokens', () => {
  it('GET /v1/models lists every configured provider,model', async () => {
    const p = await testProxy()
    const body = (await (await p.app.request('/v1/models')).json()) as { object: string; data: { id: string }[] }
    assert.equal(body.object, 'list')
    assert.deepEqual(body.data.map((d) => d.id).sort(), ['anth,claude-up', 'anth,mock-a', 'oai,gpt-up', 'oai,mock-o'])
    await p.close()
  })

  it('count_tokens grows with the prompt', async () => {
    const p = await testProxy()
    const count = async (text: string) =>
      ((await (await p.post('/v1/messages/count_tokens', { model: 'x', messages: [{ role: 'user', content: text }] }))
        .json()) as { input_tokens: number }).input_tokens
    const small = await count('hello')
    const big = await count('hello world '.repeat(100))
    assert.ok(small > 0 && big > small + 100)
    await p.close()
  })
})

describe('proxy: odd upstream content types', () => {
  it('a streamed answer sent as text/plain (or with no content-type) is still read as SSE', async () => {
    const mock = createMockUpstream()
    const built = await createInstance(configOf(testConfigFile()), {
      dataDir: ':memory:',
      fetch: async (req) => {
        const res = await mock.fetch(req)
        const headers = new Headers(res.headers)
        headers.set('content-type', 'text/plain')
        return new Response(res.body, { status: res.status, headers })
      },
    })
    const res = await built.app.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(anthropicBody('oai,mock-o:chunks=3', { stream: true })),
    })
    assert.equal(res.status, 200)
    const events = sseEvents(await res.text())
    assert.equal(events.at(-1)?.event, 'message_stop')
    await built.close()
  })
})

describe('proxy: an upstream that ignores stream: true', () => {
  for (
    const [client, path, model] of [['anthropic', '/v1/messages', 'oai,mock-o:chunks=3'], [
      'openai',
      '/v1/chat/completions',
      'anth,mock-a:chunks=3',
    ]] as const
  ) {
    it(`answers a streaming ${client} client with a complete stream built from the JSON answer`, async () => {
      const mock = createMockUpstream()
      const built = await createInstance(configOf(testConfigFile()), {
        dataDir: ':memory:',
        // The upstream answers every request as if stream were false.
        fetch: async (req) =>
          mock.fetch(
            new Request(req.url, {
              method: 'POST',
              headers: req.headers,
              body: JSON.stringify({ ...(await req.json()) as object, stream: false }),
            }),
          ),
      })
      const body = client === 'anthropic' ? anthropicBody(model, { stream: true }) : openaiBody(model, { stream: true })
      const res = await built.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
      const events = sseEvents(await res.text())
      const text = events.map((e) => e.data).join('')
      assert.ok(text.includes('[0003]'))
      if (client === 'anthropic') assert.equal(events.at(-1)?.event, 'message_stop')
      else assert.equal(events.at(-1)?.data, '[DONE]')
      await built.close()
    })
  }
})

describe('proxy: what one format cannot carry', () => {
  it('n > 1 is refused for an Anthropic target (400 naming n) but served by an OpenAI one', async () => {
    const p = await testProxy(testConfigFile({}, { fallbackToOtherTiers: false }))
    const refused = await p.post('/v1/chat/completions', openaiBody('anth,mock-a', { n: 2 }))
    assert.equal(refused.status, 400)
    const body = (await refused.json()) as { error: { param: string | null; message: string } }
    assert.equal(body.error.param, 'n')
    assert.equal(p.mock.attempts().length, 0, 'nothing was sent upstream')
    assert.equal((await p.post('/v1/chat/completions', openaiBody('oai,mock-o', { n: 2 }))).status, 200)
    await p.close()
  })
})
