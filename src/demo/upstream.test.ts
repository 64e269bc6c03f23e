import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { chunkText, createMockUpstream, estimateInputTokens, outputTokensOf } from './upstream.ts'
import type { MockOptions } from './upstream.ts'
import { createSseDecoder } from '../formats/index.ts'
import type { SseEvent } from '../formats/types.ts'

type Json = Record<string, unknown>
type Ev = SseEvent

const instant = (): Promise<void> => Promise.resolve()
const PROMPT = {
  system: 'Be terse.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'héllo wörld, count to ten' }] }],
}
const PATHS = { anthropic: '/v1/messages', openai: '/v1/chat/completions' } as const

function request(format: keyof typeof PATHS, model: string, extra: Json = {}, init: RequestInit = {}): Request {
  return new Request(`http://mock${PATHS[format]}`, {
    method: 'POST',
    body: JSON.stringify({ model, max_tokens: 64, ...PROMPT, ...extra }),
    ...init,
  })
}

/** A whole SSE body through the project's one decoder (property-tested on its own in src/formats/sse). */
function parseSse(text: string): Ev[] {
  const d = createSseDecoder()
  return [...d.push(text), ...d.flush()]
}

const mockWith = (opts: MockOptions = {}) => createMockUpstream({ sleep: instant, ...opts })

/** Checks the Anthropic grammar of docs/protocols.md §2.3 and returns text, thinking, tool JSON and usage. */
function checkAnthropic(
  events: Ev[],
): { text: string; thinking: string; toolJson: string; input: number; output: number } {
  const datas = events.map((e) => JSON.parse(e.data) as Json)
  events.forEach((e, i) => assert.equal(e.event, datas[i]?.type, 'event line matches data.type'))
  assert.equal(datas[0]?.type, 'message_start')
  assert.equal(datas.at(-1)?.type, 'message_stop')
  assert.equal(datas.filter((d) => d.type === 'message_stop').length, 1)
  let text = ''
  let thinking = ''
  let toolJson = ''
  let open = -1
  let nextIndex = 0
  for (const d of datas) {
    if (d.type === 'content_block_start') {
      assert.equal(d.index, nextIndex++)
      open = d.index as number
    }
    if (d.type === 'content_block_delta') {
      assert.equal(d.index, open)
      const delta = d.delta as Json
      if (delta.type === 'text_delta') text += delta.text as string
      if (delta.type === 'thinking_delta') thinking += delta.thinking as string
      if (delta.type === 'input_json_delta') toolJson += delta.partial_json as string
    }
    if (d.type === 'content_block_stop') {
      assert.equal(d.index, open)
      open = -1
    }
  }
  const start = (datas[0]?.message as Json).usage as Json
  const last = datas.findLast((d) => d.type === 'message_delta')?.usage as Json
  return { text, thinking, toolJson, input: start.input_tokens as number, output: last.output_tokens as number }
}

/** Checks §3.4: same id everywhere, role first, one finish_reason, usage chunk, [DONE] last. */
function checkOpenAI(events: Ev[]): { text: string; reasoning: string; args: string; usage: Json | undefined } {
  assert.equal(events.at(-1)?.data, '[DONE]')
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Json)
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1)
  let text = ''
  let reasoning = ''
  let args = ''
  let finishes = 0
  chunks.forEach((c, i) => {
    const choice = (c.choices as Json[])[0]
    if (choice === undefined) return
    const delta = choice.delta as Json
    if (i === 0) assert.equal(delta.role, 'assistant')
    if (choice.finish_reason !== null) finishes++
    text += (delta.content as string | undefined) ?? ''
    reasoning += (delta.reasoning_content as string | undefined) ?? ''
    for (const tc of (delta.tool_calls as Json[] | undefined) ?? []) args += (tc.function as Json).arguments as string
  })
  assert.equal(finishes, 1)
  const usage = chunks.findLast((c) => (c.choices as Json[]).length === 0)?.usage as Json | undefined
  return { text, reasoning, args, usage }
}

function expectedText(chunks: number, tokens: number): string {
  let s = ''
  for (let i = 1; i <= chunks; i++) s += chunkText(i, tokens)
  return s
}

describe('mock upstream streams', () => {
  it('Anthropic text stream is well-formed, echoes the model and reports the usage it sent', async () => {
    const mock = mockWith()
    const res = await mock.fetch(request('anthropic', 'claude-x:chunks=7:tokens=3', { stream: true }))
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const events = parseSse(await res.text())
    assert.match(events[0]?.data ?? '', /"model":"claude-x:chunks=7:tokens=3"/)
    const got = checkAnthropic(events)
    assert.equal(got.text, expectedText(7, 3))
    assert.equal(got.output, 21)
    assert.equal(got.input, estimateInputTokens(PROMPT))
    assert.equal(mock.attempts()[0]?.events, events.length)
  })

  it('Anthropic thinking and tool modes produce the blocks the SDK accumulates', async () => {
    const mock = mockWith()
    const think = checkAnthropic(
      parseSse(
        await (await mock.fetch(request('anthropic', 'm:mode=thinking:think=2:chunks=3', { stream: true }))).text(),
      ),
    )
    assert.match(think.thinking, /^\(think 0001\) \(think 0002\) $/)
    assert.equal(think.output, 5)
    const tool = checkAnthropic(
      parseSse(await (await mock.fetch(request('anthropic', 'm:mode=tool:chunks=4', { stream: true }))).text()),
    )
    assert.deepEqual(JSON.parse(tool.toolJson), { seq: expectedText(4, 1) })
  })

  it('OpenAI stream with include_usage ends with a usage chunk then [DONE]', async () => {
    const mock = mockWith()
    const res = await mock.fetch(
      request('openai', 'gpt-x:chunks=5:tokens=2', { stream: true, stream_options: { include_usage: true } }),
    )
    const got = checkOpenAI(parseSse(await res.text()))
    assert.equal(got.text, expectedText(5, 2))
    assert.equal(got.usage?.completion_tokens, 10)
    assert.equal(got.usage?.prompt_tokens, estimateInputTokens(PROMPT))
  })

  it('OpenAI stream without include_usage has no usage chunk; tool and reasoning modes fill their fields', async () => {
    const mock = mockWith()
    const plain = checkOpenAI(
      parseSse(await (await mock.fetch(request('openai', 'g:chunks=2', { stream: true }))).text()),
    )
    assert.equal(plain.usage, undefined)
    const tool = checkOpenAI(
      parseSse(await (await mock.fetch(request('openai', 'g:mode=tool:chunks=3', { stream: true }))).text()),
    )
    assert.deepEqual(JSON.parse(tool.args), { seq: expectedText(3, 1) })
    const think = checkOpenAI(
      parseSse(
        await (await mock.fetch(request('openai', 'g:mode=thinking:think=1:chunks=1', { stream: true }))).text(),
      ),
    )
    assert.equal(think.reasoning, '(think 0001) ')
  })

  it('tool-name, tool-input and tool-once script one tool round trip in both formats, streamed and JSON', async () => {
    const input = { command: 'echo hi > out.txt', description: 'x: "quoted" \\ text' }
    const mock = mockWith({ defaults: { toolName: 'Bash', toolInput: JSON.stringify(input) } })
    const model = 'm:mode=tool:tool-once:chunks=3'
    // Turn 1: no tool result yet, so the scripted call (name and arguments as given, split into fragments).
    const a1 = checkAnthropic(parseSse(await (await mock.fetch(request('anthropic', model, { stream: true }))).text()))
    assert.deepEqual(JSON.parse(a1.toolJson), input)
    const a1json = await (await mock.fetch(request('anthropic', model))).json() as Json
    assert.equal(a1json.stop_reason, 'tool_use')
    assert.deepEqual(a1json.content, [{ type: 'tool_use', id: (a1json.content as Json[])[0]?.id, name: 'Bash', input }])
    const o1 = await (await mock.fetch(request('openai', model))).json() as Json
    const call = ((o1.choices as Json[])[0]?.message as Json).tool_calls as Json[]
    assert.deepEqual(call[0]?.function, { name: 'Bash', arguments: JSON.stringify(input) })
    const o1s = parseSse(await (await mock.fetch(request('openai', model, { stream: true }))).text())
    assert.deepEqual(JSON.parse(checkOpenAI(o1s).args), input)
    assert.match(o1s[1]?.data ?? '', /"name":"Bash"/)
    // Turn 2: the last message carries the result, so the answer is text.
    const anthropicTurn2 = [...PROMPT.messages, { role: 'assistant', content: a1json.content }, {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }],
    }]
    const a2 = checkAnthropic(
      parseSse(
        await (await mock.fetch(request('anthropic', model, { stream: true, messages: anthropicTurn2 }))).text(),
      ),
    )
    assert.equal(a2.text, expectedText(3, 1))
    assert.equal(a2.toolJson, '')
    const openaiTurn2 = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: call }, {
      role: 'tool',
      tool_call_id: 'call_1',
      content: 'ok',
    }, { role: 'system', content: 'a system message after the result does not count' }]
    const o2 = await (await mock.fetch(request('openai', model, { messages: openaiTurn2 }))).json() as Json
    assert.equal((o2.choices as Json[])[0]?.finish_reason, 'stop')
    assert.equal(((o2.choices as Json[])[0]?.message as Json).content, expectedText(3, 1))
    // Without tool-once the mock keeps calling the tool.
    const again = await (await mock.fetch(request('anthropic', 'm:mode=tool', { messages: anthropicTurn2 })))
      .json() as Json
    assert.equal(again.stop_reason, 'tool_use')
  })

  it('tool-once and the scripted call also hold for Responses and Gemini requests', async () => {
    const input = { command: 'ls' }
    const mock = mockWith({
      defaults: { toolName: 'shell', toolInput: JSON.stringify(input), toolOnce: true, mode: 'tool' },
    })
    const post = async (path: string, body: Json) =>
      await (await mock.fetch(new Request(`http://mock${path}`, { method: 'POST', body: JSON.stringify(body) }))).text()
    const r1 = await post('/v1/responses', { model: 'r', input: [{ type: 'message', role: 'user', content: 'hi' }] })
    assert.match(r1, /"type":"function_call"[^}]*"name":"shell","arguments":"\{\\"command\\":\\"ls\\"\}"/)
    const r2 = await post('/v1/responses', {
      model: 'r',
      input: [{ type: 'message', role: 'user', content: 'hi' }, {
        type: 'function_call_output',
        call_id: 'c',
        output: 'ok',
      }],
    })
    assert.doesNotMatch(r2, /function_call/)
    const g1 = await post('/v1beta/models/g:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })
    assert.match(g1, /"functionCall":\{[^}]*"name":"shell","args":\{"command":"ls"\}/)
    const g2 = await post('/v1beta/models/g:generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }, {
        role: 'user',
        parts: [{ functionResponse: { name: 'shell', response: {} } }],
      }],
    })
    assert.doesNotMatch(g2, /functionCall/)
  })

  it('tool knobs are validated: a bad name or non-object input is a 422, headers work', async () => {
    const mock = mockWith()
    assert.equal((await mock.fetch(request('anthropic', 'm:mode=tool:tool-name=a b'))).status, 422)
    assert.equal(
      (await mock.fetch(request('anthropic', 'm', {}, { headers: { 'x-mock-tool-input': '[1]' } }))).status,
      422,
    )
    assert.equal(
      (await mock.fetch(request('anthropic', 'm', {}, { headers: { 'x-mock-tool-input': 'nope' } }))).status,
      422,
    )
    const res = await mock.fetch(
      request('anthropic', 'm:mode=tool:tool-name=Read', {}, {
        headers: { 'x-mock-tool-input': '{"file_path":"/tmp/x"}' },
      }),
    )
    assert.deepEqual(((await res.json() as Json).content as Json[])[0], {
      type: 'tool_use',
      id: 'toolu_msg_mock1',
      name: 'Read',
      input: { file_path: '/tmp/x' },
    })
  })

  it('law: for any chunking, streamed text equals the JSON answer text and usage equals tokens generated', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('anthropic' as const, 'openai' as const),
        async (chunks, tokens, format) => {
          const mock = mockWith()
          const model = `m:chunks=${chunks}:tokens=${tokens}`
          const json = await (await mock.fetch(request(format, model))).json() as Json
          const events = parseSse(
            await (await mock.fetch(request(format, model, { stream: true, stream_options: { include_usage: true } })))
              .text(),
          )
          const expected = outputTokensOf({ chunks, tokensPerChunk: tokens, mode: 'text', thinkChunks: 0 })
          if (format === 'anthropic') {
            const s = checkAnthropic(events)
            assert.equal(s.text, ((json.content as Json[])[0] as Json).text)
            assert.equal(s.output, expected)
            assert.equal((json.usage as Json).output_tokens, expected)
          } else {
            const s = checkOpenAI(events)
            const choice = (json.choices as Json[])[0] as Json
            assert.equal(s.text, (choice.message as Json).content)
            assert.equal(s.usage?.completion_tokens, expected)
            assert.equal((json.usage as Json).completion_tokens, expected)
          }
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('mock upstream: continuations, cut-rate and outages', () => {
  const textOf = (events: Ev[]) =>
    events.map((e) => ((JSON.parse(e.data) as { delta?: { text?: string } }).delta?.text ?? '')).join('')

  it('continues its counter after the last tag of an assistant prefill, less `overlap` chunks, and ignores stream faults then', async () => {
    const mock = mockWith()
    const messages = [{ role: 'user', content: 'count' }, { role: 'assistant', content: '[0001] [0002] [0003] [00' }]
    const res = await mock.fetch(request('anthropic', 'm:chunks=5:cut=2:overlap=1', { stream: true, messages }))
    assert.equal(textOf(parseSse(await res.text())), chunkText(3, 1) + chunkText(4, 1) + chunkText(5, 1))
    assert.equal(mock.attempts()[0]?.outcome, 'ok')
  })

  it('no-prefill answers a prefill with a plain 400; an assistant message then a "Continue" user turn is continued like a prefill', async () => {
    const mock = mockWith()
    const answer = [{ role: 'user', content: 'count' }, { role: 'assistant', content: '[0001] [0002]' }]
    const rejected = await mock.fetch(
      request('anthropic', 'm:chunks=4:cut=1:no-prefill', { stream: true, messages: answer }),
    )
    assert.equal(rejected.status, 400)
    assert.match(await rejected.text(), /invalid_request_error/)
    const asked = [...answer, { role: 'user', content: 'Continue your previous answer exactly where it was cut off.' }]
    const res = await mock.fetch(request('anthropic', 'm:chunks=4:cut=1:no-prefill', { stream: true, messages: asked }))
    assert.equal(textOf(parseSse(await res.text())), chunkText(3, 1) + chunkText(4, 1))
    const plain = await mock.fetch(
      request('anthropic', 'm:chunks=2:no-prefill', { stream: true, messages: [{ role: 'user', content: 'count' }] }),
    )
    assert.equal(
      textOf(parseSse(await plain.text())),
      chunkText(1, 1) + chunkText(2, 1),
      'a request without a prefill is answered as usual',
    )
  })

  it('cut-rate cuts about that share of streams, each before its terminator', async () => {
    const mock = mockWith()
    for (let i = 0; i < 40; i++) {
      await (await mock.fetch(request('openai', 'm:chunks=5:cut-rate=0.5', { stream: true }))).text()
    }
    const cut = mock.attempts().filter((a) => a.outcome === 'cut').length
    assert.ok(cut > 5 && cut < 35, `${cut} of 40 cut`)
  })

  it('outage=MS answers 503 from the first attempt of the key for MS, then normally', async () => {
    let now = 0
    const mock = mockWith({ now: () => now })
    assert.equal((await mock.fetch(request('openai', 'm:outage=1000'))).status, 503)
    now = 999
    assert.equal((await mock.fetch(request('openai', 'm:outage=1000'))).status, 503)
    now = 1_000
    assert.equal((await mock.fetch(request('openai', 'm:outage=1000'))).status, 200)
  })
})
