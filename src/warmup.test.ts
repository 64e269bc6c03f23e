import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from './compose.ts'
import { parseConfig } from './config/load.ts'
import { createMockUpstream } from './demo/upstream.ts'
import { createLogger } from './log.ts'
import { warmUp, type WarmupKind } from './warmup.ts'

/** A real instance on the in-process mock, with a log that keeps its lines. */
async function realInstance() {
  const lines: string[] = []
  const mock = createMockUpstream({ sleep: async () => {} })
  const file = {
    Providers: [{ name: 'oai', api_base_url: 'http://mock.test/v1/chat/completions', api_key: 'k', models: ['m'] }],
    Router: { default: 'oai,m' },
  }
  const parsed = parseConfig(JSON.stringify(file), {})
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  const inst = await createInstance(parsed.value.config, {
    dataDir: ':memory:',
    fetch: (req) => mock.fetch(req),
    log: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
  })
  return { inst, mock, lines }
}

/** What the instance has recorded about traffic: counters, usage, recent requests, routing stats. */
async function traffic(app: { request: (p: string) => Response | Promise<Response> }) {
  const metrics = await (await app.request('/metrics')).text()
  return {
    counters: metrics.split('\n').filter((l) => /^(ccr|switchyard)_\w+_(total|count|sum)\{?/.test(l)).sort(),
    usage: await (await app.request('/v1/usage')).json(),
    requests: await (await app.request('/v1/requests')).json(),
    latencies: await (await app.request('/v1/latencies')).json(),
  }
}

describe('start-up warm-up', () => {
  it('answers every request of every kind whole, in every client and upstream format', async () => {
    const seen: WarmupKind[] = []
    const r = await warmUp({
      requests: 64,
      concurrency: 4,
      only: (k) => {
        seen.push(k)
        return true
      },
    })
    assert.deepEqual({ requests: r.requests, failed: r.failed }, { requests: 64, failed: 0 })
    // 4 client formats × 4 upstream formats (same-format pass-through and translated) × JSON and SSE.
    assert.equal(seen.length, 32)
    assert.equal(new Set(seen.map((k) => `${k.client}>${k.upstream}:${k.stream}`)).size, 32)
  })

  it('counts every answer that is not a 200 as failed, and sends nothing when no kind is left', async () => {
    const down = await warmUp({
      requests: 12,
      upstream: async () => new Response('{"error":{"message":"down"}}', { status: 400 }),
    })
    assert.deepEqual({ requests: down.requests, failed: down.failed }, { requests: 12, failed: 12 })
    const none = await warmUp({ requests: 3, only: () => false })
    assert.deepEqual({ requests: none.requests, failed: none.failed }, { requests: 0, failed: 0 })
  })

  it("leaves a running instance's metrics, usage, recent requests, routing stats and log untouched", async () => {
    const { inst, mock, lines } = await realInstance()
    try {
      // One real request first, so there is state to keep (and to see unchanged).
      const res = await inst.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'oai,m', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
      })
      assert.equal(res.status, 200)
      await res.text()
      const before = await traffic(inst.app)
      assert.equal((before.requests as { requests: unknown[] }).requests.length, 1)
      const logged = lines.length
      const attempts = mock.attempts().length
      const w = await warmUp({ requests: 96 })
      assert.equal(w.failed, 0)
      assert.deepEqual(await traffic(inst.app), before)
      assert.equal(lines.length, logged, 'no log line from the warm-up')
      assert.equal(mock.attempts().length, attempts, "the real instance's upstream saw nothing")
    } finally {
      await inst.close()
    }
  })
})
