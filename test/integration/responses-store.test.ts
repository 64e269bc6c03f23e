/**
 * The kept Responses answers, read back as the Responses API offers them: `GET` and `DELETE
 * /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`, and `item_reference` input items,
 * through raw requests and through openai-node (`responses.retrieve`, `.delete`,
 * `.inputItems.list`).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import type { JsonObject } from '../../src/formats/types.ts'
import { spyingProxy, sseEvents, testConfigFile, viaApp } from './helpers.ts'

type Proxy = Awaited<ReturnType<typeof spyingProxy>>

/** The usual two mock providers, and one that speaks the Responses API. */
const withResponsesUpstream = testConfigFile({
  Providers: [
    ...testConfigFile().Providers as object[],
    { name: 'resp', api_base_url: 'http://mock.test/v1/responses', api_key: 'sk-resp-secret-4', models: ['mock-r'] },
  ],
})

const get = (p: Proxy, path: string, method = 'GET') => p.app.request(path, { method })

const sdk = (p: Proxy) =>
  new OpenAI({ apiKey: 'client-key', baseURL: 'http://switchyard.test/v1', maxRetries: 0, fetch: viaApp(p) })

/** Waits until the answer is stored (the JSON one is saved from a clone, off the response's path). */
async function stored(p: Proxy, id: string): Promise<JsonObject> {
  for (let i = 0; i < 100; i++) {
    const r = await get(p, `/v1/responses/${id}`)
    if (r.status === 200) return await r.json() as JsonObject
    await r.body?.cancel()
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`${id} was not stored`)
}

describe('GET / DELETE /v1/responses/{id} and its input items', () => {
  it('a JSON answer reads back as it was sent, and replays as its event stream', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const sent = await (await p.post('/v1/responses', { model: 'anth,mock-a:chunks=3', input: 'hello' })).json() as {
      id: string
      output: JsonObject[]
    }
    assert.deepEqual(await stored(p, sent.id), sent)
    const replay = await get(p, `/v1/responses/${sent.id}?stream=true`)
    assert.equal(replay.headers.get('content-type'), 'text/event-stream')
    const events = sseEvents(await replay.text()).map((e) => JSON.parse(e.data) as JsonObject)
    assert.equal(events[0]?.type, 'response.created')
    const done = events.at(-1) as { type: string; response: JsonObject }
    assert.equal(done.type, 'response.completed')
    assert.deepEqual(done.response.output, sent.output)
    const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')
    assert.match(text, /\[0001\].*\[0003\]/s)
    // starting_after skips the events up to that sequence number.
    const rest = sseEvents(await (await get(p, `/v1/responses/${sent.id}?stream=true&starting_after=2`)).text())
      .map((e) => (JSON.parse(e.data) as { sequence_number: number }).sequence_number)
    assert.deepEqual(rest, events.map((e) => e.sequence_number).filter((n) => Number(n) > 2))
    await p.close()
  })

  it('a streamed answer is kept as the completed response the stream ended with', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const sse = await (await p.post('/v1/responses', { model: 'anth,mock-a:chunks=2', input: 'hi', stream: true }))
      .text()
    const completed = sseEvents(sse).map((e) => JSON.parse(e.data) as JsonObject).find((e) =>
      e.type === 'response.completed'
    ) as { response: JsonObject & { id: string } }
    assert.deepEqual(await stored(p, completed.response.id), completed.response)
    await p.close()
  })

  it('input items: newest first by default, ids derived for id-less items, paged by limit and after', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const first = await (await p.post('/v1/responses', { model: 'anth,mock-a:chunks=1', input: 'one' })).json() as {
      id: string
      output: { id: string }[]
    }
    await stored(p, first.id)
    const second = await (await p.post('/v1/responses', {
      model: 'anth,mock-a:chunks=1',
      previous_response_id: first.id,
      input: [{ role: 'user', content: 'two' }, { type: 'message', role: 'user', id: 'msg_client', content: 'three' }],
    })).json() as { id: string }
    await stored(p, second.id)
    const list = async (query = '') =>
      await (await get(p, `/v1/responses/${second.id}/input_items${query}`)).json() as {
        data: JsonObject[]
        first_id: string
        last_id: string
        has_more: boolean
      }
    const all = await list('?order=asc')
    // The stored history (the first input, the first answer's message), then this request's two.
    assert.deepEqual(all.data.map((i) => i.id), [
      `item_${second.id.slice(5)}_0`,
      first.output[0]!.id,
      `item_${second.id.slice(5)}_2`,
      'msg_client',
    ])
    assert.deepEqual(all.data[2]?.content, [{ type: 'input_text', text: 'two' }], 'a string content as one text part')
    assert.equal(all.data[2]?.type, 'message')
    assert.equal(all.has_more, false)
    const newest = await list()
    assert.deepEqual(newest.data.map((i) => i.id), all.data.map((i) => i.id).reverse())
    const page1 = await list('?order=asc&limit=3')
    assert.equal(page1.has_more, true)
    assert.equal(page1.last_id, all.data[2]!.id)
    const page2 = await list(`?order=asc&limit=3&after=${page1.last_id}`)
    assert.deepEqual(page2.data.map((i) => i.id), ['msg_client'])
    assert.equal(page2.has_more, false)
    // Bad parameters name themselves, in the OpenAI error shape.
    for (const [query, param] of [['?limit=0', 'limit'], ['?order=up', 'order'], ['?after=msg_nope', 'after']]) {
      const r = await get(p, `/v1/responses/${second.id}/input_items${query}`)
      assert.equal(r.status, 400, query)
      const e = (await r.json() as { error: { message: string; param?: string } }).error
      assert.match(e.message, new RegExp(`^${param}`), query)
    }
    await p.close()
  })

  it('DELETE forgets an answer: reading it, listing it and continuing from it are refused afterwards', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const sent = await (await p.post('/v1/responses', { model: 'anth,mock-a:chunks=1', input: 'x' })).json() as {
      id: string
    }
    await stored(p, sent.id)
    const del = await get(p, `/v1/responses/${sent.id}`, 'DELETE')
    assert.equal(del.status, 200)
    assert.deepEqual(await del.json(), { id: sent.id, object: 'response', deleted: true })
    for (const [path, method] of [[sent.id, 'GET'], [sent.id, 'DELETE'], [`${sent.id}/input_items`, 'GET']]) {
      const r = await get(p, `/v1/responses/${path}`, method)
      assert.equal(r.status, 404, `${method} ${path}`)
      const e = (await r.json() as { error: { type: string; message: string } }).error
      assert.equal(e.type, 'not_found_error')
      assert.match(e.message, new RegExp(sent.id))
    }
    const follow = await p.post('/v1/responses', { model: 'anth,mock-a', input: 'y', previous_response_id: sent.id })
    assert.equal(follow.status, 400)
    // OpenAI's code for it: clients key on it to resend the whole conversation.
    const refused = (await follow.json() as { error: { param: string; code: string } }).error
    assert.deepEqual([refused.param, refused.code], ['previous_response_id', 'previous_response_not_found'])
    await p.close()
  })
})

describe('item_reference', () => {
  it('is replaced by the kept item, so another format gets the whole conversation', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const first = await (await p.post('/v1/responses', { model: 'anth,mock-a:chunks=2', input: 'the word is kiwi' }))
      .json() as { id: string; output: { id: string; content: { text: string }[] }[] }
    await stored(p, first.id)
    const answer = first.output[0]!
    const r = await p.post('/v1/responses', {
      model: 'anth,mock-a:chunks=1',
      input: [
        { type: 'item_reference', id: `item_${first.id.slice(5)}_0` },
        { type: 'item_reference', id: answer.id },
        { role: 'user', content: 'which word?' },
      ],
    })
    assert.equal(r.status, 200, await r.clone().text())
    await r.text()
    const up = JSON.parse(p.seen.at(-1)!.body) as { messages: { role: string; content: unknown }[] }
    assert.deepEqual(up.messages.map((m) => m.role), ['user', 'assistant', 'user'])
    assert.match(JSON.stringify(up.messages[0]), /kiwi/)
    assert.match(
      JSON.stringify(up.messages[1]),
      new RegExp(answer.content[0]!.text.slice(0, 12).replace(/[[\]]/g, '\\$&')),
    )
    await p.close()
  })

  it('one the store does not hold is refused for another format, naming it, and passed on to a Responses upstream', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const input = [{ type: 'item_reference', id: 'msg_elsewhere' }, { role: 'user', content: 'go on' }]
    const refused = await p.post('/v1/responses', { model: 'anth,mock-a', input })
    assert.equal(refused.status, 400)
    const e = (await refused.json() as { error: { message: string; param: string } }).error
    assert.equal(e.param, 'input.0')
    assert.match(e.message, /^input\.0: the item_reference 'msg_elsewhere' .* an Anthropic Messages upstream/)
    const before = p.seen.length
    const passed = await p.post('/v1/responses', { model: 'resp,mock-r:chunks=1', input })
    assert.equal(passed.status, 200, await passed.clone().text())
    await passed.text()
    assert.equal(p.seen.length, before + 1)
    assert.deepEqual((JSON.parse(p.seen.at(-1)!.body) as { input: unknown }).input, input)
    await p.close()
  })
})

describe('kept answers belong to the API key that made them', () => {
  it('another named key can neither read, list, delete, continue nor reference them; the maker can', async () => {
    const p = await spyingProxy({
      ...withResponsesUpstream,
      APIKEY: 'sk-admin-0123456789',
      Keys: [{ name: 'team-a', key: 'sk-team-a-0123456789' }, { name: 'team-b', key: 'sk-team-b-0123456789' }],
    })
    const as = (key: string) => ({ authorization: `Bearer ${key}` })
    const call = (key: string, path: string, method = 'GET') => p.app.request(path, { method, headers: as(key) })
    const made = await (await p.post(
      '/v1/responses',
      { model: 'anth,mock-a:chunks=1', input: 'private words' },
      as('sk-team-a-0123456789'),
    )).json() as {
      id: string
      output: { id: string }[]
    }
    for (let i = 0; i < 100 && (await call('sk-team-a-0123456789', `/v1/responses/${made.id}`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    for (const key of ['sk-team-b-0123456789', 'sk-admin-0123456789']) {
      assert.equal((await call(key, `/v1/responses/${made.id}`)).status, 404, key)
      assert.equal((await call(key, `/v1/responses/${made.id}/input_items`)).status, 404, key)
      assert.equal((await call(key, `/v1/responses/${made.id}`, 'DELETE')).status, 404, key)
      const follow = await p.post(
        '/v1/responses',
        { model: 'anth,mock-a', input: 'x', previous_response_id: made.id },
        as(key),
      )
      assert.equal(follow.status, 400, key)
      const ref = await p.post('/v1/responses', {
        model: 'anth,mock-a',
        input: [{ type: 'item_reference', id: made.output[0]!.id }],
      }, as(key))
      assert.equal(ref.status, 400, key)
    }
    assert.equal((await call('sk-team-a-0123456789', `/v1/responses/${made.id}`)).status, 200)
    const follow = await p.post('/v1/responses', {
      model: 'anth,mock-a:chunks=1',
      input: 'more',
      previous_response_id: made.id,
    }, as('sk-team-a-0123456789'))
    assert.equal(follow.status, 200)
    await follow.text()
    assert.match(p.seen.at(-1)!.body, /private words/)
    assert.equal((await call('sk-team-a-0123456789', `/v1/responses/${made.id}`, 'DELETE')).status, 200)
    await p.close()
  })
})

describe('openai-node reads kept answers', () => {
  it('responses.retrieve, inputItems.list and delete', async () => {
    const p = await spyingProxy(withResponsesUpstream)
    const client = sdk(p)
    const made = await client.responses.create({
      model: 'anth,mock-a:chunks=2',
      input: [{ role: 'user', content: 'first part' }, { role: 'user', content: 'second part' }],
    })
    await stored(p, made.id)
    const back = await client.responses.retrieve(made.id)
    assert.equal(back.id, made.id)
    assert.equal(back.output_text, made.output_text)
    // One item a page: the SDK follows `has_more` with `after` set to the page's last id.
    const texts: string[] = []
    for await (const item of client.responses.inputItems.list(made.id, { limit: 1, order: 'asc' })) {
      texts.push(item.type === 'message' ? JSON.stringify(item.content) : item.type)
    }
    assert.equal(texts.length, 2)
    assert.match(texts[0]!, /first part/)
    assert.match(texts[1]!, /second part/)
    const deleted = await client.responses.delete(made.id) as unknown
    assert.deepEqual({ ...deleted as object }, { id: made.id, object: 'response', deleted: true })
    await assert.rejects(client.responses.retrieve(made.id), (e: unknown) => e instanceof OpenAI.NotFoundError)
    await p.close()
  })
})
