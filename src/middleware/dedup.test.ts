import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { canonicalJson, Dedup, dedupKey, type SharedAnswer } from './dedup.ts'

const answer = (text: string): SharedAnswer => ({
  status: 200,
  headers: [['content-type', 'text/plain']],
  body: new TextEncoder().encode(text),
})

/** A work function that resolves when told to, counting its runs and keeping its signal. */
function gate() {
  let release: (a: SharedAnswer) => void = () => undefined
  const state = { runs: 0, signal: undefined as AbortSignal | undefined }
  const work = (signal: AbortSignal) => {
    state.runs++
    state.signal = signal
    return new Promise<SharedAnswer>((r) => {
      release = r
    })
  }
  return { state, work, release: (a: SharedAnswer) => release(a) }
}

describe('Dedup.run', () => {
  it('concurrent callers of one key share one run and each gets the answer', async () => {
    const d = new Dedup()
    const g = gate()
    const calls = Array.from({ length: 5 }, () => d.run('k', new AbortController().signal, g.work))
    await Promise.resolve()
    g.release(answer('hi'))
    const results = await Promise.all(calls)
    assert.equal(g.state.runs, 1)
    assert.deepEqual(results.map((r) => r.shared), [false, true, true, true, true])
    for (const r of results) assert.equal(new TextDecoder().decode(r.answer.body), 'hi')
    assert.equal(d.inFlight, 0, 'nothing is kept once the work ends')
  })

  it('different keys do not share; a later call after completion runs again', async () => {
    const d = new Dedup()
    let runs = 0
    const work = async () => {
      runs++
      return answer('x')
    }
    await Promise.all([d.run('a', new AbortController().signal, work), d.run('b', new AbortController().signal, work)])
    await d.run('a', new AbortController().signal, work)
    assert.equal(runs, 3)
  })

  it('one caller leaving does not abort the shared work; the last one leaving does', async () => {
    const d = new Dedup()
    const g = gate()
    const a = new AbortController()
    const b = new AbortController()
    const pa = d.run('k', a.signal, g.work)
    const pb = d.run('k', b.signal, g.work)
    await Promise.resolve()
    a.abort()
    assert.equal(g.state.signal?.aborted, false)
    b.abort()
    assert.equal(g.state.signal?.aborted, true)
    g.release(answer('late'))
    assert.equal((await pa).answer.status, 200)
    await pb
  })

  it('a failing run rejects every caller and frees the key', async () => {
    const d = new Dedup()
    const work = () => Promise.reject(new Error('boom'))
    const r = await Promise.allSettled([
      d.run('k', new AbortController().signal, work),
      d.run('k', new AbortController().signal, work),
    ])
    assert.deepEqual(r.map((x) => x.status), ['rejected', 'rejected'])
    assert.equal(d.inFlight, 0)
  })
})

describe('dedup keys', () => {
  const json = fc.jsonValue()

  it('law: canonicalJson is invariant under key order', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), json), (obj) => {
      const reversed = Object.fromEntries(Object.entries(obj).reverse())
      assert.equal(canonicalJson(reversed), canonicalJson(obj))
    }))
  })

  it('law: canonicalJson parses back to a value with the same canonical form', () => {
    fc.assert(fc.property(json, (v) => {
      assert.equal(canonicalJson(JSON.parse(canonicalJson(v))), canonicalJson(v))
    }))
  })

  it('law: bodies with different canonical forms get different keys', () => {
    fc.assert(fc.property(json, json, (a, b) => {
      fc.pre(canonicalJson(a) !== canonicalJson(b))
      assert.notEqual(dedupKey('/v1/messages', new Headers(), a), dedupKey('/v1/messages', new Headers(), b))
    }))
  })

  it('the API key, the path and anthropic-beta are part of the key; header order is not', () => {
    const body = { model: 'm', messages: [] }
    const base = dedupKey('/v1/messages', new Headers({ 'x-api-key': 'k1' }), body)
    assert.notEqual(dedupKey('/v1/messages', new Headers({ 'x-api-key': 'k2' }), body), base)
    assert.notEqual(dedupKey('/preset/p/v1/messages', new Headers({ 'x-api-key': 'k1' }), body), base)
    assert.notEqual(dedupKey('/v1/messages', new Headers({ 'x-api-key': 'k1', 'anthropic-beta': 'x' }), body), base)
    assert.equal(dedupKey('/v1/messages', new Headers({ 'x-api-key': 'k1' }), { messages: [], model: 'm' }), base)
    assert.ok(!base.includes('k1'))
  })
})
