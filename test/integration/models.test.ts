/**
 * `GET /v1/models` and `GET /v1/models/{id}` in the shape of the client that asks: OpenAI's list
 * for openai-node, Anthropic's paged list for the Anthropic SDK (and Claude Code's gateway model
 * discovery, which sends `anthropic-version` and reads `data[].id`).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { testProxy, viaApp } from './helpers.ts'

const IDS = ['anth,claude-up', 'anth,mock-a', 'oai,gpt-up', 'oai,mock-o']

describe('GET /v1/models in the shape of the client that asks', () => {
  it('openai-node: models.list lists every provider,model; retrieve finds one by id or bare name', async () => {
    const p = await testProxy()
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://switchyard.test/v1', fetch: viaApp(p), maxRetries: 0 })
    const ids: string[] = []
    for await (const m of client.models.list()) ids.push(m.id)
    assert.deepEqual(ids.sort(), IDS)
    const one = await client.models.retrieve('oai,mock-o')
    assert.deepEqual({ ...one }, { id: 'oai,mock-o', object: 'model', created: 0, owned_by: 'oai' })
    assert.equal((await client.models.retrieve('gpt-up')).id, 'oai,gpt-up')
    await assert.rejects(
      client.models.retrieve('nope'),
      (e: unknown) => e instanceof OpenAI.NotFoundError && /model_id: 'nope'/.test(e.message),
    )
    await p.close()
  })

  it('Anthropic SDK: models.list pages with after_id until has_more is false; retrieve and its 404', async () => {
    const p = await testProxy()
    const client = new Anthropic({ apiKey: 'k', baseURL: 'http://switchyard.test', fetch: viaApp(p), maxRetries: 0 })
    const seen: Anthropic.ModelInfo[] = []
    for await (const m of client.models.list({ limit: 3 })) seen.push(m)
    assert.deepEqual(seen.map((m) => m.id).sort(), IDS, 'two pages of at most 3, every model once')
    assert.deepEqual(seen.find((m) => m.id === 'anth,mock-a'), {
      type: 'model',
      id: 'anth,mock-a',
      display_name: 'mock-a (anth)',
      created_at: '1970-01-01T00:00:00Z',
    })
    assert.equal((await client.models.retrieve('anth,claude-up')).display_name, 'claude-up (anth)')
    await assert.rejects(
      client.models.retrieve('nope'),
      (e: unknown) => e instanceof Anthropic.NotFoundError && /model_id: 'nope'/.test(e.message),
    )
    await p.close()
  })

  it('Anthropic shape: before_id pages backwards; a bad limit or an unknown cursor is a 400 in that shape, naming it', async () => {
    const p = await testProxy()
    const get = (query: string) =>
      p.app.request(`/v1/models${query}`, { headers: { 'anthropic-version': '2023-06-01' } })
    const all = await (await get('?limit=1000')).json() as { data: { id: string }[]; has_more: boolean }
    assert.equal(all.data.length, IDS.length)
    assert.equal(all.has_more, false)
    const last = all.data.at(-1)!.id
    const before = await (await get(`?limit=2&before_id=${last}`)).json() as {
      data: { id: string }[]
      has_more: boolean
      first_id: string
    }
    assert.deepEqual(before.data.map((m) => m.id), all.data.slice(-3, -1).map((m) => m.id))
    assert.equal(before.has_more, true)
    const bad: [string, string][] = [['?limit=0', 'limit'], ['?after_id=x,y', 'after_id'], [
      '?before_id=x,y',
      'before_id',
    ]]
    for (const [query, param] of bad) {
      const r = await get(query)
      assert.equal(r.status, 400, query)
      const body = await r.json() as { type: string; error: { type: string; message: string } }
      assert.equal(body.type, 'error', query)
      assert.match(body.error.message, new RegExp(`^${param}`), query)
    }
    // Without anthropic-version the same path keeps OpenAI's shape, whole.
    const openai = await (await p.app.request('/v1/models?limit=1')).json() as { object: string; data: unknown[] }
    assert.equal(openai.object, 'list')
    assert.equal(openai.data.length, IDS.length)
    await p.close()
  })
})
