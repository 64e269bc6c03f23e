/**
 * Request deduplication through the app: identical concurrent non-streaming requests share
 * one upstream call; opt-in by header or Router.dedup; never across API keys; a caller that
 * leaves does not cancel the others.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, openaiBody, settled, testConfigFile } from './helpers.ts'
import { hardenedProxy } from '../fixtures/hardened-proxy.ts'
import { Dedup, type DedupRunner } from '../../src/middleware/dedup.ts'
import { untilAborted } from '../../src/demo/mock/stream.ts'

const DEDUP = { 'x-switchyard-dedup': '1' }
/** A slow non-streaming answer in four chunks (held by `heldUpstream` until every caller is in). */
const slow = (model = 'anth,mock-a') => anthropicBody(`${model}:ttft=150:chunks=4`)
const textOf = async (res: Response) => ((await res.json()) as { content: { text: string }[] }).content[0]!.text

/**
 * The real `Dedup`, counting the callers that reached it (`run` registers a caller with its flight
 * before its first await) and those that left (after `Dedup`'s own abort listener ran), and a mock whose delays wait for `open()`: the upstream answers only
 * once every caller is in, whatever the machine's load, instead of after a guessed 150 ms.
 */
function heldUpstream() {
  const inner = new Dedup()
  let open!: () => void
  const opened = new Promise<void>((r) => open = r)
  const held = {
    joined: 0,
    left: 0,
    open,
    dedup: {
      run: (key, signal, work) => {
        held.joined++
        const answer = inner.run(key, signal, work)
        signal.addEventListener('abort', () => held.left++, { once: true })
        return answer
      },
    } satisfies DedupRunner,
    // Like the real sleep, a delay ends early when the upstream request is aborted.
    mock: { sleep: (_ms: number, signal: AbortSignal) => Promise.race([opened, untilAborted(signal)]) },
  }
  return held
}

describe('dedup', () => {
  it('50 identical concurrent requests → 1 upstream attempt, and all 50 get the full answer', async () => {
    const held = heldUpstream()
    const p = await hardenedProxy(testConfigFile(), { dedup: held.dedup, mock: held.mock })
    const pending = Array.from({ length: 50 }, () => p.post('/v1/messages', slow(), DEDUP))
    await settled(() => held.joined === 50)
    held.open()
    const responses = await Promise.all(pending)
    assert.equal(p.mock.attempts().length, 1)
    const texts = await Promise.all(responses.map(textOf))
    assert.deepEqual(responses.map((r) => r.status), Array(50).fill(200))
    for (const t of texts) assert.match(t, /\[0001\].*\[0004\]/s)
    assert.equal(new Set(texts).size, 1)
    assert.equal(responses.filter((r) => r.headers.get('x-switchyard-dedup') === 'shared').length, 49)
    await p.close()
  })

  it('Router.dedup turns it on without the header, for OpenAI clients too; key order does not matter', async () => {
    const held = heldUpstream()
    const p = await hardenedProxy(testConfigFile({}, { dedup: true }), { dedup: held.dedup, mock: held.mock })
    const a = openaiBody('oai,mock-o:ttft=150', { temperature: 0.2, max_tokens: 50 })
    const b = { max_tokens: 50, temperature: 0.2, messages: a.messages, model: a.model }
    const pending = [
      p.post('/v1/chat/completions', a),
      p.post('/v1/chat/completions', b),
      p.post('/v1/chat/completions', a),
    ]
    await settled(() => held.joined === 3)
    held.open()
    const res = await Promise.all(pending)
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
    const held = heldUpstream()
    const p = await hardenedProxy(testConfigFile(), { dedup: held.dedup, mock: held.mock })
    const keys = ['key-a', 'key-b', 'key-a', 'key-b', 'key-c']
    const pending = keys.map((k) => p.post('/v1/messages', slow(), { ...DEDUP, 'x-api-key': k }))
    await settled(() => held.joined === 5)
    held.open()
    const res = await Promise.all(pending)
    assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 200, 200])
    assert.equal(p.mock.attempts().length, 3)
    await p.close()
  })

  it('the first caller disconnecting does not cancel the shared upstream call', async () => {
    const held = heldUpstream()
    const p = await hardenedProxy(testConfigFile(), { dedup: held.dedup, mock: held.mock })
    const leader = new AbortController()
    const first = p.post('/v1/messages', slow(), DEDUP, leader.signal)
    await settled(() => held.joined === 1)
    const others = [p.post('/v1/messages', slow(), DEDUP), p.post('/v1/messages', slow(), DEDUP)]
    await settled(() => held.joined === 3)
    // The leader leaves (and Dedup has seen it) while the shared upstream call is still held open.
    leader.abort()
    await settled(() => held.left === 1)
    held.open()
    const res = await Promise.all(others)
    await first.catch(() => undefined)
    assert.deepEqual(res.map((r) => r.status), [200, 200])
    for (const r of res) assert.match(await textOf(r), /\[0004\]/)
    assert.equal(p.mock.attempts().length, 1)
    assert.equal(p.mock.attempts()[0]!.outcome, 'ok')
    await p.close()
  })

  it('an upstream error is shared too: every caller gets it in its own format', async () => {
    const held = heldUpstream()
    const p = await hardenedProxy(testConfigFile(), { dedup: held.dedup, mock: held.mock })
    const pending = Array.from(
      { length: 5 },
      () => p.post('/v1/messages', anthropicBody('anth,mock-a:ttft=100:status=400:invalid'), DEDUP),
    )
    await settled(() => held.joined === 5)
    held.open()
    const res = await Promise.all(pending)
    assert.deepEqual(res.map((r) => r.status), [400, 400, 400, 400, 400])
    for (const r of res) assert.equal(((await r.json()) as { type: string }).type, 'error')
    assert.equal(p.mock.attempts().length, 1)
    await p.close()
  })
})
