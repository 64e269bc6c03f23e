/**
 * Request deduplication through the app: identical concurrent non-streaming requests share
 * one upstream call; opt-in by header or Router.dedup; never across API keys; a caller that
 * leaves does not cancel the others.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { hardenedProxy } from '../fixtures/hardened-proxy.ts'

const DEDUP = { 'x-switchyard-dedup': '1' }
/** The mock answers after 150 ms: long enough for every concurrent caller to arrive first. */
const slow = (model = 'anth,mock-a') => anthropicBody(`${model}:ttft=150:chunks=4`)
const textOf = async (res: Response) => ((await res.json()) as { content: { text: string }[] }).content[0]!.text

describe('dedup', () => {
  it('50 identical concurrent requests → 1 upstream attempt, and all 50 get the full answer', async () => {
    const p = await hardenedProxy()
    const responses = await Promise.all(Array.from({ length: 50 }, () => p.post('/v1/messages', slow(), DEDUP)))
    assert.equal(p.mock.attempts().length, 1)
    const texts = await Promise.all(responses.map(textOf))
    assert.deepEqual(responses.map((r) => r.status), Array(50).fill(200))
    for (const t of texts) assert.match(t, /\[0001\].*\[0004\]/s)
    assert.equal(new Set(texts).size, 1)
    assert.equal(responses.filter((r) => r.headers.get('x-switchyard-dedup') === 'shared').length, 49)
    await p.close()
  })

  it('Router.dedup turns it on without the header, for OpenAI clients too; key order does not matter', async () => {
    const p = await hardenedProxy(testConfigFile({}, { dedup: true }))
    const a = openaiBody('oai,mock-o:ttft=150', { temperature: 0.2, max_tokens: 50 })
    const b = { max_tokens: 50, temperature: 0.2, messages: a.messages, model: a.model }
    const res = await Promise.all([
      p.post('/v1/chat/completions', a),
      p.post('/v1/chat/completions', b),
      p.post('/v1/chat/completions', a),
    ])
    assert.deepEqual(res.map((r) => r.status), [200, 200, 200])
    assert.equal(p.mock.attempts().length, 1)
    await p.close()
  })

  it('without opt-in, or with stream: true, or different bodies, every request goes upstream', async () => {
    const p = await hardenedProxy()
    await Promise.all(Array.from({ length: 4 }, () => p.post('/v1/messages', slow())))
    assert.equal(p.mock.attempts().length, 4)
    const streams = await Promise.all(
      Array.from({ length: 3 }, () => p.post('/v1/messages', { ...slow(), stream: true }, DEDUP)),
    )
    await Promise.all(streams.map((r) => r.text()))
    assert.equal(p.mock.attempts().length, 7)
    await Promise.all([
      p.post('/v1/messages', slow(), DEDUP),
      p.post('/v1/messages', { ...slow(), max_tokens: 9 }, DEDUP),
    ])
    assert.equal(p.mock.attempts().length, 9)
    await p.close()
  })

  it('no sharing across API keys', async () => {
    const p = await hardenedProxy()
    const keys = ['key-a', 'key-b', 'key-a', 'key-b', 'key-c']
    const res = await Promise.all(keys.map((k) => p.post('/v1/messages', slow(), { ...DEDUP, 'x-api-key': k })))
    assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 200, 200])
    assert.equal(p.mock.attempts().length, 3)
    await p.close()
  })

  it('the first caller disconnecting does not cancel the shared upstream call', async () => {
    const p = await hardenedProxy()
    const leader = new AbortController()
    const first = p.post('/v1/messages', slow(), DEDUP, leader.signal)
    await new Promise((r) => setTimeout(r, 20))
    const others = [p.post('/v1/messages', slow(), DEDUP), p.post('/v1/messages', slow(), DEDUP)]
    await new Promise((r) => setTimeout(r, 20))
    leader.abort()
    const res = await Promise.all(others)
    await first.catch(() => undefined)
    assert.deepEqual(res.map((r) => r.status), [200, 200])
    for (const r of res) assert.match(await textOf(r), /\[0004\]/)
    assert.equal(p.mock.attempts().length, 1)
    assert.equal(p.mock.attempts()[0]!.outcome, 'ok')
    await p.close()
  })

  it('an upstream error is shared too: every caller gets it in its own format', async () => {
    const p = await hardenedProxy()
    const res = await Promise.all(
      Array.from(
        { length: 5 },
        () => p.post('/v1/messages', anthropicBody('anth,mock-a:ttft=100:status=400:invalid'), DEDUP),
      ),
    )
    assert.deepEqual(res.map((r) => r.status), [400, 400, 400, 400, 400])
    for (const r of res) assert.equal(((await r.json()) as { type: string }).type, 'error')
    assert.equal(p.mock.attempts().length, 1)
    await p.close()
  })
})
