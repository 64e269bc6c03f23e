/**
 * ccr-rust's stress suite, in the shapes its documentation gives: a CCR config whose provider is
 * a bare base URL (`http://127.0.0.1:9999`), an OpenAI-compatible mock that serves only
 * `/chat/completions` and writes its chunks as Python's json.dumps does (`"content": "…"`, no
 * usage in the stream; Anthropic usage names in its JSON answer), concurrent Anthropic streams,
 * and `/v1/usage` polled for `active_streams`, then read for `total_requests` and
 * `total_failures`. ccr-rust's tools read `/v1/latencies` as a bare list.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from '../../src/compose.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import { parseConfig } from '../../src/config/load.ts'
import { createLogger } from '../../src/log.ts'

const CHUNKS = 10
const DELAY_MS = 30
const STREAMS = 20
const WORDS = ['The', 'quick', 'brown', 'fox', 'jumps', 'over', 'the', 'lazy', 'dog.']

/** A stand-in for the suite's mock backend: spaced JSON, a chunk every DELAY_MS, then [DONE]. */
async function mockBackend(req: Request): Promise<Response> {
  if (new URL(req.url).pathname !== '/chat/completions') return new Response('Not Found', { status: 404 })
  const body = (await req.json()) as { stream?: boolean }
  if (!body.stream) {
    return Response.json({
      id: 'chatcmpl-mock-batch',
      object: 'chat.completion',
      created: 1,
      model: 'mock-model',
      choices: [{
        index: 0,
        message: { role: 'assistant', content: 'Hello from mock backend.' },
        finish_reason: 'stop',
      }],
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    })
  }
  const enc = new TextEncoder()
  let i = 0
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i === CHUNKS) {
        c.enqueue(enc.encode('data: [DONE]\n\n'))
        c.close()
        return
      }
      if (i > 0) await new Promise((r) => setTimeout(r, DELAY_MS))
      const chunk = {
        id: `chatcmpl-mock-${i}`,
        object: 'chat.completion.chunk',
        created: 1,
        model: 'mock-model',
        choices: [{ index: 0, delta: { content: `${WORDS[i % WORDS.length]} ` }, finish_reason: null }],
      }
      // Python's json.dumps separators: ", " and ": ".
      c.enqueue(
        enc.encode(
          `data: ${
            JSON.stringify(chunk).replaceAll('","', '", "').replaceAll('":', '": ').replaceAll(',"', ', "')
          }\n\n`,
        ),
      )
      i++
    },
  })
  return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
}

async function sampleInstance() {
  const file = {
    PORT: 3456,
    HOST: '127.0.0.1',
    API_TIMEOUT_MS: 120000,
    LOG: false,
    Providers: [{ name: 'mock', api_base_url: 'http://127.0.0.1:9999', api_key: 'mock-key', models: ['mock-model'] }],
    Router: { default: 'mock,mock-model' },
  }
  const r = parseConfig(JSON.stringify(file), {}, { knownTransformer })
  if (!r.ok) throw new Error(r.error.join('; '))
  return await createInstance(r.value.config, {
    dataDir: ':memory:',
    fetch: mockBackend,
    log: createLogger({ enabled: false }),
  })
}

const request = (model: string, stream: boolean, id: number) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    model,
    messages: [{ role: 'user', content: `Stress test stream ${id}. Respond with a long passage.` }],
    max_tokens: 4096,
    stream,
  }),
})

/** ccr-rust's u64 fields must be whole numbers for its serde types to read them. */
function assertWhole(o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) assert.ok(Number.isInteger(o[k]) && (o[k] as number) >= 0, `${k} = ${String(o[k])}`)
}

describe("ccr-rust's stress suite, in-process", () => {
  it('streams are incremental, active_streams is seen while they run, and every request is counted', async () => {
    const inst = await sampleInstance()
    let peak = 0
    let polling = true
    const poller = (async () => {
      while (polling) {
        const u = (await (await inst.app.request('/v1/usage')).json()) as { active_streams: number }
        peak = Math.max(peak, u.active_streams)
        await new Promise((r) => setTimeout(r, 25))
      }
    })()
    const results = await Promise.all(Array.from({ length: STREAMS }, async (_, id) => {
      const t0 = performance.now()
      const res = await inst.app.request('/v1/messages', request('mock,mock-model', true, id))
      assert.equal(res.status, 200)
      const reader = res.body!.getReader()
      let firstAt = 0
      let chunks = 0
      let text = ''
      const dec = new TextDecoder()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (!firstAt) firstAt = performance.now() - t0
        chunks++
        text += dec.decode(value, { stream: true })
      }
      return { ttfb: firstAt, duration: performance.now() - t0, chunks, text }
    }))
    polling = false
    await poller
    for (const r of results) {
      assert.match(r.text, /event: message_stop/)
      assert.ok(r.chunks > 2, `the answer came in ${r.chunks} chunk(s), not as it was generated`)
      // The first byte leaves at the upstream's first event, not at its end.
      assert.ok(
        r.ttfb < r.duration - (CHUNKS / 2) * DELAY_MS,
        `ttfb ${r.ttfb.toFixed(0)} ms of ${r.duration.toFixed(0)} ms`,
      )
    }
    assert.ok(peak > 0, 'active_streams was above 0 while the streams ran')
    assert.equal(
      (await (await inst.app.request('/v1/messages', request('mock,mock-model', false, STREAMS))).json() as {
        usage: { output_tokens: number }
      }).usage.output_tokens,
      5,
    )
    await new Promise((r) => setTimeout(r, 20))
    const u = (await (await inst.app.request('/v1/usage')).json()) as Record<string, unknown> & {
      tiers: Record<string, unknown>[]
    }
    assert.equal(u.total_requests, STREAMS + 1)
    assert.equal(u.total_failures, 0)
    assert.equal(u.active_streams, 0)
    assertWhole(u, ['total_requests', 'total_failures', 'total_input_tokens', 'total_output_tokens'])
    for (const t of u.tiers) {
      assertWhole(t, [
        'requests',
        'failures',
        'input_tokens',
        'output_tokens',
        'cache_read_tokens',
        'cache_creation_tokens',
      ])
    }
    assert.ok((u.total_output_tokens as number) >= 5 + STREAMS, 'estimated stream output plus the reported 5')
    await inst.close()
  })

  it("/v1/latencies: the bare list for ccr-rust's tools (no User-Agent, Accept: */*) or ?format=ccr-rust; the object otherwise", async () => {
    const inst = await sampleInstance()
    await (await inst.app.request('/v1/messages', request('mock,mock-model', true, 0))).text()
    type Row = { tier: string; ewma_seconds: number; sample_count: number }
    const reqwest = (await (await inst.app.request('/v1/latencies', { headers: { accept: '*/*' } })).json()) as Row[]
    assert.ok(Array.isArray(reqwest), JSON.stringify(reqwest))
    assert.equal(reqwest[0]?.tier, 'mock,mock-model')
    assert.equal(typeof reqwest[0]?.ewma_seconds, 'number')
    assert.ok(Number.isInteger(reqwest[0]?.sample_count) && reqwest[0]!.sample_count >= 1)
    const named = await (await inst.app.request('/v1/latencies?format=ccr-rust', {
      headers: { 'user-agent': 'curl/8', accept: '*/*' },
    })).json()
    assert.deepEqual(named, reqwest)
    for (
      const headers of [{ 'user-agent': 'curl/8', accept: '*/*' }, {}, { 'user-agent': 'Bun/1.4' }] as Record<
        string,
        string
      >[]
    ) {
      const body = (await (await inst.app.request('/v1/latencies', { headers })).json()) as { targets: Row[] }
      assert.deepEqual(body.targets, reqwest, JSON.stringify(headers))
    }
    const forced =
      (await (await inst.app.request('/v1/latencies?format=switchyard', { headers: { accept: '*/*' } })).json()) as {
        targets: Row[]
      }
    assert.deepEqual(forced.targets, reqwest)
    assert.equal((await inst.app.request('/v1/latencies?format=xml')).status, 400)
    await inst.close()
  })
})
