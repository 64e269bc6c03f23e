import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMockUpstream } from '../demo/upstream.ts'
import type { ProviderConfig } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import { buildCall, type CallLimits, callUpstream, eventDecoder } from './upstream.ts'
import type { PlannedTarget } from './types.ts'

const provider: ProviderConfig = {
  name: 'oai',
  baseUrl: 'http://mock.test/v1/chat/completions',
  apiKey: 'sk-secret',
  models: ['m'],
  format: 'openai',
  transformers: [],
  modelTransformers: {},
  limits: {},
  pricing: {},
  headers: {},
}
const target = (model: string): PlannedTarget => ({
  key: `oai,${model}`,
  provider,
  model,
  tier: 'tier-0',
  source: 'primary',
})

/** One call through the real mock with real (short) timers. */
async function call(model: string, limits: Partial<CallLimits> & { stream?: boolean } = {}) {
  const mock = createMockUpstream()
  const t = target(model)
  const body = { model, stream: limits.stream ?? true, messages: [{ role: 'user', content: 'hi' }] }
  const c = buildCall(t, body, { client: new Headers(), query: '', sameFormat: true, stream: limits.stream ?? true })
  const r = await callUpstream(c, t, {
    fetch: mock.fetch,
    signal: limits.signal ?? new AbortController().signal,
    firstTokenTimeoutMs: 2_000,
    ...limits,
  })
  return { r, mock }
}

/** A streamed call for `oai,m` through `fetchFn` (the client's signal never aborts unless given). */
function streamedCall(fetchFn: (req: Request) => Promise<Response>, limits: Partial<CallLimits>) {
  const t = target('m')
  const c = buildCall(t, { model: 'm', stream: true }, {
    client: new Headers(),
    query: '',
    sameFormat: true,
    stream: true,
  })
  return callUpstream(c, t, {
    fetch: fetchFn,
    signal: new AbortController().signal,
    firstTokenTimeoutMs: 5_000,
    ...limits,
  })
}

const errorOf = (r: Awaited<ReturnType<typeof call>>['r']): ProxyError | undefined => (r.ok ? undefined : r.error)

describe('callUpstream: the request body', () => {
  it("is sent in the form the fetch asks for (its `body`), else as the call's text; the upstream reads the same JSON", async () => {
    const sent: unknown[] = []
    for (const asBytes of [false, true]) {
      const mock = createMockUpstream()
      const t = target('m')
      const body = { model: 'm', stream: false, messages: [{ role: 'user', content: 'h\u00e9llo \u{1F600}' }] }
      const c = buildCall(t, body, { client: new Headers(), query: '', sameFormat: true, stream: false })
      let converted = 0
      const fetch = Object.assign(async (req: Request) => {
        sent.push(JSON.parse(await req.clone().text()))
        return mock.fetch(req)
      }, asBytes ? { body: (text: string) => (converted++, new TextEncoder().encode(text)) } : {})
      const r = await callUpstream(c, t, { fetch, signal: new AbortController().signal, firstTokenTimeoutMs: 2_000 })
      assert.ok(r.ok)
      assert.equal(converted, asBytes ? 1 : 0)
    }
    assert.deepEqual(sent[1], sent[0])
    assert.equal((sent[0] as { messages: { content: string }[] }).messages[0]!.content, 'h\u00e9llo \u{1F600}')
  })
})

describe('callUpstream: the commit point', () => {
  it('a stream succeeds once headers and one real event arrived, and that event is handed on', async () => {
    const { r } = await call('m:chunks=3')
    assert.ok(r.ok && r.value.kind === 'stream')
    assert.ok(r.value.headEvents.some((e) => e.data.includes('chat.completion.chunk')))
    await r.value.reader.cancel()
  })

  it('a stream closed before its first event is stream_broken with 0 events (failover still allowed)', async () => {
    assert.deepEqual(errorOf((await call('m:cut=0')).r), {
      kind: 'stream_broken',
      target: 'oai,m:cut=0',
      afterEvents: 0,
      message: 'upstream closed the stream before its first event',
    })
  })

  it('a network error names its kind, never the upstream URL', async () => {
    const e = errorOf((await call('m:reset')).r)
    assert.equal(e?.kind, 'upstream_network')
    assert.ok(e?.kind === 'upstream_network' && !e.message.includes('mock.test'))
  })
})

describe('callUpstream: timeouts are typed by phase', () => {
  it('no headers within connectTimeoutMs (streams): connect', async () => {
    const { r, mock } = await call('m:hang', { connectTimeoutMs: 20, firstTokenTimeoutMs: 5_000 })
    assert.deepEqual(errorOf(r), { kind: 'timeout', target: 'oai,m:hang', phase: 'connect' })
    assert.equal(mock.attempts()[0]?.outcome, 'aborted')
  })

  it('headers but no first event within firstTokenTimeoutMs: first_token (the connect timer stopped at the headers)', async () => {
    const { r, mock } = await call('m:stall=0', { connectTimeoutMs: 20, firstTokenTimeoutMs: 60 })
    assert.deepEqual(errorOf(r), { kind: 'timeout', target: 'oai,m:stall=0', phase: 'first_token' })
    assert.equal(mock.attempts()[0]?.outcome, 'aborted')
  })

  it('a bound set by the client deadline reports total', async () => {
    const { r } = await call('m:hang', { firstTokenTimeoutMs: 20, firstTokenPhase: 'total' })
    assert.deepEqual(errorOf(r), { kind: 'timeout', target: 'oai,m:hang', phase: 'total' })
  })

  it('JSON calls ignore the connect timer: their headers come with the whole answer', async () => {
    const { r } = await call('m:ttft=60', { stream: false, connectTimeoutMs: 10, firstTokenTimeoutMs: 2_000 })
    assert.ok(r.ok && r.value.kind === 'json')
  })

  for (
    const [name, limits, expected] of [
      ['the first-token timer', { firstTokenTimeoutMs: 60 }, {
        kind: 'timeout',
        target: 'oai,m',
        phase: 'first_token',
      }],
      ['the client leaving', { firstTokenTimeoutMs: 5_000, leaveAfterMs: 60 }, { kind: 'client_closed' }],
    ] as const
  ) {
    it(`a body that reads on after its request was aborted (Deno did, now and then) is cancelled by ${name}`, async () => {
      let cancelled = false
      // A role chunk, then nothing: the body never looks at the request's signal, only at a cancel.
      const fetch = () =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              start: (c) =>
                c.enqueue(
                  new TextEncoder().encode(
                    'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
                  ),
                ),
              cancel: () => {
                cancelled = true
              },
            }),
            { headers: { 'content-type': 'text/event-stream' } },
          ),
        )
      const client = new AbortController()
      const leave = 'leaveAfterMs' in limits ? setTimeout(() => client.abort(), limits.leaveAfterMs) : undefined
      let timer: ReturnType<typeof setTimeout> | undefined
      const stuck = new Promise<'stuck'>((r) => timer = setTimeout(() => r('stuck'), 5_000))
      const r = await Promise.race([
        streamedCall(fetch, { signal: client.signal, firstTokenTimeoutMs: limits.firstTokenTimeoutMs }),
        stuck,
      ])
      clearTimeout(timer)
      clearTimeout(leave)
      assert.notEqual(r, 'stuck', 'the call ended')
      assert.deepEqual(r !== 'stuck' && !r.ok ? r.error : undefined, expected)
      assert.equal(cancelled, true, 'the body was cancelled')
    })
  }

  it('the client leaving is client_closed, not a timeout', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 20)
    assert.deepEqual(errorOf((await call('m:hang', { signal: ac.signal })).r), { kind: 'client_closed' })
  })
})

describe('callUpstream: the adaptive first-event silence bound', () => {
  /** A stream that writes `parts` with `gapMs` of real time before each one. */
  const paced = (parts: readonly string[], gapMs: number) => async (req: Request) => {
    const enc = new TextEncoder()
    let i = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, gapMs))
        if (req.signal.aborted) return c.error(new Error('aborted'))
        const part = parts[i++]
        if (part === undefined) return c.close()
        c.enqueue(enc.encode(part))
      },
    })
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
  }
  const run = (fetchFn: (req: Request) => Promise<Response>, firstEventMs: number) =>
    streamedCall(fetchFn, { firstEventMs })
  const role = 'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
  const text = 'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'

  it('keep-alive comments and framing chunks restart it: a model that keeps the line alive while it thinks is not cut off', async () => {
    const r = await run(paced([': ping\n\n', role, ': ping\n\n', ': ping\n\n', ': ping\n\n', text], 40), 150)
    assert.ok(r.ok && r.value.kind === 'stream')
    assert.ok(r.value.headEvents.some((e) => e.data.includes('"hi"')), 'committed at the first content event')
    await r.value.reader.cancel()
  })

  it('spaced JSON (Python\'s json.dumps: "content": "…") commits at its first content event, not at the end of the answer', async () => {
    const spaced = (i: number) =>
      `data: {"id": "c-${i}", "choices": [{"index": 0, "delta": {"content": "w${i} "}, "finish_reason": null}]}\n\n`
    // Ten events 40 ms apart: a commit at the end would take 400 ms.
    const r = await run(paced([...Array.from({ length: 10 }, (_, i) => spaced(i)), 'data: [DONE]\n\n'], 40), 5_000)
    assert.ok(r.ok && r.value.kind === 'stream')
    assert.deepEqual(r.value.headEvents.map((e) => e.data.slice(0, 14)), ['{"id": "c-0", '])
    await r.value.reader.cancel()
  })

  it('a silence longer than it before any content is a first_token timeout, well before firstTokenTimeoutMs', async () => {
    const r = await run(paced([role, text], 400), 60)
    assert.deepEqual(r.ok ? undefined : r.error, { kind: 'timeout', target: 'oai,m', phase: 'first_token' })
  })

  it('a silence timer that fires late (our own event loop was busy) waits again instead of blaming the upstream', async () => {
    // The upstream's first event is ready 250 ms after the call; the silence bound is 100 ms, but
    // the loop is blocked for 300 ms right after the call starts: the timer fires ~200 ms late
    // (more than LATE_TIMER_MS), when the event is already there, unread.
    const firstEventAt = (ms: number) => async (req: Request) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          // As a real fetch body: ready at `ms` after the call, errored when the call is aborted.
          const ready = setTimeout(() => c.enqueue(new TextEncoder().encode(text)), ms)
          req.signal.addEventListener('abort', () => {
            clearTimeout(ready)
            c.error(req.signal.reason)
          })
        },
      })
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
    }
    const pending = run(firstEventAt(250), 100)
    // Another stream whose own 400 ms timer fires on time, 100 ms after that late one: the busy
    // spell is within its bound, so its first event (at 600 ms) may also have sat unread.
    const other = run(firstEventAt(600), 400)
    const until = performance.now() + 300
    while (performance.now() < until) { /* a burst of other work on the one event loop */ }
    const r = await pending
    assert.ok(r.ok && r.value.kind === 'stream', JSON.stringify(r.ok ? undefined : r.error))
    await r.value.reader.cancel()
    const o = await other
    assert.ok(o.ok && o.value.kind === 'stream', JSON.stringify(o.ok ? undefined : o.error))
    await o.value.reader.cancel()
    // The same silence with a free loop is still a first_token timeout (once the busy spell is
    // more than a silence bound ago; 600 ms: room for one late firing on a loaded machine).
    await new Promise((r) => setTimeout(r, 200))
    const free = await run(firstEventAt(600), 100)
    assert.deepEqual(free.ok ? undefined : free.error, { kind: 'timeout', target: 'oai,m', phase: 'first_token' })
  })

  it('framing events are held: an error after them is still a failure before the commit point', async () => {
    const r = await run(paced([role, 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'], 5), 1_000)
    assert.equal(r.ok, false)
  })
})

describe('rate-limit reset headers count as a Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  it('reaches the pipeline: a 429 with only reset headers comes back with retryAfterMs', async () => {
    const fetch429 = async () =>
      new Response('{"error":{"type":"rate_limit_error","message":"slow down"}}', {
        status: 429,
        headers: { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1m30s' },
      })
    const t = target('m')
    const c = buildCall(t, { model: 'm' }, { client: new Headers(), query: '', sameFormat: true, stream: false })
    const r = await callUpstream(c, t, {
      fetch: fetch429,
      signal: new AbortController().signal,
      firstTokenTimeoutMs: 1_000,
      now: () => now,
    })
    assert.equal(r.ok ? undefined : r.error.kind === 'rate_limited' ? r.error.retryAfterMs : -1, 90_000)
  })
})

describe('an error as the first event of a stream', () => {
  const streamOf = (text: string) => async () =>
    new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } })
  const run = (text: string) => streamedCall(streamOf(text), { firstTokenTimeoutMs: 1_000 })

  it('is a failure with the status of its type, before anything is committed (Anthropic event: error, OpenAI error chunk)', async () => {
    const a = await run(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    )
    assert.equal(!a.ok && a.error.kind === 'upstream_status' ? a.error.status : 0, 529)
    const o = await run('data: {"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}\n\n')
    assert.equal(!o.ok && o.error.kind === 'upstream_status' ? o.error.status : 0, 429)
  })

  it('an ordinary first event commits the stream', async () => {
    const r = await run('data: {"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n')
    assert.equal(r.ok && r.value.kind, 'stream')
  })
})

describe('eventDecoder.atBoundary', () => {
  it('is false while a character is split across chunks, even right after a blank line', () => {
    const d = eventDecoder()
    const bytes = new TextEncoder().encode('data: a\n\ndata: é\n\n')
    const split = bytes.indexOf(0xc3) + 1
    assert.equal(d.atBoundary, true)
    assert.deepEqual(d.push(bytes.subarray(0, 10)), [{ data: 'a' }])
    assert.equal(d.atBoundary, false, 'inside the second event')
    d.push(bytes.subarray(10, split))
    assert.equal(d.atBoundary, false)
    assert.deepEqual(d.push(bytes.subarray(split)), [{ data: 'é' }])
    assert.equal(d.atBoundary, true)
    const e = eventDecoder()
    e.push(new Uint8Array([...new TextEncoder().encode('data: a\n\n'), 0xc3]))
    assert.equal(e.atBoundary, false, 'half a character pending after a whole event')
  })
})

describe('buildCall: upstream headers', () => {
  const anth: ProviderConfig = {
    ...provider,
    name: 'anth',
    format: 'anthropic',
    baseUrl: 'http://mock.test/v1/messages',
  }
  const at = (p: ProviderConfig): PlannedTarget => ({
    key: `${p.name},m`,
    provider: p,
    model: 'm',
    tier: 't',
    source: 'primary',
  })
  const headersOf = (p: ProviderConfig, client: Record<string, string>, sameFormat: boolean) =>
    Object.fromEntries(
      buildCall(at(p), { model: 'm' }, { client: new Headers(client), query: '', sameFormat, stream: false }).headers,
    )

  it("each format's key header, the client's anthropic-version and (same format only) anthropic-beta, nothing else of the client's", () => {
    const client = { 'anthropic-version': '2024-01-01', 'anthropic-beta': 'b1', cookie: 'c', 'x-api-key': 'client-key' }
    assert.deepEqual(headersOf(anth, client, true), {
      accept: 'application/json, text/event-stream',
      'anthropic-beta': 'b1',
      'anthropic-version': '2024-01-01',
      'content-type': 'application/json',
      'x-api-key': 'sk-secret',
    })
    assert.equal(headersOf(anth, client, false)['anthropic-beta'], undefined)
    assert.equal(headersOf(anth, {}, true)['anthropic-version'], '2023-06-01')
    assert.equal(headersOf(provider, client, true).authorization, 'Bearer sk-secret')
    assert.equal(headersOf(provider, client, true)['anthropic-version'], undefined)
    assert.equal(headersOf({ ...provider, format: 'gemini' }, client, true)['x-goog-api-key'], 'sk-secret')
  })

  it("a provider's configured headers win over every one of these, whatever their case, on every call", () => {
    const p = { ...anth, headers: { 'Anthropic-Version': 'pinned', 'anthropic-beta': 'mine', 'X-Api-Key': 'other' } }
    const client = { 'anthropic-version': '2024-01-01', 'anthropic-beta': 'b1' }
    for (let i = 0; i < 2; i++) {
      const h = headersOf(p, client, true)
      assert.equal(h['anthropic-version'], 'pinned')
      assert.equal(h['anthropic-beta'], 'mine')
      assert.equal(h['x-api-key'], 'other')
    }
  })

  it('each call gets its own headers: changing one changes no later call', () => {
    const c1 = buildCall(at(anth), { model: 'm' }, {
      client: new Headers(),
      query: '',
      sameFormat: true,
      stream: false,
    })
    c1.headers.set('authorization', 'Bearer x')
    c1.headers.delete('x-api-key')
    const c2 = buildCall(at(anth), { model: 'm' }, {
      client: new Headers(),
      query: '',
      sameFormat: true,
      stream: false,
    })
    assert.equal(c2.headers.get('authorization'), null)
    assert.equal(c2.headers.get('x-api-key'), 'sk-secret')
  })
})
