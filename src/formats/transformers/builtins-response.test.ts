/** The `tooluse` and `forcereasoning` built-ins, request and response sides, JSON and streams. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSseDecoder } from '../sse/decode.ts'
import { EXIT_TOOL, tooluseRequest, tooluseResponse } from './tooluse.ts'
import { forceReasoningRequest, forceReasoningResponse } from './forcereasoning.ts'

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } })
/** An SSE response sent in the given chunks (strings), to check events split anywhere. */
function sse(chunks: readonly string[]): Response {
  const enc = new TextEncoder()
  return new Response(
    new ReadableStream({
      start(c) {
        for (const ch of chunks) c.enqueue(enc.encode(ch))
        c.close()
      },
    }),
    { headers: { 'content-type': 'text/event-stream' } },
  )
}
const frame = (d: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof d === 'string' ? d : JSON.stringify(d)}\n\n`
/** Splits a string into pieces of `n` characters (events and JSON split mid-way). */
const pieces = (s: string, n: number) =>
  Array.from({ length: Math.ceil(s.length / n) }, (_, i) => s.slice(i * n, i * n + n))
async function events(res: Response): Promise<Record<string, unknown>[]> {
  const d = createSseDecoder()
  return [...d.push(await res.text()), ...d.flush()].filter((e) => e.data.startsWith('{')).map((e) =>
    JSON.parse(e.data) as Record<string, unknown>
  )
}

describe('tooluse', () => {
  const tools = [{ type: 'function', function: { name: 'read_file', parameters: { type: 'object' } } }]

  it('request: requires a tool, adds the reminder and ExitTool; nothing changes without tools', () => {
    const out = tooluseRequest({ messages: [{ role: 'user', content: 'hi' }], tools }, {}, { format: 'openai' })
    assert.equal(out.tool_choice, 'required')
    assert.deepEqual((out.tools as { function: { name: string } }[]).map((t) => t.function.name), [
      'read_file',
      EXIT_TOOL,
    ])
    assert.equal((out.messages as { role: string }[]).at(-1)?.role, 'system')
    const plain = { messages: [{ role: 'user', content: 'hi' }] }
    assert.equal(tooluseRequest(plain, {}, { format: 'openai' }), plain)
    const a = tooluseRequest({ system: 'be brief', tools: [{ name: 'read_file', input_schema: {} }] }, {}, {
      format: 'anthropic',
    })
    assert.deepEqual(a.tool_choice, { type: 'any' })
    assert.deepEqual((a.tools as { name: string }[]).map((t) => t.name), ['read_file', EXIT_TOOL])
    assert.equal((a.system as { text: string }[])[0]?.text, 'be brief')
  })

  it('OpenAI JSON: an ExitTool call becomes its response text, finish_reason stop; other calls stay', async () => {
    const call = (name: string, args: string) => ({
      id: `c_${name}`,
      type: 'function',
      function: { name, arguments: args },
    })
    const res = await tooluseResponse(
      json({
        choices: [{
          index: 0,
          message: { role: 'assistant', content: null, tool_calls: [call(EXIT_TOOL, '{"response":"All done."}')] },
          finish_reason: 'tool_calls',
        }],
      }),
      {},
      { format: 'openai' },
    )
    const body = (await res.json()) as {
      choices: { message: { content: string; tool_calls?: unknown }; finish_reason: string }[]
    }
    assert.equal(body.choices[0]!.message.content, 'All done.')
    assert.equal(body.choices[0]!.message.tool_calls, undefined)
    assert.equal(body.choices[0]!.finish_reason, 'stop')
    const real = await tooluseResponse(
      json({
        choices: [{ index: 0, message: { tool_calls: [call('read_file', '{}')] }, finish_reason: 'tool_calls' }],
      }),
      {},
      { format: 'openai' },
    )
    assert.equal(
      ((await real.json()) as { choices: { finish_reason: string }[] }).choices[0]!.finish_reason,
      'tool_calls',
    )
  })

  it('OpenAI stream, split anywhere: ExitTool argument deltas are held and come out as content before the finish', async () => {
    const text = [
      frame({ choices: [{ index: 0, delta: { role: 'assistant' } }] }),
      frame({
        choices: [{
          index: 0,
          delta: {
            tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: EXIT_TOOL, arguments: '' } }],
          },
        }],
      }),
      frame({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"respo' } }] } }] }),
      frame({
        choices: [{
          index: 0,
          delta: { tool_calls: [{ index: 0, function: { arguments: 'nse":"Hi \\"there\\""}' } }] },
        }],
      }),
      frame({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
      frame('[DONE]'),
    ].join('')
    for (const n of [1, 7, 1000]) {
      const evs = await events(await tooluseResponse(sse(pieces(text, n)), {}, { format: 'openai' }))
      const deltas = evs.flatMap((
        e,
      ) => (e.choices as { delta: { content?: string; tool_calls?: unknown }; finish_reason?: string }[]))
      assert.equal(deltas.some((c) => c.delta.tool_calls !== undefined), false, `chunk ${n}`)
      assert.equal(deltas.map((c) => c.delta.content ?? '').join(''), 'Hi "there"')
      assert.equal(deltas.at(-1)?.finish_reason, 'stop')
    }
  })

  it('Anthropic JSON and stream: the ExitTool block becomes a text block at its index, stop_reason end_turn', async () => {
    const res = await tooluseResponse(
      json({
        content: [{ type: 'text', text: 'ok' }, {
          type: 'tool_use',
          id: 't',
          name: EXIT_TOOL,
          input: { response: 'Done.' },
        }],
        stop_reason: 'tool_use',
      }),
      {},
      { format: 'anthropic' },
    )
    assert.deepEqual(await res.json(), {
      content: [{ type: 'text', text: 'ok' }, { type: 'text', text: 'Done.' }],
      stop_reason: 'end_turn',
    })
    const text = [
      frame({ type: 'message_start', message: {} }, 'message_start'),
      frame({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't', name: EXIT_TOOL, input: {} },
      }, 'content_block_start'),
      frame({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"response": "Do' },
      }, 'content_block_delta'),
      frame(
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: 'ne."}' } },
        'content_block_delta',
      ),
      frame({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
      frame({ type: 'message_delta', delta: { stop_reason: 'tool_use' } }, 'message_delta'),
      frame({ type: 'message_stop' }, 'message_stop'),
    ].join('')
    const evs = await events(await tooluseResponse(sse(pieces(text, 5)), {}, { format: 'anthropic' }))
    assert.deepEqual(evs.map((e) => e.type), [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    assert.deepEqual((evs[1] as { content_block: unknown }).content_block, { type: 'text', text: '' })
    assert.deepEqual((evs[2] as { delta: unknown }).delta, { type: 'text_delta', text: 'Done.' })
    assert.equal((evs[4] as { delta: { stop_reason: string } }).delta.stop_reason, 'end_turn')
  })
})

describe('forcereasoning', () => {
  it("request: instruction first; the last ten turns' reasoning replayed in tags", () => {
    const messages = Array.from(
      { length: 12 },
      (
        _,
        i,
      ) => [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}`, reasoning_content: `r${i}` }],
    ).flat()
    const out = forceReasoningRequest({ messages }, {}, { format: 'openai' })
    const m = out.messages as { role: string; content: string; reasoning_content?: string }[]
    assert.equal(m[0]!.role, 'system')
    assert.match(m[0]!.content, /<reasoning_content>/)
    const assistants = m.filter((x) => x.role === 'assistant')
    assert.equal(assistants[0]!.content, 'a0', 'older than ten turns: not replayed')
    assert.equal(assistants[0]!.reasoning_content, 'r0')
    assert.equal(assistants[11]!.content, '<reasoning_content>r11</reasoning_content>\na11')
    assert.equal(assistants[11]!.reasoning_content, undefined)
    assert.equal(assistants.filter((a) => a.content.startsWith('<reasoning_content>')).length, 10)
    const anth = { messages: [{ role: 'user', content: 'x' }] }
    assert.equal(forceReasoningRequest(anth, {}, { format: 'anthropic' }), anth)
  })

  it('JSON: the tagged part becomes reasoning_content', async () => {
    const res = await forceReasoningResponse(
      json({
        choices: [{
          index: 0,
          message: { role: 'assistant', content: '<reasoning_content>2+2 is 4</reasoning_content>\nFour.' },
        }],
      }),
      {},
      { format: 'openai' },
    )
    const msg =
      ((await res.json()) as { choices: { message: { content: string; reasoning_content: string } }[] }).choices[0]!
        .message
    assert.equal(msg.reasoning_content, '2+2 is 4')
    assert.equal(msg.content.trim(), 'Four.')
  })

  it('stream, tags split across chunks: reasoning deltas, then content deltas', async () => {
    const parts = ['<reason', 'ing_content>step 1, ', 'step 2</reasoning_', 'content>The answer', ' is 4.']
    const text = [
      ...parts.map((p) => frame({ choices: [{ index: 0, delta: { content: p } }] })),
      frame({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      frame('[DONE]'),
    ].join('')
    for (const n of [3, 1000]) {
      const evs = await events(await forceReasoningResponse(sse(pieces(text, n)), {}, { format: 'openai' }))
      const deltas = evs.flatMap((e) =>
        (e.choices as { delta: { content?: string; reasoning_content?: string } }[]).map((c) => c.delta)
      )
      assert.equal(deltas.map((d) => d.reasoning_content ?? '').join(''), 'step 1, step 2')
      assert.equal(deltas.map((d) => d.content ?? '').join('').trim(), 'The answer is 4.')
    }
  })
})
