/**
 * Responses API compaction through Switchyard, as the Codex CLI asks for it when its provider is
 * OpenAI's (`openai_base_url` pointed here): `input` ends with `compaction_trigger`, the answer
 * must be one `compaction` item, and later requests carry that item in place of the history.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { JsonObject } from '../../src/formats/types.ts'
import { spyingProxy, sseEvents, testConfigFile } from './helpers.ts'

const config = testConfigFile({
  Providers: [
    ...testConfigFile().Providers as object[],
    { name: 'resp', api_base_url: 'http://mock.test/v1/responses', api_key: 'sk-resp-secret-4', models: ['mock-r'] },
  ],
})

const history = [
  { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'rename the flag to --fast' }] },
  { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{"cmd":"grep -r flag"}' },
  { type: 'function_call_output', call_id: 'c1', output: 'src/cli.ts: --quick' },
]
const TOOLS = [{ type: 'function', name: 'exec_command', parameters: { type: 'object', properties: {} } }]

const lastUpstreamBody = (p: Awaited<ReturnType<typeof spyingProxy>>) => JSON.parse(p.seen.at(-1)!.body) as JsonObject

describe('compaction through an upstream of another format', () => {
  it('a compaction_trigger is answered with one compaction item, which the next request turns back into its summary', async () => {
    const p = await spyingProxy(config)
    const sse = await (await p.post('/v1/responses', {
      model: 'anth,mock-a:chunks=3',
      stream: true,
      store: false,
      input: [...history, { type: 'compaction_trigger' }],
      tools: TOOLS,
    })).text()
    const up = lastUpstreamBody(p) as { messages: { role: string; content: unknown }[]; tool_choice: unknown }
    assert.match(JSON.stringify(up.messages.at(-1)), /replaced by a summary/)
    assert.deepEqual(up.tool_choice, { type: 'none' })
    const events = sseEvents(sse).map((e) => JSON.parse(e.data) as JsonObject)
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as JsonObject)
    assert.deepEqual(done.map((i) => i.type), ['compaction'], 'exactly one compaction item, as Codex requires')
    assert.equal(events.at(-1)!.type, 'response.completed')
    const compaction = done[0]!
    assert.match(String(compaction.encrypted_content), /^switchyard:compaction:/)

    // Codex's next request: the retained user message and the compaction item, then a new prompt.
    for (const model of ['oai,mock-o:chunks=1', 'resp,mock-r:chunks=1']) {
      const next = await p.post('/v1/responses', {
        model,
        input: [history[0], compaction, { type: 'message', role: 'user', content: 'go on' }],
      })
      assert.equal(next.status, 200, await next.clone().text())
      await next.text()
      const sent = JSON.stringify(lastUpstreamBody(p))
      assert.match(sent, /\[0001\]/, `${model}: the summary (the mock's text) reaches the upstream as text`)
      assert.doesNotMatch(sent, /switchyard:compaction:|"compaction"/, `${model}: no compaction item reaches it`)
    }
    await p.close()
  })

  it("another provider's compaction item is refused for another format, naming it; a Responses upstream gets it and the trigger as sent", async () => {
    const p = await spyingProxy(config)
    const foreign = { type: 'compaction', id: 'cmp_x', encrypted_content: 'gAAAAB-opaque' }
    const refused = await p.post('/v1/responses', {
      model: 'anth,mock-a',
      input: [foreign, { role: 'user', content: 'hi' }],
    })
    assert.equal(refused.status, 400)
    const e = (await refused.json() as { error: { param: string; message: string } }).error
    assert.equal(e.param, 'input.0')
    assert.match(e.message, /compaction item from another provider/)
    const input = [foreign, { role: 'user', content: 'hi' }, { type: 'compaction_trigger' }]
    const passed = await p.post('/v1/responses', { model: 'resp,mock-r:chunks=1', input })
    assert.equal(passed.status, 200)
    await passed.text()
    assert.deepEqual(lastUpstreamBody(p).input, input)
    await p.close()
  })
})

describe('POST /v1/responses/compact', () => {
  it('answers the user messages, then one compaction item carrying the summary, through an upstream of another format', async () => {
    const p = await spyingProxy(config)
    const res = await p.post('/v1/responses/compact', { model: 'anth,mock-a:chunks=3', input: history, tools: TOOLS })
    assert.equal(res.status, 200, await res.clone().text())
    const body = await res.json() as { id: string; object: string; output: JsonObject[]; usage: JsonObject }
    assert.equal(body.object, 'response.compaction')
    assert.deepEqual(body.output.map((i) => [i.type, i.role]), [['message', 'user'], ['compaction', undefined]])
    assert.deepEqual(body.output[0]!.content, history[0]!.content)
    assert.match(String(body.output[1]!.encrypted_content), /^switchyard:compaction:/)
    assert.ok(typeof body.usage.input_tokens === 'number')
    // The upstream was asked for the summary, with no tool to call.
    const up = lastUpstreamBody(p) as { messages: { role: string; content: unknown }[]; tool_choice: unknown }
    assert.match(JSON.stringify(up.messages.at(-1)), /replaced by a summary/)
    assert.deepEqual(up.tool_choice, { type: 'none' })

    // Compacted again later: the earlier summary is in the new one, not kept as a message besides.
    const again = await p.post('/v1/responses/compact', {
      model: 'oai,mock-o:chunks=2',
      input: [...body.output, { type: 'message', role: 'user', content: 'now the docs' }],
    })
    assert.equal(again.status, 200, await again.clone().text())
    const second = await again.json() as { output: JsonObject[] }
    assert.deepEqual(second.output.map((i) => i.type), ['message', 'message', 'compaction'])
    assert.match(JSON.stringify(lastUpstreamBody(p)), /\[0001\]/, 'the first summary reached the upstream as text')
    await p.close()
  })

  it('refuses what /v1/responses refuses, in the same words: an unknown previous_response_id, a missing model', async () => {
    const p = await spyingProxy(config)
    const unknown = await p.post('/v1/responses/compact', { model: 'anth,mock-a', previous_response_id: 'resp_nope' })
    assert.equal(unknown.status, 400)
    assert.equal((await unknown.json() as { error: { code: string } }).error.code, 'previous_response_not_found')
    const noModel = await p.post('/v1/responses/compact', { input: history })
    assert.equal(noModel.status, 400)
    assert.equal((await noModel.json() as { error: { param: string } }).error.param, 'model')
    assert.equal(p.seen.length, 0)
    await p.close()
  })
})
