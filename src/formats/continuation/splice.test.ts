import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { JsonObject, SseEvent, TranslateContext, WireFormatName } from '../types.ts'
import { translationFor } from '../translation.ts'
import { arr } from '../translate/json.ts'
import { MIN_BLIND_OVERLAP, overlapLength } from './overlap.ts'
import { geminiText, StreamRecord } from './record.ts'
import { cannotContinue, CONTINUE_INSTRUCTION, markPrefix, Splicer, withInstruction, withPrefill } from './splice.ts'

// A fixed seed: the run is the same in CI and locally; fast-check prints it with any failure.
const seed = 4242

const tag = (i: number) => `[${String(i).padStart(4, '0')}] `
/** The reference answer: sequence tags, as the mock upstream writes them. */
const reference = (n: number) => Array.from({ length: n }, (_, i) => tag(i + 1)).join('')

const ctx: TranslateContext = {
  model: 'm',
  upstreamModel: 'm',
  requestId: 'req1',
  estimatedInputTokens: 10,
  includeUsage: false,
  created: 1,
}

/** An upstream stream of `format` carrying `pieces` as text; `complete` adds its terminator. */
function upstream(format: WireFormatName, id: string, pieces: readonly string[], complete: boolean): SseEvent[] {
  if (format === 'responses' || format === 'gemini') {
    // Responses and Gemini upstream streams: an Anthropic one as their hub translator writes it (ids per stream).
    const tr = translationFor(format, 'anthropic')!.stream({ ...ctx, requestId: id })
    const out = upstream('anthropic', id, pieces, complete).flatMap((e) => tr.push(e))
    return out
  }
  if (format === 'anthropic') {
    const ev = (type: string, body: object): SseEvent => ({ event: type, data: JSON.stringify({ type, ...body }) })
    const out = [
      ev('message_start', {
        message: {
          id,
          type: 'message',
          role: 'assistant',
          content: [],
          model: 'm',
          usage: { input_tokens: 5, output_tokens: 1 },
        },
      }),
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ...pieces.map((text) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    ]
    if (complete) {
      out.push(
        ev('content_block_stop', { index: 0 }),
        ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }),
        ev('message_stop', {}),
      )
    }
    return out
  }
  const chunk = (delta: object, finish: string | null = null): SseEvent => ({
    data: JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: finish }],
    }),
  })
  const out = [chunk({ role: 'assistant', content: '' }), ...pieces.map((content) => chunk({ content }))]
  if (complete) out.push(chunk({}, 'stop'), { data: '[DONE]' })
  return out
}

/** Upstream events → client events (the real translators, or pass-through for the same format). */
function toClient(client: WireFormatName, up: WireFormatName, evs: readonly SseEvent[], complete: boolean): SseEvent[] {
  const tr = translationFor(client, up)?.stream(ctx)
  if (!tr) return [...evs]
  const out = evs.flatMap((e) => tr.push(e))
  return complete ? [...out, ...tr.end()] : out
}

function textOf(format: WireFormatName, evs: readonly SseEvent[]): string {
  if (format === 'responses') {
    return evs.map((
      e,
    ) => (e.event === 'response.output_text.delta' ? (JSON.parse(e.data) as { delta: string }).delta : '')).join('')
  }
  if (format === 'gemini') return evs.map((e) => geminiText(JSON.parse(e.data) as JsonObject)).join('')
  return evs.map((e) => {
    const d = JSON.parse(e.data === '[DONE]' ? '{}' : e.data) as {
      delta?: { text?: string }
      choices?: { delta?: { content?: string } }[]
    }
    return format === 'anthropic'
      ? (e.event === 'content_block_delta' ? d.delta?.text ?? '' : '')
      : d.choices?.[0]?.delta?.content ?? ''
  }).join('')
}

/** Splits `s` at the given fractions (pieces of any size, never empty). */
function split(s: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((f) => Math.floor(f * s.length)))].filter((i) => i > 0 && i < s.length).sort((a, b) =>
    a - b
  )
  const out: string[] = []
  let prev = 0
  for (const i of [...at, s.length]) {
    if (i > prev) out.push(s.slice(prev, i))
    prev = i
  }
  return out
}

describe('overlapLength', () => {
  it('trims a repeat of the last words, and a word the cut split', () => {
    assert.equal(overlapLength('the quick brown', ' brown fox'), 6)
    assert.equal(overlapLength('[0011] [0012] [00', '[0013] '), 3)
    assert.equal(overlapLength('foo bar ', ' baz'), 1, 'the whitespace a trimmed prefill dropped')
  })

  it('does not trim a short accidental match inside a word', () => {
    assert.equal(overlapLength('[0010] [001', '1] [0012]'), 0)
    assert.ok(MIN_BLIND_OVERLAP > 1)
  })
})

describe('withPrefill and markPrefix', () => {
  it('adds the text as a trailing assistant message without trailing whitespace, after a client prefill of its own', () => {
    const body = { model: 'm', thinking: { type: 'enabled' }, messages: [{ role: 'user', content: 'hi' }] }
    assert.deepEqual(withPrefill(body, 'abc \n'), {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'abc' }],
    })
    const own = { model: 'm', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Sure: ' }] }
    assert.deepEqual((withPrefill(own, 'one two') as { messages: unknown[] }).messages[1], {
      role: 'assistant',
      content: 'Sure: one two',
    })
    assert.equal(withPrefill(body, '  '), body, 'nothing to prefill: the request as it was')
    assert.deepEqual((markPrefix(withPrefill(body, 'x')) as { messages: unknown[] }).messages[1], {
      role: 'assistant',
      content: 'x',
      prefix: true,
    })
  })
})

describe('withPrefill and withInstruction for Responses and Gemini clients', () => {
  it('adds an assistant message item / a model turn, thinking off, and the instruction as a user turn', () => {
    const resp = { model: 'm', input: 'hi', reasoning: { effort: 'high' } }
    assert.deepEqual(withPrefill(resp, 'one two ', 'responses'), {
      model: 'm',
      input: [{ type: 'message', role: 'user', content: 'hi' }, {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'one two' }],
      }],
    })
    assert.deepEqual(arr(withInstruction(resp, 'one', 'responses').input).at(-1), {
      type: 'message',
      role: 'user',
      content: CONTINUE_INSTRUCTION,
    })
    const gem = {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      generationConfig: { maxOutputTokens: 9, thinkingConfig: { thinkingBudget: 99 } },
    }
    assert.deepEqual(withPrefill(gem, 'one two\n', 'gemini'), {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'model', parts: [{ text: 'one two' }] }],
      generationConfig: { maxOutputTokens: 9 },
    })
    assert.deepEqual(arr(withInstruction(gem, 'one', 'gemini').contents).at(-1), {
      role: 'user',
      parts: [{ text: CONTINUE_INSTRUCTION }],
    })
    assert.equal(withPrefill(gem, ' ', 'gemini'), gem)
  })
})

describe('withInstruction', () => {
  it('sends the text so far as an assistant turn and asks for the rest in a user turn, thinking off', () => {
    const body = { model: 'm', thinking: { type: 'enabled' }, messages: [{ role: 'user', content: 'hi' }] }
    assert.deepEqual(withInstruction(body, 'one two \n'), {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'one two' }, {
        role: 'user',
        content: CONTINUE_INSTRUCTION,
      }],
    })
    assert.match(CONTINUE_INSTRUCTION, /^Continue\b/, 'the demo mock recognises the instruction by its first word')
    assert.equal(withInstruction(body, ' '), body, 'nothing to continue from: the request as it was')
  })
})

describe('Splicer', () => {
  const formats = ['anthropic', 'openai', 'responses', 'gemini'] as const

  it('property: for any cut, any repeat of the last words, all four client and upstream formats, the client assembles the reference exactly once', () => {
    const arb = fc.record({
      client: fc.constantFrom(...formats),
      first: fc.constantFrom(...formats),
      second: fc.constantFrom(...formats),
      n: fc.integer({ min: 2, max: 30 }),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      back: fc.integer({ min: 0, max: 3 }),
      trimmedSpace: fc.boolean(),
      before: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
      after: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
    })
    fc.assert(
      fc.property(arb, ({ client, first, second, n, cut, back, trimmedSpace, before, after }) => {
        const ref = reference(n)
        const c = Math.min(ref.length - 1, Math.max(1, Math.floor(cut * ref.length)))
        const received = ref.slice(0, c)
        // Where the continuation starts: right at the cut, at the prefill (whose trailing space
        // was dropped), or at the start of one of the last words it repeats.
        const wordStarts = [...received.matchAll(/\[/g)].map((m) => m.index ?? 0)
        const start = back > 0
          ? wordStarts[Math.max(0, wordStarts.length - back)] ?? 0
          : trimmedSpace
          ? received.trimEnd().length
          : c
        const rec = new StreamRecord(client)
        const sent: SseEvent[] = []
        for (const ev of toClient(client, first, upstream(first, 'msg_first', split(received, before), false), false)) {
          rec.observe(ev)
          sent.push(ev)
        }
        assert.equal(cannotContinue(rec), undefined)
        const sp = new Splicer(client, rec)
        const cont = toClient(
          client,
          second,
          upstream(second, 'msg_second', split(ref.slice(start), after), true),
          true,
        )
        const out = [...sp.opening(), ...sp.push(cont), ...sp.end()]
        const all = [...sent, ...out]
        assert.equal(textOf(client, all), ref)
        if (client === 'responses') {
          const parsed = all.map((e) => ({
            type: e.event,
            d: JSON.parse(e.data) as {
              sequence_number: number
              text?: string
              response?: { id: string; output: { content: { text: string }[] }[] }
            },
          }))
          assert.deepEqual(parsed.map((p) => p.d.sequence_number), parsed.map((_, i) => i), 'sequence numbers continue')
          assert.equal(parsed.filter((p) => p.type === 'response.created').length, 1)
          assert.equal(
            parsed.filter((p) => p.type === 'response.output_item.added').length,
            1,
            'the open message item absorbed the continuation',
          )
          assert.equal(parsed.find((p) => p.type === 'response.output_text.done')?.d.text, ref)
          const last = parsed.at(-1)
          assert.equal(last?.type, 'response.completed')
          assert.equal(last?.d.response?.id, parsed[0]?.d.response?.id, 'the first response id')
          assert.equal(last?.d.response?.output.length, 1)
          assert.equal(last?.d.response?.output[0]?.content[0]?.text, ref)
        } else if (client === 'gemini') {
          const chunks = all.map((e) =>
            JSON.parse(e.data) as { responseId: string; candidates: { finishReason?: string }[] }
          )
          assert.equal(new Set(chunks.map((c) => c.responseId)).size, 1, 'every chunk keeps the first responseId')
          assert.equal(chunks.filter((c) => c.candidates[0]?.finishReason).length, 1)
          assert.ok(chunks.at(-1)?.candidates[0]?.finishReason)
        } else if (client === 'anthropic') {
          assert.equal(all.filter((e) => e.event === 'message_start').length, 1)
          assert.equal(
            all.filter((e) => e.event === 'content_block_start').length,
            1,
            'the open text block absorbed the continuation',
          )
          assert.equal(all.at(-1)?.event, 'message_stop')
        } else {
          const ids = new Set(
            all.filter((e) => e.data !== '[DONE]').map((e) => (JSON.parse(e.data) as { id: string }).id),
          )
          assert.equal(ids.size, 1, "every chunk keeps the first answer's id")
          assert.equal(all.at(-1)?.data, '[DONE]')
        }
      }),
      { seed, numRuns: 400 },
    )
  })

  it("closes a thinking block the cut left open and gives the continuation's blocks the next indices", () => {
    const rec = new StreamRecord('anthropic')
    const ev = (type: string, body: object): SseEvent => ({ event: type, data: JSON.stringify({ type, ...body }) })
    rec.observe(ev('message_start', { message: { id: 'msg_1' } }))
    rec.observe(ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }))
    rec.observe(ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }))
    const sp = new Splicer('anthropic', rec)
    const opening = sp.opening()
    assert.deepEqual(opening.map((e) => e.event), ['content_block_delta', 'content_block_stop'])
    assert.match(opening[0]!.data, /signature_delta/)
    const out = sp.push(upstream('anthropic', 'msg_2', ['answer'], true)).concat(sp.end())
    const starts = out.filter((e) => e.event === 'content_block_start').map((e) =>
      (JSON.parse(e.data) as { index: number }).index
    )
    assert.deepEqual(starts, [1])
    assert.equal(textOf('anthropic', out), 'answer')
  })

  it("Responses: a reasoning item the cut left open is closed first; the continuation's message takes the next output index", () => {
    const tr = translationFor('responses', 'anthropic')!.stream(ctx)
    const ev = (type: string, body: object): SseEvent => ({ event: type, data: JSON.stringify({ type, ...body }) })
    const first = [
      ev('message_start', { message: { id: 'm1', usage: { input_tokens: 1, output_tokens: 0 } } }),
      ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
    ]
    const rec = new StreamRecord('responses')
    const sent = first.flatMap((e) => tr.push(e))
    for (const e of sent) rec.observe(e)
    const sp = new Splicer('responses', rec)
    const opening = sp.opening()
    assert.deepEqual(opening.map((e) => e.event), [
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
    ])
    const out = [
      ...opening,
      ...sp.push(toClient('responses', 'anthropic', upstream('anthropic', 'm2', ['answer'], true), true)),
      ...sp.end(),
    ]
    // deno-lint-ignore no-explicit-any -- a test reads deep fields of parsed wire JSON
    const all = [...sent, ...out].map((e) => ({ type: e.event, d: JSON.parse(e.data) as Record<string, any> }))
    assert.deepEqual(all.map((x) => x.d.sequence_number), all.map((_, i) => i))
    assert.deepEqual(
      all.filter((x) => x.type === 'response.output_item.added').map((x) => [x.d.item.type, x.d.output_index]),
      [['reasoning', 0], ['message', 1]],
    )
    const output = all.at(-1)?.d.response.output as {
      type: string
      summary?: { text: string }[]
      content?: { text: string }[]
    }[]
    assert.deepEqual(output.map((o) => o.type), ['reasoning', 'message'])
    assert.equal(output[0]?.summary?.[0]?.text, 'hmm')
    assert.equal(output[1]?.content?.[0]?.text, 'answer')
  })

  it('a stream with a tool call already sent is not continued (compact or spaced JSON alike)', () => {
    const chunk = {
      id: 'c1',
      choices: [{
        index: 0,
        delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"a":' } }] },
      }],
    }
    for (const data of [JSON.stringify(chunk), JSON.stringify(chunk, null, 1).replace(/\n/g, '')]) {
      const rec = new StreamRecord('openai')
      rec.observe({ data })
      assert.match(cannotContinue(rec) ?? '', /tool call/)
    }
  })

  it('records the text of spaced JSON chunks too', () => {
    const rec = new StreamRecord('openai')
    rec.observe({ data: '{"id": "c1", "choices": [{"index": 0, "delta": {"content": "he"}}]}' })
    rec.observe({ data: '{"id": "c1", "choices": [{"index": 0, "delta": {"content": "llo"}}]}' })
    assert.equal(rec.text(), 'hello')
  })
})
