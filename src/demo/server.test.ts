import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startMockServer } from './server.ts'

const post = (url: string, model: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${url}/v1/messages`, {
    method: 'POST',
    body: JSON.stringify({ model, stream: true, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    ...init,
  })

describe('startMockServer (127.0.0.1, random port)', () => {
  it('serves streams over HTTP and the attempt log at /_mock/attempts', async () => {
    const s = await startMockServer({ port: 0 })
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const text = await (await post(s.url, 'm:chunks=3')).text()
      assert.match(text, /\[0003\][\s\S]*event: message_stop/)
      const log = await (await fetch(`${s.url}/_mock/attempts`)).json() as {
        attempts: { outcome: string; events: number }[]
      }
      assert.deepEqual(log.attempts.map((a) => a.outcome), ['ok'])
      assert.equal((await fetch(`${s.url}/_mock/attempts`, { method: 'DELETE' })).status, 204)
      assert.equal(s.mock.attempts().length, 0)
    } finally {
      await s.stop()
    }
  })

  it('reset fails the client request; a client abort mid-stream is recorded as aborted', async () => {
    const s = await startMockServer({ port: 0 })
    try {
      // Bun closes the socket before the status line; Deno sends headers and then fails the body.
      await assert.rejects(post(s.url, 'm:reset').then((r) => r.text()))
      const ac = new AbortController()
      const res = await post(s.url, 'm:chunks=200:delay=5', { signal: ac.signal })
      const reader = (res.body as ReadableStream<Uint8Array>).getReader()
      await reader.read()
      ac.abort()
      await reader.read().catch(() => undefined)
      for (let i = 0; i < 50 && s.mock.attempts()[1]?.outcome !== 'aborted'; i++) {
        await new Promise((r) => setTimeout(r, 20))
      }
      const [reset, aborted] = s.mock.attempts()
      assert.equal(reset?.outcome, 'reset')
      assert.equal(aborted?.outcome, 'aborted')
      assert.ok((aborted?.events ?? 0) < 200)
    } finally {
      await s.stop()
    }
  })
})
