import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startMockServer } from '../../src/demo/server.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { runtime } from '../../src/runtime/index.ts'
import { fallbackNote, requestBody, runStreams } from './run.ts'
import { ccrConfig, viaProxy } from './switchyard.ts'

describe('runStreams against the mock over HTTP (127.0.0.1)', () => {
  it('counts complete streams as completed and faulty ones as failed, in both client formats', async () => {
    const server = await startMockServer({ port: 0 })
    try {
      for (const clientFormat of ['anthropic', 'openai'] as const) {
        const good = await runStreams({
          url: server.url,
          clientFormat,
          streams: 8,
          chunks: 6,
          tokensPerChunk: 2,
          model: 'm:chunks=6:tokens=2:delay=1',
          timeoutMs: 10_000,
        })
        assert.deepEqual([good.completed, good.failed], [8, 0])
        assert.ok(
          good.ttfbMs.p50 >= 0 && good.ttftMs.p50 >= good.ttfbMs.p50 - 1e-9 && good.totalMs.p99 >= good.ttftMs.p99,
        )
        assert.equal(Math.round(good.tokensPerSec / good.chunksPerSec), 2)
        const cut = await runStreams({
          url: server.url,
          clientFormat,
          streams: 3,
          chunks: 6,
          tokensPerChunk: 1,
          model: 'm:chunks=6:cut=4',
          timeoutMs: 10_000,
        })
        assert.deepEqual([cut.completed, cut.failed], [0, 3])
        assert.match(cut.sampleErrors.join(), /terminal event/)
      }
      const status = await runStreams({
        url: server.url,
        clientFormat: 'anthropic',
        streams: 2,
        chunks: 3,
        tokensPerChunk: 1,
        model: 'm:status=529',
        timeoutMs: 10_000,
      })
      assert.equal(status.failed, 2)
      assert.match(status.sampleErrors.join(), /HTTP 529/)
    } finally {
      await server.stop()
    }
  })
})

describe('a failed stream that a fallback target answered', () => {
  it('is reported as answered by a fallback, not only as missing chunks, and only when the route says so', async () => {
    // A proxy stand-in: the mock answers 3 chunks where 6 are expected, under a route header.
    const mock = createMockUpstream({ sleep: () => Promise.resolve() })
    let route = ''
    const served = await runtime.serve(async (req) => {
      const res = await mock.fetch(req)
      const headers = new Headers(res.headers)
      headers.set('x-switchyard-route', route)
      return new Response(res.body, { status: res.status, headers })
    }, { port: 0, hostname: '127.0.0.1' })
    const run = () =>
      runStreams({
        url: `http://127.0.0.1:${served.port}`,
        clientFormat: 'anthropic',
        streams: 2,
        chunks: 6,
        tokensPerChunk: 1,
        model: 'm:chunks=3',
        timeoutMs: 10_000,
      })
    try {
      route = 'explicit mock,mock-stream; tier=tier-0; attempts=2; fallback=1'
      const fell = await run()
      assert.equal(fell.failed, 2)
      assert.equal(fell.sampleErrors[0], `answered by a fallback target (x-switchyard-route: ${route})`)
      assert.match(fell.sampleErrors.join(), /chunks out of order or missing: got 3 of 6/)
      route = 'explicit mock,m; tier=tier-0; attempts=2; fallback=0'
      const own = await run()
      assert.equal(own.failed, 2)
      assert.doesNotMatch(own.sampleErrors.join(), /fallback/)
    } finally {
      await served.stop(true)
    }
  })

  it('reads the fallback count from the header: no note without one, or for fallback=0', () => {
    assert.equal(fallbackNote(null), undefined)
    assert.equal(fallbackNote('default a,b; tier=tier-0; attempts=1; fallback=0; rule=r'), undefined)
    assert.match(fallbackNote('default a,b; tier=fallback-0; attempts=3; fallback=12')!, /fallback=12\)$/)
  })
})

describe('request bodies and proxy config', () => {
  it('pads the prompt to the requested size and asks OpenAI streams for usage', () => {
    const big = requestBody('anthropic', 'm', false, 64 * 1024)
    assert.ok(big.length >= 64 * 1024 && big.length < 64 * 1024 + 300)
    assert.deepEqual((JSON.parse(requestBody('openai', 'm', true)) as { stream_options: unknown }).stream_options, {
      include_usage: true,
    })
  })

  it('writes a CCR config whose provider URL selects the upstream format and whose default is the first model', () => {
    const cfg = ccrConfig('http://127.0.0.1:9', 'anthropic', ['a:chunks=1', 'b'], 4000) as {
      Providers: { api_base_url: string; transformer?: unknown }[]
      Router: { default: string }
    }
    assert.equal(cfg.Providers[0]?.api_base_url, 'http://127.0.0.1:9/v1/messages')
    assert.deepEqual(cfg.Providers[0]?.transformer, { use: ['Anthropic'] })
    assert.equal(cfg.Router.default, viaProxy('a:chunks=1'))
    const o = ccrConfig('http://127.0.0.1:9', 'openai', ['x'], 4000) as {
      Providers: { api_base_url: string; transformer?: unknown }[]
    }
    assert.equal(o.Providers[0]?.api_base_url, 'http://127.0.0.1:9/v1/chat/completions')
    assert.equal(o.Providers[0]?.transformer, undefined)
  })
})
