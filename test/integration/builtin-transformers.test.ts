/**
 * `tooluse` and `forcereasoning` through the whole pipeline: an Anthropic client, an OpenAI
 * upstream scripted to answer the way such models do, and what the client finally sees.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from '../../src/compose.ts'
import { silentLogger } from '../../src/log.ts'
import { anthropicBody, configOf } from './helpers.ts'

type Script = (body: Record<string, unknown>) => Response

async function proxyWith(use: string, script: Script) {
  const seen: Record<string, unknown>[] = []
  const config = configOf({
    LOG: false,
    Providers: [{
      name: 'weak',
      api_base_url: 'http://upstream.test/v1/chat/completions',
      api_key: 'k',
      models: ['small'],
      transformer: { use: [use] },
    }],
    Router: { default: 'weak,small' },
  })
  const inst = await createInstance(config, {
    dataDir: ':memory:',
    log: silentLogger,
    fetch: async (req) => {
      const body = (await req.json()) as Record<string, unknown>
      seen.push(body)
      return script(body)
    },
  })
  return {
    inst,
    seen,
    post: (body: unknown) =>
      inst.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  }
}

const completion = (message: Record<string, unknown>, finish: string) =>
  new Response(
    JSON.stringify({
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: 'small',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    }),
    { headers: { 'content-type': 'application/json' } },
  )

function chunks(deltas: Record<string, unknown>[], finish: string): Response {
  const frames = [...deltas.map((d) => ({ choices: [{ index: 0, delta: d, finish_reason: null }] })), {
    choices: [{ index: 0, delta: {}, finish_reason: finish }],
  }]
  const text =
    frames.map((f) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'small', ...f })}\n\n`
    ).join('') + 'data: [DONE]\n\n'
  return new Response(text, { headers: { 'content-type': 'text/event-stream' } })
}

describe('built-in tooluse through the pipeline', () => {
  it('the upstream is made to use tools (ExitTool offered); its ExitTool call reaches the Anthropic client as text', async () => {
    const p = await proxyWith(
      'tooluse',
      () =>
        completion({
          content: null,
          tool_calls: [{
            id: 't1',
            type: 'function',
            function: { name: 'ExitTool', arguments: '{"response":"Nothing to run: the answer is 42."}' },
          }],
        }, 'tool_calls'),
    )
    const res = await p.post(
      anthropicBody('claude-sonnet-4', {
        tools: [{ name: 'run', description: 'run a command', input_schema: { type: 'object', properties: {} } }],
      }),
    )
    assert.equal(res.status, 200)
    const sent = p.seen.at(-1)!
    assert.equal(sent.tool_choice, 'required')
    assert.ok((sent.tools as { function: { name: string } }[]).some((t) => t.function.name === 'ExitTool'))
    const body = (await res.json()) as { content: { type: string; text?: string }[]; stop_reason: string }
    assert.deepEqual(body.content.map((b) => b.type), ['text'])
    assert.equal(body.content[0]!.text, 'Nothing to run: the answer is 42.')
    assert.equal(body.stop_reason, 'end_turn')
    await p.inst.close()
  })
})

describe('built-in forcereasoning through the pipeline', () => {
  it('JSON and stream: the tagged reasoning reaches an Anthropic client as a thinking block', async () => {
    const answer = '<reasoning_content>The user greets me.</reasoning_content>\nHello!'
    const p = await proxyWith(
      'forcereasoning',
      (body) =>
        body.stream === true
          ? chunks([
            { role: 'assistant', content: '' },
            ...['<reasoning_', 'content>The user ', 'greets me.</reasoning_content>', '\nHello!'].map((c) => ({
              content: c,
            })),
          ], 'stop')
          : completion({ content: answer }, 'stop'),
    )
    const res = await p.post(anthropicBody('claude-sonnet-4'))
    const body = (await res.json()) as { content: { type: string; thinking?: string; text?: string }[] }
    assert.equal(body.content[0]?.type, 'thinking')
    assert.equal(body.content[0]?.thinking, 'The user greets me.')
    assert.equal(body.content.find((b) => b.type === 'text')?.text?.trim(), 'Hello!')
    assert.match(String((p.seen.at(-1)!.messages as { content: string }[])[0]!.content), /<reasoning_content>/)

    const streamed = await (await p.post(anthropicBody('claude-sonnet-4', { stream: true }))).text()
    const thinking = [...streamed.matchAll(/"thinking_delta","thinking":"([^"]*)"/g)].map((m) => m[1]).join('')
    const text = [...streamed.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]).join('')
    assert.equal(thinking, 'The user greets me.')
    assert.equal(text.replace(/\\n/g, '\n').trim(), 'Hello!')
    assert.match(streamed, /event: message_stop/)
    await p.inst.close()
  })
})
