/**
 * Streams under faults, through the app on simulated time: retry and failover only before
 * the first byte reaches the client; after it, a failure is a well-formed in-stream error.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { configOf, sseEvents } from './helpers.ts'
import { ask, routeOf, simConfig, type SimProxy, simProxy } from './resilience-helpers.ts'

const parses = (s: string) => {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}
const models = (p: SimProxy) => p.mock.attempts().map((a) => a.model)

describe('resilience: streams', () => {
  it('with continueStreams off, a cut after the commit point ends with a well-formed in-stream error, not a fake message_stop', async () => {
    const p = await simProxy(
      simConfig({ default: 'anth,mock-a:cut=4', background: 'oai,mock-o', continueStreams: false }),
    )
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    assert.equal(res.status, 200)
    const events = sseEvents(await res.text())
    assert.equal(events.at(-1)?.event, 'error')
    assert.equal(events.filter((e) => e.event === 'message_stop').length, 0)
    assert.deepEqual(models(p), ['mock-a:cut=4'], 'no failover after bytes reached the client')
    p.close()
  })

  it('a cut before the first event fails over: the client sees one complete answer from the next target', async () => {
    const p = await simProxy(
      simConfig({
        default: 'oai,mock-o:cut=0',
        background: 'anth,mock-a',
        tierRetries: { 'tier-0': { max_retries: 0 } },
      }),
    )
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    const events = sseEvents(await res.text())
    assert.equal(events.filter((e) => e.event === 'message_start').length, 1)
    assert.equal(events.at(-1)?.event, 'message_stop')
    assert.deepEqual(routeOf(res), { target: 'anth,mock-a', tier: 'tier-1', attempts: 2, fallback: 1 })
    p.close()
  })

  it('a cut before the first event may be retried on the same target: nothing reached the client yet', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:cut=0:fail-first=1', background: 'anth,mock-a' }))
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    assert.equal(sseEvents(await res.text()).at(-1)?.event, 'message_stop')
    assert.deepEqual(p.mock.attempts().map((a) => a.outcome), ['cut', 'ok'])
    assert.deepEqual(routeOf(res), {
      target: 'oai,mock-o:cut=0:fail-first=1',
      tier: 'tier-0',
      attempts: 2,
      fallback: 0,
    })
    p.close()
  })

  it('a stall before the first event is a first-token timeout: the silent target is left for the next one', async () => {
    const p = await simProxy(
      simConfig({ default: 'oai,mock-o:stall=0', background: 'anth,mock-a', firstTokenTimeoutMs: 40 }),
    )
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    assert.equal(sseEvents(await res.text()).at(-1)?.event, 'message_stop')
    assert.deepEqual(p.mock.attempts().map((a) => [a.baseModel, a.outcome]), [['mock-o', 'aborted'], ['mock-a', 'ok']])
    p.close()
  })

  it('a stall after the commit point is ended by the idle watchdog with an in-stream error and the upstream aborted', async () => {
    const p = await simProxy(simConfig({ default: 'anth,mock-a:stall=3:chunks=5', streamIdleTimeoutMs: 1_000 }))
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    const reader = res.body!.getReader()
    const first = await reader.read()
    assert.equal(first.done, false)
    p.clock.advance(999)
    p.deps.watchdog.tick()
    p.clock.advance(2)
    p.deps.watchdog.tick()
    let text = new TextDecoder().decode(first.value)
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
    const events = sseEvents(text)
    assert.equal(events.at(-1)?.event, 'error')
    assert.match(events.at(-1)?.data ?? '', /timed out \(idle\)/)
    assert.equal(p.mock.attempts()[0]?.outcome, 'aborted')
    p.close()
  })

  it('a quiet stream is kept alive with pings: an Anthropic ping event, an OpenAI comment, nothing to a Gemini client (it cannot skip a comment)', async () => {
    const requests = {
      anthropic: [ask('claude-sonnet-4', { stream: true }), '/v1/messages'],
      openai: [{ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions'],
      gemini: [
        { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      ],
    } as const
    const seen: Record<string, string> = {}
    for (const [client, [body, path]] of Object.entries(requests)) {
      // The upstream goes quiet after its first chunk: two ping intervals pass, then the idle timeout.
      const p = await simProxy(
        simConfig({ default: 'anth,mock-a:stall=3:chunks=5', streamIdleTimeoutMs: 40_000, continueStreams: false }),
      )
      const res = await p.post(body, path)
      const reader = res.body!.getReader()
      let text = new TextDecoder().decode((await reader.read()).value)
      for (const ms of [15_001, 15_001, 10_000]) {
        p.clock.advance(ms)
        p.deps.watchdog.tick()
      }
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
      seen[client] = text
      p.close()
    }
    assert.equal(seen.anthropic!.match(/^event: ping\ndata: \{"type":"ping"\}$/gm)?.length, 2, seen.anthropic)
    assert.equal(seen.openai!.match(/^: ping$/gm)?.length, 2, seen.openai)
    assert.equal(seen.gemini!.includes('ping'), false, seen.gemini)
    assert.ok(
      seen.gemini!.split('\n\n').filter((e) => e.trim() !== '').every((e) => e.startsWith('data: {')),
      seen.gemini,
    )
    assert.match(seen.gemini!, /timed out \(idle\)/, 'the stream still ends well-formed')
  })

  it('with continueStreams off, an Anthropic stream missing its message_stop (noterm, passed through) ends with a well-formed error, never a fake message_stop', async () => {
    const p = await simProxy(simConfig({ default: 'anth,mock-a:noterm', continueStreams: false }))
    const events = sseEvents(await (await p.post(ask('claude-sonnet-4', { stream: true }))).text())
    assert.equal(events.filter((e) => e.event === 'message_stop').length, 0)
    assert.equal(events.at(-1)?.event, 'error')
    p.close()
  })

  it('an OpenAI stream missing only data: [DONE] after its finish_reason still ends as a complete Anthropic message', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:noterm:chunks=4' }))
    const events = sseEvents(await (await p.post(ask('claude-sonnet-4', { stream: true }))).text())
    assert.equal(events.at(-1)?.event, 'message_stop')
    assert.ok(events.some((e) => e.event === 'message_delta' && e.data.includes('"stop_reason":"end_turn"')))
    assert.ok(events.map((e) => e.data).join('').includes('[0004]'))
    p.close()
  })

  it('an OpenAI stream missing only data: [DONE] (passed through to an OpenAI client) is complete: [DONE] is added, no error', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:noterm:chunks=4' }))
    const body = {
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hello' }],
    }
    const events = sseEvents(await (await p.post(body, '/v1/chat/completions')).text())
    assert.equal(events.at(-1)?.data, '[DONE]')
    assert.equal(events.filter((e) => e.data.includes('"error"')).length, 0)
    assert.equal(events.filter((e) => e.data === '[DONE]').length, 1)
    assert.ok(events.some((e) => e.data.includes('"finish_reason":"stop"')))
    const snap = p.services.routing.stats.snapshot('oai,mock-o:noterm:chunks=4', p.clock.now())
    assert.deepEqual([snap.successes, snap.errors], [1, 0], 'counted as a success, not held against the target')
    p.close()
  })

  it('with continueStreams off, an OpenAI stream cut before its finish_reason (passed through) still ends with an in-stream error', async () => {
    const p = await simProxy(simConfig({ default: 'oai,mock-o:cut=3:chunks=6', continueStreams: false }))
    const body = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hello' }] }
    const events = sseEvents(await (await p.post(body, '/v1/chat/completions')).text())
    assert.ok(events.some((e) => e.data.includes('"error"')))
    assert.equal(events.filter((e) => e.data.includes('"finish_reason":"stop"')).length, 0)
    p.close()
  })

  // Same format is a byte pass-through: the broken event reaches the client as the upstream sent it.
  for (
    const [name, model, strict] of [['same format', 'anth,mock-a:malformed=3', false], [
      'translated',
      'oai,mock-o:malformed=3',
      true,
    ]] as const
  ) {
    it(`a malformed event (${name}) ends the stream either complete or with a well-formed error, and the next request is served`, async () => {
      const p = await simProxy(simConfig({ default: model, background: 'anth,mock-b' }))
      const res = await p.post(ask('claude-sonnet-4', { stream: true }))
      const events = sseEvents(await res.text())
      const last = events.at(-1)
      assert.ok(last?.event === 'message_stop' || last?.event === 'error', `last event ${last?.event}`)
      const unparsable = events.filter((e) => e.data.startsWith('{') && !parses(e.data))
      assert.equal(unparsable.length, strict ? 0 : 1)
      const next = await p.post(ask('anth,mock-b'))
      assert.equal(next.status, 200)
      p.close()
    })
  }
})

describe('an upstream body that reads on after its request was aborted (Deno did, now and then)', () => {
  const HEAD = [
    ['message_start', {
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'm',
        content: [],
        usage: { input_tokens: 3, output_tokens: 0 },
      },
    }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }],
  ].map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('')

  for (const how of ['shutdown past the drain deadline', 'idle timeout'] as const) {
    it(`is still ended by the ${how}: an in-stream error at once, and the body cancelled`, async () => {
      let cancelled = false
      // Sends the head, then nothing: it never looks at the request's signal, only at a cancel.
      const fetch = (): Promise<Response> =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              start: (c) => c.enqueue(new TextEncoder().encode(HEAD)),
              cancel: () => {
                cancelled = true
              },
            }),
            { headers: { 'content-type': 'text/event-stream' } },
          ),
        )
      let now = 1_000_000
      const instance = await createInstance(
        configOf({
          LOG: false,
          Providers: [{
            name: 'anth',
            api_base_url: 'http://up.test/v1/messages',
            api_key: 'k',
            models: ['m'],
            transformer: { use: ['Anthropic'] },
          }],
          Router: { default: 'anth,m', streamIdleTimeoutMs: 1_000 },
        }),
        { dataDir: ':memory:', fetch, now: () => now, log: createLogger({ enabled: false }) },
      )
      try {
        const res = await instance.app.request('/v1/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ask('claude-sonnet-4', { stream: true })),
        })
        assert.equal(res.status, 200)
        const reader = res.body!.getReader()
        let text = new TextDecoder().decode((await reader.read()).value)
        const watchdog = instance.services.deps.watchdog
        if (how === 'idle timeout') {
          now += 1_001
          watchdog.tick()
        } else watchdog.abortAll('Switchyard is shutting down')
        const rest = (async () => {
          for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
          return 'ended'
        })()
        let timer: ReturnType<typeof setTimeout> | undefined
        const stuck = new Promise((r) => timer = setTimeout(() => r('still reading after 5 s'), 5_000))
        assert.equal(await Promise.race([rest, stuck]), 'ended')
        clearTimeout(timer)
        const last = sseEvents(text).at(-1)
        assert.equal(last?.event, 'error')
        assert.match(last?.data ?? '', how === 'idle timeout' ? /timed out \(idle\)/ : /shutting down/)
        assert.equal(cancelled, true, 'the upstream body was cancelled')
      } finally {
        await instance.close()
      }
    })
  }
})
