/**
 * Hostile upstreams: an SSE line that never ends, and error bodies that echo our credentials.
 * The proxy must bound its memory, fail over while nothing reached the client, end a committed
 * stream with a well-formed error, and never relay a configured secret.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { seededRandom } from '../../src/lib/rng.ts'
import { anthropicBody, configOf, sseEvents, testConfigFile } from './helpers.ts'

const MAX = 64 * 1024

/** A body that sends `prefix`, then `chunk` forever (until cancelled), never a newline. */
function endless(prefix: string, chunkSize = 16 * 1024): { stream: ReadableStream<Uint8Array>; sent: () => number } {
  const enc = new TextEncoder()
  const chunk = enc.encode('x'.repeat(chunkSize))
  let sent = 0
  let first = true
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (first) {
        first = false
        c.enqueue(enc.encode(prefix))
        return
      }
      sent += chunk.byteLength
      // A hard stop so a regression fails the test instead of eating the machine.
      if (sent > 64 * MAX) {
        c.close()
        return
      }
      c.enqueue(chunk)
    },
  })
  return { stream, sent: () => sent }
}

async function proxyWith(
  anth: (req: Request) => Response,
  extra: Record<string, unknown> = {},
  router: Record<string, unknown> = {},
): Promise<AppInstance & { logs: string[] }> {
  const mock = createMockUpstream()
  const logs: string[] = []
  const file = testConfigFile({ SSE_MAX_EVENT_BYTES: MAX, fallback: { default: ['oai,mock-o'] }, ...extra }, {
    default: 'anth,mock-a',
    ...router,
  })
  const built = await createInstance(configOf(file), {
    dataDir: ':memory:',
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    random: seededRandom(3),
    fetch: async (req) => (new URL(req.url).pathname.endsWith('/v1/messages') ? anth(req) : mock.fetch(req)),
  })
  return { ...built, logs }
}

const sse = { 'content-type': 'text/event-stream' }
const post = (app: AppInstance['app'], body: unknown) =>
  app.request('/v1/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('hostile upstream: an SSE line that never ends', () => {
  it('before the first event: the attempt ends at SSE_MAX_EVENT_BYTES and the request fails over', async () => {
    let hostile: ReturnType<typeof endless> | undefined
    const p = await proxyWith(() => {
      hostile = endless('data: ')
      return new Response(hostile.stream, { headers: sse })
    })
    const res = await post(p.app, anthropicBody('claude-sonnet-4', { stream: true }))
    assert.equal(res.status, 200)
    assert.match(res.headers.get('x-switchyard-route') ?? '', /oai,mock-o/)
    const events = sseEvents(await res.text())
    assert.ok(events.some((e) => e.event === 'message_stop'))
    assert.ok(hostile && hostile.sent() <= 2 * MAX, `read ${hostile?.sent()} bytes past a ${MAX} cap`)
    assert.equal((await p.app.request('/health')).status, 200)
    await p.close()
  })

  const committed =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"mock-a","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":0}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n'

  it('after the commit point, without continuation: the stream ends with a well-formed error event, and reading stops', async () => {
    let hostile: ReturnType<typeof endless> | undefined
    const p = await proxyWith(
      () => {
        hostile = endless(`${committed}event: content_block_delta\ndata: `)
        return new Response(hostile.stream, { headers: sse })
      },
      {},
      { continueStreams: false },
    )
    const res = await post(p.app, anthropicBody('claude-sonnet-4', { stream: true }))
    assert.equal(res.status, 200)
    const events = sseEvents(await res.text())
    const last = events.at(-1)
    assert.equal(last?.event, 'error', JSON.stringify(events.map((e) => e.event)))
    assert.match(last?.data ?? '', /larger than 65536 characters/)
    assert.ok(hostile && hostile.sent() <= 2 * MAX)
    await p.close()
  })

  it('after the commit point, with continuation on (the default): the stream still ends well-formed, and reading stops', async () => {
    let hostile: ReturnType<typeof endless> | undefined
    const p = await proxyWith(() => {
      hostile = endless(`${committed}event: content_block_delta\ndata: `)
      return new Response(hostile.stream, { headers: sse })
    })
    const res = await post(p.app, anthropicBody('claude-sonnet-4', { stream: true }))
    const events = sseEvents(await res.text())
    assert.ok(
      ['message_stop', 'error'].includes(events.at(-1)?.event ?? ''),
      JSON.stringify(events.map((e) => e.event)),
    )
    assert.ok(hostile && hostile.sent() <= 2 * MAX)
    await p.close()
  })
})

describe('hostile upstream: an error body that echoes our credentials', () => {
  const KEY = 'Zq7hunter2provider'
  const HEADER = 'Tok9hidden.value'
  const echo = (req: Request): Response => {
    const seen = [...req.headers].map(([k, v]) => `${k}: ${v}`).join('; ')
    return new Response(
      JSON.stringify({
        type: 'error',
        error: {
          type: 'authentication_error',
          message: `bad request headers: ${seen}; again ${encodeURIComponent(KEY)}`,
        },
      }),
      { status: 401, headers: { 'content-type': 'application/json' } },
    )
  }

  it('no configured secret reaches the client, whatever header or spelling the upstream echoes it in', async () => {
    const mock = createMockUpstream()
    const file = testConfigFile({}, { default: 'anth,mock-a', fallbackToOtherTiers: false })
    const providers = (file['Providers'] as Record<string, unknown>[]).map((p) =>
      p['name'] === 'anth' ? { ...p, api_key: KEY, headers: { 'x-custom-auth': HEADER } } : p
    )
    const built = await createInstance(configOf({ ...file, Providers: providers }), {
      dataDir: ':memory:',
      log: createLogger({ enabled: false }),
      fetch: async (req) => (new URL(req.url).pathname.endsWith('/v1/messages') ? echo(req) : mock.fetch(req)),
    })
    for (
      const [path, body] of [['/v1/messages', anthropicBody('anth,mock-a')], [
        '/v1/messages',
        anthropicBody('anth,mock-a', { stream: true }),
      ], ['/v1/chat/completions', { model: 'anth,mock-a', messages: [{ role: 'user', content: 'hi' }] }]] as const
    ) {
      const res = await built.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      const text = await res.text()
      assert.ok(res.status >= 400, `${path}: ${res.status}`)
      assert.match(text, /bad request headers/, 'the message itself is still relayed')
      for (const secret of [KEY, HEADER, encodeURIComponent(KEY)]) {
        assert.ok(!text.includes(secret), `${secret} leaked on ${path}: ${text}`)
      }
      assert.match(text, /\[redacted\]/)
    }
    await built.close()
  })
})

describe('security fuzz: hostile upstream bytes', () => {
  const validStart =
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"mock-a","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":0}}}\n\n'
  const piece = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => new TextDecoder().decode(b)),
    fc.constantFrom(
      'data: ',
      '\n',
      '\r\n',
      '\n\n',
      ': ping\n\n',
      'event: error\n',
      'data: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\n\n',
      '\u0000',
      'data: [DONE]\n\n',
      validStart,
    ),
    fc.integer({ min: 1, max: 3 }).map((k) => 'y'.repeat(k * MAX)),
  )

  it('law: any byte stream from the upstream → a well-formed answer within the bound, and the proxy keeps serving', async () => {
    let body: string[] = []
    const p = await proxyWith(() => {
      const chunks = body.map((s) => new TextEncoder().encode(s))
      return new Response(
        new ReadableStream({
          pull(c) {
            const next = chunks.shift()
            if (next) c.enqueue(next)
            else c.close()
          },
        }),
        { headers: sse },
      )
    }, { fallback: {} })
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('/v1/messages', '/v1/chat/completions'),
        async (pieces, path) => {
          body = pieces
          const request = path === '/v1/messages'
            ? anthropicBody('anth,mock-a', { stream: true })
            : { model: 'anth,mock-a', stream: true, messages: [{ role: 'user', content: 'hi' }] }
          const t0 = performance.now()
          const res = await p.app.request(path, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request),
          })
          const text = await res.text()
          assert.ok(performance.now() - t0 < 5_000)
          if (res.status !== 200) {
            const err = JSON.parse(text) as { error?: { message?: unknown } }
            assert.equal(typeof err.error?.message, 'string', text.slice(0, 200))
            return
          }
          const events = sseEvents(text)
          assert.ok(events.length > 0)
          const last = events.at(-1)!
          if (path === '/v1/messages') {
            assert.ok(
              last.event === 'message_stop' || last.event === 'error',
              `ended with ${last.event}`,
            )
          } else assert.equal(last.data, '[DONE]')
        },
      ),
      { seed: 4242, numRuns: 40 },
    )
    assert.equal((await p.app.request('/health')).status, 200)
    await p.close()
  })
})
