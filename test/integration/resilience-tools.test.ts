/**
 * Cuts inside tool calls, through the app on simulated time: a tool call reaches the client only
 * whole, so a cut inside one is continued by making the call again, and no client ever sees a
 * tool call whose JSON is invalid.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { metricValue, simConfig, simProxy, streamOf } from './resilience-helpers.ts'
import type { SseEvent, WireFormatName } from '../../src/formats/types.ts'

// A fixed seed: the run is the same in CI and locally; fast-check prints it with any failure.
const seed = 4343

const reference = (chunks: number) =>
  JSON.stringify({ seq: Array.from({ length: chunks }, (_, i) => `[${String(i + 1).padStart(4, '0')}] `).join('') })

interface Seen {
  /** Every tool call the client saw: its arguments as assembled, and whether it was closed / finished. */
  readonly calls: { args: string; closed: boolean }[]
  /** The stream ended with its terminal event (not with an error event). */
  readonly complete: boolean
}

/** What a client assembles from the stream, in its own format. */
function toolCallsOf(client: WireFormatName, events: readonly SseEvent[]): Seen {
  const calls = new Map<number, { args: string; closed: boolean }>()
  if (client === 'responses') {
    for (const e of events) {
      const d = JSON.parse(e.data) as { type?: string; output_index?: number; item?: { type: string }; delta?: string }
      if (d.type === 'response.output_item.added' && d.item?.type === 'function_call') {
        calls.set(d.output_index ?? -1, { args: '', closed: false })
      }
      const call = calls.get(d.output_index ?? -1)
      if (!call) continue
      if (d.type === 'response.function_call_arguments.delta') call.args += d.delta ?? ''
      if (d.type === 'response.output_item.done') call.closed = true
    }
    return { calls: [...calls.values()], complete: events.at(-1)?.event === 'response.completed' }
  }
  if (client === 'gemini') {
    // Gemini sends a call whole, its arguments an object.
    const whole: { args: string; closed: boolean }[] = []
    let finished = false
    for (const e of events) {
      const d = JSON.parse(e.data) as {
        candidates?: { finishReason?: string; content?: { parts?: { functionCall?: { args?: unknown } }[] } }[]
      }
      for (const part of d.candidates?.[0]?.content?.parts ?? []) {
        if (part.functionCall) whole.push({ args: JSON.stringify(part.functionCall.args), closed: true })
      }
      if (d.candidates?.[0]?.finishReason) finished = true
    }
    return { calls: whole, complete: finished }
  }
  if (client === 'anthropic') {
    for (const e of events) {
      const d = JSON.parse(e.data) as {
        index?: number
        content_block?: { type: string }
        delta?: { type: string; partial_json?: string }
      }
      if (e.event === 'content_block_start' && d.content_block?.type === 'tool_use') {
        calls.set(d.index ?? -1, { args: '', closed: false })
      }
      const call = calls.get(d.index ?? -1)
      if (!call) continue
      if (e.event === 'content_block_delta' && d.delta?.type === 'input_json_delta') {
        call.args += d.delta.partial_json ?? ''
      }
      if (e.event === 'content_block_stop') call.closed = true
    }
    return { calls: [...calls.values()], complete: events.at(-1)?.event === 'message_stop' }
  }
  let finished = false
  for (const e of events) {
    if (e.data === '[DONE]') continue
    const d = JSON.parse(e.data) as {
      choices?: {
        finish_reason?: string | null
        delta?: { tool_calls?: { index: number; function?: { arguments?: string } }[] }
      }[]
    }
    const ch = d.choices?.[0]
    for (const tc of ch?.delta?.tool_calls ?? []) {
      const call = calls.get(tc.index) ?? { args: '', closed: false }
      call.args += tc.function?.arguments ?? ''
      calls.set(tc.index, call)
    }
    if (typeof ch?.finish_reason === 'string') finished = true
  }
  for (const c of calls.values()) c.closed = finished
  return { calls: [...calls.values()], complete: finished && events.at(-1)?.data === '[DONE]' }
}

describe('resilience: cuts inside tool calls', () => {
  for (const client of ['anthropic', 'openai', 'responses', 'gemini'] as const) {
    it(`${client} client: a cut inside a tool call none of whose arguments reached the client restarts the call on the continuation`, async () => {
      const p = await simProxy(
        simConfig({ default: 'anth,mock-a:mode=tool:cut=4:fail-first=1', background: 'oai,mock-o' }),
      )
      const seen = toolCallsOf(client, await streamOf(p, client))
      assert.equal(seen.complete, true)
      assert.deepEqual(
        seen.calls,
        [{ args: reference(10), closed: true }],
        'one tool call, whole, from the continuation',
      )
      assert.deepEqual(p.mock.attempts().map((a) => a.outcome), ['cut', 'ok'])
      const metrics = await (await p.get('/metrics')).text()
      assert.equal(metricValue(metrics, 'ccr_stream_continuations_total', { outcome: 'completed' }), 1)
      p.close()
    })
  }

  it('a target that cuts every try: after the continuations the client gets the error and no tool call at all', async () => {
    const p = await simProxy(
      simConfig({ default: 'anth,mock-a:mode=tool:cut=4', background: 'oai,mock-o:mode=tool:cut=4' }),
    )
    const events = await streamOf(p, 'anthropic')
    const seen = toolCallsOf('anthropic', events)
    assert.equal(events.at(-1)?.event, 'error')
    assert.deepEqual(seen.calls, [], 'nothing of the cut tool calls reached the client')
    p.close()
  })

  it('property: for any cut, chunking, client and upstream format, every tool call a client sees is whole, valid JSON', async () => {
    const arb = fc.record({
      client: fc.constantFrom<WireFormatName>('anthropic', 'openai', 'responses', 'gemini'),
      upstream: fc.constantFrom('anth,mock-a', 'oai,mock-o'),
      chunks: fc.integer({ min: 1, max: 12 }),
      cut: fc.integer({ min: 1, max: 18 }),
      once: fc.boolean(),
    })
    await fc.assert(
      fc.asyncProperty(arb, async ({ client, upstream, chunks, cut, once }) => {
        const knobs = `mode=tool:chunks=${chunks}:cut=${cut}${once ? ':fail-first=1' : ''}`
        const p = await simProxy(simConfig({ default: `${upstream}:${knobs}`, background: `anth,mock-b:${knobs}` }))
        try {
          const seen = toolCallsOf(client, await streamOf(p, client))
          for (const call of seen.calls) {
            assert.equal(call.closed, true, 'a tool call the client sees is always whole')
            assert.equal(call.args, reference(chunks))
            JSON.parse(call.args)
          }
          if (seen.complete) assert.equal(seen.calls.length, 1)
          // A cut after a call was whole (before the stop) is not continued: the call the client has stays, whole.
          else {assert.ok(
              seen.calls.length <= 1,
              'a stream that ends in an error shows no tool call but one it had whole',
            )}
          if (once) assert.equal(seen.complete, true, 'a target that cuts once: the restarted call completes')
        } finally {
          p.close()
        }
      }),
      { seed, numRuns: 60 },
    )
  })
})
