/**
 * Mid-stream continuation through the app on simulated time: a stream cut after the client
 * has text is continued on another try (the mock continues its counter from the prefill), and
 * the client assembles the uncut answer exactly once.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sseEvents } from './helpers.ts'
import {
  ask,
  metricValue,
  RESP_GEM_PROVIDERS,
  simConfig,
  type SimProxy,
  simProxy,
  streamOf,
} from './resilience-helpers.ts'
import type { SseEvent } from '../../src/formats/types.ts'
import { CONTINUE_INSTRUCTION } from '../../src/formats/index.ts'
import { demoMockOptions } from '../../src/cli/demo-upstream.ts'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'

const REFERENCE = Array.from({ length: 10 }, (_, i) => `[${String(i + 1).padStart(4, '0')}] `).join('')

function textOf(evs: readonly SseEvent[]): string {
  return evs.map((e) => {
    if (e.data === '[DONE]' || !e.data.startsWith('{')) return ''
    const d = JSON.parse(e.data) as { delta?: { text?: string }; choices?: { delta?: { content?: string } }[] }
    return e.event === 'content_block_delta' ? d.delta?.text ?? '' : d.choices?.[0]?.delta?.content ?? ''
  }).join('')
}

const outcomes = (p: SimProxy) => p.mock.attempts().map((a) => [a.baseModel, a.outcome])

describe('resilience: mid-stream continuation', () => {
  for (const client of ['anthropic', 'openai'] as const) {
    for (const upstream of ['anth,mock-a', 'oai,mock-o'] as const) {
      it(`${client} client, ${upstream.slice(0, 4)} upstream: a cut after text reached the client is continued, the model's repeat trimmed`, async () => {
        const p = await simProxy(simConfig({ default: `${upstream}:cut=5:overlap=2`, background: 'anth,mock-b' }))
        const events = await streamOf(p, client)
        assert.equal(textOf(events), REFERENCE)
        if (client === 'anthropic') {
          assert.equal(events.at(-1)?.event, 'message_stop')
          assert.equal(events.filter((e) => e.event === 'message_start').length, 1)
          assert.equal(events.filter((e) => e.event === 'content_block_start').length, 1)
        } else {
          assert.equal(events.at(-1)?.data, '[DONE]')
          assert.equal(
            new Set(events.filter((e) => e.data.startsWith('{')).map((e) => (JSON.parse(e.data) as { id: string }).id))
              .size,
            1,
          )
        }
        const model = upstream.split(',')[1]
        assert.deepEqual(
          outcomes(p),
          [[model, 'cut'], [model, 'ok']],
          'a cut looks transient: the same target continues',
        )
        const metrics = await (await p.get('/metrics')).text()
        assert.equal(metricValue(metrics, 'ccr_stream_continuations_total', { outcome: 'completed' }), 1)
        const latencies = (await (await p.get('/v1/latencies')).json()) as {
          targets: { target: string; stream_continuations: number }[]
        }
        assert.equal(latencies.targets.find((r) => r.target === `${upstream}:cut=5:overlap=2`)?.stream_continuations, 1)
        p.close()
      })
    }
  }

  // Responses and Gemini clients, from every upstream format: one response, one message item, the text exactly once.
  for (const client of ['responses', 'gemini'] as const) {
    for (const upstream of ['anth,mock-a', 'oai,mock-o', 'resp,mock-r', 'gem,mock-g'] as const) {
      it(`${client} client, ${upstream.slice(0, 4)} upstream: a cut after text reached the client is continued as one answer`, async () => {
        const base = simConfig({ default: `${upstream}:cut=5:overlap=2`, background: 'anth,mock-b' })
        const p = await simProxy({ ...base, Providers: [...(base.Providers as unknown[]), ...RESP_GEM_PROVIDERS] })
        const events = await streamOf(p, client)
        // deno-lint-ignore no-explicit-any -- a test reads deep fields of parsed wire JSON
        const data = events.filter((e) => e.data.startsWith('{')).map((e) => JSON.parse(e.data) as Record<string, any>)
        if (client === 'responses') {
          assert.equal(
            data.filter((d) => d.type === 'response.output_text.delta').map((d) => d.delta).join(''),
            REFERENCE,
          )
          assert.deepEqual(data.map((d) => d.sequence_number), data.map((_, i) => i), 'sequence numbers continue')
          assert.equal(data.filter((d) => d.type === 'response.created').length, 1)
          assert.equal(
            data.filter((d) => d.type === 'response.output_item.added').length,
            1,
            'the open message item absorbed the continuation',
          )
          const last = data.at(-1)
          assert.equal(last?.type, 'response.completed')
          assert.equal(last?.response.id, data[0]?.response.id)
          assert.equal(last?.response.output[0].content[0].text, REFERENCE)
          assert.ok(last?.response.usage.output_tokens > 0, 'the usage of the last attempt')
        } else {
          assert.equal(
            data.map((d) =>
              (d.candidates?.[0]?.content?.parts ?? []).map((
                x: { text?: string; thought?: boolean },
              ) => (x.thought ? '' : x.text ?? '')).join('')
            ).join(''),
            REFERENCE,
          )
          assert.equal(new Set(data.map((d) => d.responseId)).size, 1, 'one responseId')
          assert.equal(data.filter((d) => d.candidates?.[0]?.finishReason).length, 1)
          assert.ok(data.at(-1)?.candidates[0].finishReason && data.at(-1)?.usageMetadata)
        }
        const model = upstream.split(',')[1]
        assert.deepEqual(
          outcomes(p),
          [[model, 'cut'], [model, 'ok']],
          'a cut looks transient: the same target continues',
        )
        const metrics = await (await p.get('/metrics')).text()
        assert.equal(metricValue(metrics, 'ccr_stream_continuations_total', { outcome: 'completed' }), 1)
        p.close()
      })
    }
  }

  it('a target that rejects the prefill (400) is asked again in words (instruction-style) and continues', async () => {
    // The demo mock configured to reject prefills (`no-prefill`), on both upstream formats.
    for (const [upstream, model] of [['oai', 'mock-o'], ['anth', 'mock-a']] as const) {
      const seen: unknown[] = []
      const inject = (req: Request) => {
        seen.push(req.clone())
        return undefined
      }
      const p = await simProxy(
        simConfig({ default: `${upstream},${model}:cut=4:overlap=1:no-prefill`, background: 'anth,mock-b' }),
        { inject },
      )
      const events = await streamOf(p, 'anthropic')
      assert.equal(textOf(events), REFERENCE, upstream)
      assert.deepEqual(
        outcomes(p),
        [[model, 'cut'], [model, 'status'], [model, 'ok']],
        'prefill rejected, then the instruction on the same target',
      )
      const last = await (seen.at(-1) as Request).json() as { messages: { role: string; content: unknown }[] }
      assert.deepEqual(last.messages.slice(-2).map((m) => m.role), ['assistant', 'user'])
      assert.equal(JSON.stringify(last.messages.at(-1)?.content).includes(CONTINUE_INSTRUCTION), true)
      p.close()
    }
  })

  it('a target that rejects both the prefill and the instruction is passed over: the next candidate continues', async () => {
    let calls = 0
    const inject = (
      req: Request,
    ) => (req.url.includes('/chat/') && ++calls >= 2 ? { 'x-mock-status': '400', 'x-mock-invalid': '1' } : undefined)
    const p = await simProxy(simConfig({ default: 'oai,mock-o:cut=4', background: 'anth,mock-a' }), { inject })
    const events = await streamOf(p, 'anthropic')
    assert.equal(textOf(events), REFERENCE)
    assert.deepEqual(outcomes(p), [['mock-o', 'cut'], ['mock-o', 'status'], ['mock-o', 'status'], ['mock-a', 'ok']])
    p.close()
  })

  it('when nothing can continue, the stream ends with the well-formed in-stream error it had before', async () => {
    let calls = 0
    const inject = () => (++calls > 1 ? { 'x-mock-status': '400', 'x-mock-invalid': '1' } : undefined)
    const p = await simProxy(simConfig({ default: 'oai,mock-o:cut=4', background: 'anth,mock-a' }), { inject })
    const events = await streamOf(p, 'anthropic')
    assert.equal(events.at(-1)?.event, 'error')
    assert.equal(events.filter((e) => e.event === 'message_stop').length, 0)
    const metrics = await (await p.get('/metrics')).text()
    assert.equal(metricValue(metrics, 'ccr_stream_continuations_total', { outcome: 'failed' }), 1)
    p.close()
  })

  it('a continued stream ends with its x-switchyard-route trailer: an SSE comment, the last bytes of the stream', async () => {
    const p = await simProxy(simConfig({ default: 'anth,mock-a:cut=5', background: 'oai,mock-o' }))
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    const raw = await res.text()
    const target = 'anth,mock-a:cut=5'
    assert.equal(
      raw.endsWith(
        `\n\n: x-switchyard-route: default ${target}; tier=tier-0; attempts=2; fallback=0; continued=1; continuation=completed; via=${target} > ${target} (prefill)\n\n`,
      ),
      true,
      raw.slice(-300),
    )
    assert.equal(raw.match(/^: x-switchyard-route/gm)?.length, 1)
    p.close()
    const plain = await simProxy(simConfig({ default: 'anth,mock-a', background: 'oai,mock-o' }))
    assert.equal(
      (await (await plain.post(ask('claude-sonnet-4', { stream: true }))).text()).includes('x-switchyard-route'),
      false,
      'a stream that never broke has no trailer',
    )
    plain.close()
  })

  it('a Gemini stream, continued or failed, is data events only: its clients cannot skip a comment', async () => {
    const gemini = (p: SimProxy) =>
      p.post(
        { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] },
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      )
    const dataOnly = (raw: string) =>
      raw.split('\n\n').filter((e) => e.trim() !== '').every((e) => e.startsWith('data: {'))
    const p = await simProxy(simConfig({ default: 'anth,mock-a:cut=5', background: 'oai,mock-o' }))
    const raw = await (await gemini(p)).text()
    assert.deepEqual(outcomes(p), [['mock-a', 'cut'], ['mock-a', 'ok']], 'the stream was continued')
    assert.ok(dataOnly(raw), raw.slice(-400))
    assert.match(raw, /"finishReason":"STOP"/)
    p.close()
    // A continuation that fails: the stream ends in the error event alone.
    let calls = 0
    const inject = () => (++calls > 1 ? { 'x-mock-status': '400', 'x-mock-invalid': '1' } : undefined)
    const failed = await simProxy(simConfig({ default: 'oai,mock-o:cut=4', background: 'anth,mock-a' }), { inject })
    const rawFailed = await (await gemini(failed)).text()
    assert.match(rawFailed, /data: \{"error":/)
    assert.ok(dataOnly(rawFailed), rawFailed.slice(-400))
    failed.close()
  })

  it('a stream whose continuation failed says so in its trailer, after the error event', async () => {
    let calls = 0
    const inject = () => (++calls > 1 ? { 'x-mock-status': '400', 'x-mock-invalid': '1' } : undefined)
    const p = await simProxy(simConfig({ default: 'oai,mock-o:cut=4', background: 'anth,mock-a' }), { inject })
    const raw = await (await p.post(ask('claude-sonnet-4', { stream: true }))).text()
    assert.match(
      raw,
      /event: error\n.*\n\n: x-switchyard-route: .*; continued=0; continuation=failed; via=oai,mock-o:cut=4\n\n$/,
    )
    p.close()
  })

  it('the real SDKs read a continued stream, trailer included, as one whole answer', async () => {
    for (const upstream of ['anth,mock-a:cut=5:overlap=1', 'oai,mock-o:cut=5:overlap=1']) {
      const p = await simProxy(simConfig({ default: upstream, background: 'anth,mock-b' }))
      const fetch = (async (url: string | URL | Request, init?: RequestInit) =>
        await p.post(
          JSON.parse(String(init?.body)),
          new URL(String(url)).pathname,
        )) as unknown as typeof globalThis.fetch
      const anthropic = new Anthropic({ apiKey: 'k', baseURL: 'http://127.0.0.1:9', fetch, maxRetries: 0 })
      const message = await anthropic.messages.stream({
        model: 'claude-sonnet-4',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hello' }],
      }).finalMessage()
      assert.equal(message.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), REFERENCE, upstream)
      const openai = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', fetch, maxRetries: 0 })
      const completion = await openai.chat.completions.stream({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hello' }],
      }).finalChatCompletion()
      assert.equal(completion.choices[0]?.message.content, REFERENCE, upstream)
      assert.equal(
        p.mock.attempts().filter((a) => a.outcome === 'cut').length,
        2,
        'both streams were cut and continued',
      )
      p.close()
    }
  })

  it('a cut inside a thinking block closes it (signed) and continues the answer in the next block', async () => {
    // Nothing but thinking reached the client: the continuation has no prefill and asks again (cut only once).
    const p = await simProxy(
      simConfig({ default: 'anth,mock-a:mode=thinking:think=3:cut=4:fail-first=1', background: 'oai,mock-o' }),
    )
    const events = await streamOf(p, 'anthropic')
    assert.equal(events.at(-1)?.event, 'message_stop')
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) =>
      JSON.parse(e.data) as { index: number; content_block: { type: string } }
    )
    assert.deepEqual(starts.map((s) => s.index), starts.map((_, i) => i), 'block indices continue without gaps')
    assert.equal(starts[0]?.content_block.type, 'thinking')
    assert.ok(textOf(events).endsWith(REFERENCE), 'the answer text is complete')
    p.close()
  })

  it('a stall past the idle timeout is not retried on the stuck target: the next tier continues', async () => {
    const p = await simProxy(
      simConfig({ default: 'anth,mock-a:stall=5', background: 'oai,mock-o', streamIdleTimeoutMs: 1_000 }),
    )
    const res = await p.post(ask('claude-sonnet-4', { stream: true }))
    const reader = res.body!.getReader()
    let text = ''
    const first = await reader.read()
    text += new TextDecoder().decode(first.value)
    p.clock.advance(1_001)
    p.deps.watchdog.tick()
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
    const events = sseEvents(text)
    assert.equal(textOf(events), REFERENCE)
    assert.deepEqual(outcomes(p), [['mock-a', 'aborted'], ['mock-o', 'ok']])
    p.close()
  })
  // Both tries are billed, and only the first one's prompt is the client's: the usage adds the cut
  // try's streamed output (it reported none, or only `message_start`'s), and the drift check
  // reads the committed try's own report, not a sum that counts the prompt twice and the prefill.
  for (const upstream of ['anth,mock-a', 'oai,mock-o'] as const) {
    it(`${upstream.slice(0, 4)} upstream: a continued stream bills both tries and raises no token drift`, async () => {
      // The mock counts input tokens as Switchyard estimates them, so any drift is the proxy's own doing.
      const p = await simProxy(simConfig({ default: `${upstream}:cut=5`, background: 'anth,mock-b' }), {
        mock: demoMockOptions(),
      })
      const events = await streamOf(p, 'anthropic')
      assert.equal(textOf(events), REFERENCE)
      const model = upstream.split(',')[1]
      assert.deepEqual(outcomes(p), [[model, 'cut'], [model, 'ok']])
      const drift = (await (await p.get('/v1/token-drift')).json()) as {
        tiers: Record<string, { samples: number; maxAbsPct: number; alerts: { warning: number; critical: number } }>
      }
      for (const [tier, d] of Object.entries(drift.tiers)) {
        assert.deepEqual(d.alerts, { warning: 0, critical: 0 }, `${tier}: ${JSON.stringify(d)}`)
        assert.equal(d.maxAbsPct, 0, tier)
      }
      // An Anthropic upstream reported the first try's prompt in message_start: one exact sample.
      const samples = Object.values(drift.tiers).reduce((n, d) => n + d.samples, 0)
      assert.equal(samples, upstream.startsWith('anth') ? 1 : 0)
      const usage = (await (await p.get('/v1/usage')).json()) as {
        total_output_tokens: number
        total_input_tokens: number
        estimated_requests?: number
      }
      // Ten one-token chunks reached the client; the last try alone generated seven of them.
      assert.ok(usage.total_output_tokens >= 10, `output tokens ${usage.total_output_tokens}`)
      p.close()
    })
  }
})
