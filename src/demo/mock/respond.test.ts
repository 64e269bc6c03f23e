import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMockUpstream, MockConnectionReset } from '../upstream.ts'
import type { MockOptions } from '../upstream.ts'

type Json = Record<string, unknown>
const instant = (): Promise<void> => Promise.resolve()
const mockWith = (opts: MockOptions = {}) => createMockUpstream({ sleep: instant, ...opts })
const PATHS = { anthropic: '/v1/messages', openai: '/v1/chat/completions' } as const

function request(format: keyof typeof PATHS, model: string, extra: Json = {}, init: RequestInit = {}): Request {
  return new Request(`http://mock${PATHS[format]}`, {
    method: 'POST',
    body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    ...init,
  })
}

const events = (text: string): string[] => text.split('\n\n').filter((b) => b !== '')

describe('mock faults: HTTP statuses in each format', () => {
  it('status=400:invalid is a plain invalid request in both formats, not an overflow', async () => {
    const mock = mockWith()
    const a = (await (await mock.fetch(request('anthropic', 'm:status=400:invalid'))).json()) as {
      error: { type: string; message: string }
    }
    assert.equal(a.error.type, 'invalid_request_error')
    assert.doesNotMatch(a.error.message, /too long/)
    const o = (await (await mock.fetch(request('openai', 'm:status=400:invalid'))).json()) as {
      error: { code: string | null; message: string }
    }
    assert.equal(o.error.code, null)
    assert.doesNotMatch(o.error.message, /context length/)
  })

  const cases: [number, string, string][] = [
    [429, 'rate_limit_error', 'rate_limit_exceeded'],
    [500, 'api_error', 'server_error'],
    [503, 'overloaded_error', 'overloaded'],
    [529, 'overloaded_error', 'overloaded'],
    [400, 'invalid_request_error', 'context_length_exceeded'],
  ]
  for (const [status, anthropicType, openaiMarker] of cases) {
    it(`status=${status} answers with the Anthropic and OpenAI error bodies`, async () => {
      const mock = mockWith()
      const a = await mock.fetch(request('anthropic', `m:status=${status}`, { stream: true }))
      assert.equal(a.status, status)
      const ab = await a.json() as { type: string; error: { type: string; message: string } }
      assert.equal(ab.type, 'error')
      assert.equal(ab.error.type, anthropicType)
      if (status === 400) assert.match(ab.error.message, /prompt is too long/)
      const o = await mock.fetch(request('openai', `m:status=${status}`))
      assert.equal(o.status, status)
      const ob = await o.json() as { error: { type: string; code: string | null } }
      assert.ok(ob.error.code === openaiMarker || ob.error.type === openaiMarker, JSON.stringify(ob))
      assert.deepEqual(mock.attempts().map((x) => [x.outcome, x.status]), [['status', status], ['status', status]])
    })
  }

  it('429 carries retry-after only when asked', async () => {
    const mock = mockWith()
    assert.equal((await mock.fetch(request('anthropic', 'm:status=429:retry-after=3'))).headers.get('retry-after'), '3')
    assert.equal((await mock.fetch(request('anthropic', 'm:status=429'))).headers.get('retry-after'), null)
  })
})

describe('mock faults: network and stream', () => {
  it('reset rejects like a network error, before any response', async () => {
    const mock = mockWith()
    await assert.rejects(
      mock.fetch(request('openai', 'm:reset')),
      (e: unknown) => e instanceof TypeError && e instanceof MockConnectionReset,
    )
    assert.equal(mock.attempts()[0]?.outcome, 'reset')
  })

  it('hang never answers until the request signal aborts, then records aborted', async () => {
    const mock = createMockUpstream()
    const ac = new AbortController()
    let settled = false
    const p = mock.fetch(request('anthropic', 'm:hang', {}, { signal: ac.signal })).finally(() => {
      settled = true
    })
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(settled, false)
    assert.equal(mock.attempts()[0]?.outcome, 'pending')
    ac.abort()
    await assert.rejects(p, (e: unknown) => (e as Error).name === 'AbortError')
    assert.equal(mock.attempts()[0]?.outcome, 'aborted')
  })

  it('stall=N sends N events then waits for the abort', async () => {
    const mock = createMockUpstream()
    const ac = new AbortController()
    const res = await mock.fetch(request('anthropic', 'm:stall=2', { stream: true }, { signal: ac.signal }))
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    await reader.read()
    const third = reader.read()
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(mock.attempts()[0]?.outcome, 'stalled')
    ac.abort()
    await assert.rejects(third)
    assert.deepEqual([mock.attempts()[0]?.outcome, mock.attempts()[0]?.events], ['aborted', 2])
  })

  it('cut=N ends the body after N events with no terminator', async () => {
    const mock = mockWith()
    const ev = events(await (await mock.fetch(request('openai', 'm:cut=3', { stream: true }))).text())
    assert.equal(ev.length, 3)
    assert.ok(!ev.some((e) => e.includes('[DONE]')))
    assert.equal(mock.attempts()[0]?.outcome, 'cut')
  })

  it('malformed=N inserts one unparsable event after N events and still finishes', async () => {
    const mock = mockWith()
    const ev = events(await (await mock.fetch(request('anthropic', 'm:malformed=2:chunks=2', { stream: true }))).text())
    const bad = ev.map((e) => e.split('data: ')[1] ?? '').map((d) => {
      try {
        JSON.parse(d)
        return false
      } catch {
        return true
      }
    })
    assert.deepEqual(bad.map((b, i) => (b ? i : -1)).filter((i) => i >= 0), [2])
    assert.match(ev.at(-1) ?? '', /message_stop/)
    assert.equal(mock.attempts()[0]?.outcome, 'malformed')
  })

  it('noterm drops only message_stop / [DONE]', async () => {
    const mock = mockWith()
    const a = events(await (await mock.fetch(request('anthropic', 'm:noterm:chunks=2', { stream: true }))).text())
    const full = events(await (await mock.fetch(request('anthropic', 'm:chunks=2', { stream: true }))).text())
    const names = (ev: string[]): string[] => ev.map((e) => e.split('\n')[0] ?? '')
    assert.deepEqual(names(a), names(full).slice(0, -1))
    assert.equal(names(full).at(-1), 'event: message_stop')
    const o = events(await (await mock.fetch(request('openai', 'm:noterm', { stream: true }))).text())
    assert.match(o.at(-1) ?? '', /finish_reason":"stop"/)
    assert.equal(mock.attempts()[0]?.outcome, 'noterm')
  })

  it('client cancelling the body mid-stream stops the mock and records aborted', async () => {
    const mock = createMockUpstream()
    const res = await mock.fetch(request('anthropic', 'm:chunks=50:delay=5', { stream: true }))
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    for (let i = 0; i < 4; i++) await reader.read()
    await reader.cancel()
    const at = mock.attempts()[0]
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(mock.attempts()[0]?.outcome, 'aborted')
    assert.equal(mock.attempts()[0]?.events, at?.events)
    assert.ok((at?.events ?? 0) < 50)
  })
})

describe('mock fail-first', () => {
  it('fails the first N attempts per key with the fault (default 500), then succeeds; reset() restarts the count', async () => {
    const mock = mockWith()
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await mock.fetch(request('anthropic', 'm:fail-first=2'))).status)
    statuses.push((await mock.fetch(request('anthropic', 'm:fail-first=1:status=429:key=other'))).status)
    statuses.push((await mock.fetch(request('anthropic', 'm:fail-first=1:status=429:key=other'))).status)
    assert.deepEqual(statuses, [500, 500, 200, 429, 200])
    mock.reset()
    assert.equal((await mock.fetch(request('anthropic', 'm:fail-first=2'))).status, 500)
    assert.equal(mock.attempts().length, 1)
  })
})
