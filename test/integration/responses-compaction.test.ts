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
