/**
 * The official SDKs as clients of the proxy (their fetch goes to the app in-process): text,
 * tool calls and thinking, streamed and not, from both upstream formats. If an SDK can
 * accumulate what we emit into a final message, real clients can too.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { testConfigFile, type TestProxy, testProxy, viaApp } from './helpers.ts'

const anthropicClient = (p: TestProxy) =>
  new Anthropic({ apiKey: 'client-key', baseURL: 'http://switchyard.test', fetch: viaApp(p), maxRetries: 0 })
const openaiClient = (p: TestProxy) =>
  new OpenAI({ apiKey: 'client-key', baseURL: 'http://switchyard.test/v1', fetch: viaApp(p), maxRetries: 0 })

for (const upstream of ['anth,mock-a', 'oai,mock-o']) {
  describe(`official SDKs through the proxy, ${upstream.startsWith('anth') ? 'Anthropic' : 'OpenAI'} upstream`, () => {
    it('Anthropic SDK: MessageStream.finalMessage() accumulates text with usage', async () => {
      const p = await testProxy()
      const msg = await anthropicClient(p).messages.stream({
        model: `${upstream}:chunks=6`,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      }).finalMessage()
      const text = msg.content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('')
      assert.match(text, /\[0001\].*\[0006\]/s)
      assert.equal(msg.stop_reason, 'end_turn')
      assert.equal(msg.usage.output_tokens, 6)
      await p.close()
    })

    it('Anthropic SDK: a streamed tool call parses into tool_use input', async () => {
      const p = await testProxy()
      const msg = await anthropicClient(p).messages.stream({
        model: `${upstream}:mode=tool:chunks=4`,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'look it up' }],
        tools: [{
          name: 'mock_lookup',
          description: 'x',
          input_schema: { type: 'object', properties: { seq: { type: 'string' } } },
        }],
      }).finalMessage()
      const tool = msg.content.find((b) => b.type === 'tool_use') as
        | { name: string; input: { seq: string } }
        | undefined
      assert.equal(tool?.name, 'mock_lookup')
      assert.match(tool?.input.seq ?? '', /\[0001\].*\[0004\]/)
      assert.equal(msg.stop_reason, 'tool_use')
      await p.close()
    })

    it('Anthropic SDK: thinking arrives as a thinking block before the text', async () => {
      const p = await testProxy()
      const msg = await anthropicClient(p).messages.stream({
        model: `${upstream}:mode=thinking:chunks=3`,
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'think' }],
      }).finalMessage()
      assert.equal(msg.content[0]?.type, 'thinking')
      assert.match((msg.content[0] as { thinking: string }).thinking, /think 0001/)
      assert.ok(msg.content.some((b) => b.type === 'text'))
      await p.close()
    })

    it('OpenAI SDK: ChatCompletionStream.finalChatCompletion() with text and usage', async () => {
      const p = await testProxy()
      const stream = openaiClient(p).chat.completions.stream({
        model: `${upstream}:chunks=5`,
        messages: [{ role: 'user', content: 'hi' }],
        stream_options: { include_usage: true },
      })
      const done = await stream.finalChatCompletion()
      assert.match(done.choices[0]?.message.content ?? '', /\[0001\].*\[0005\]/s)
      assert.equal(done.choices[0]?.finish_reason, 'stop')
      await p.close()
    })

    it('OpenAI SDK: a streamed tool call accumulates into tool_calls with JSON arguments', async () => {
      const p = await testProxy()
      const done = await openaiClient(p).chat.completions.stream({
        model: `${upstream}:mode=tool:chunks=3`,
        messages: [{ role: 'user', content: 'look' }],
        tools: [{
          type: 'function',
          function: { name: 'mock_lookup', parameters: { type: 'object', properties: { seq: { type: 'string' } } } },
        }],
      }).finalChatCompletion()
      const call = done.choices[0]?.message.tool_calls?.[0] as
        | { function: { name: string; arguments: string } }
        | undefined
      assert.equal(call?.function.name, 'mock_lookup')
      assert.match(JSON.parse(call?.function.arguments ?? '{}').seq, /\[0003\]/)
      assert.equal(done.choices[0]?.finish_reason, 'tool_calls')
      await p.close()
    })

    it('OpenAI SDK: a non-streaming completion, and an upstream error with no fallback surfaced as an APIError with its status', async () => {
      const p = await testProxy(testConfigFile({}, { fallbackToOtherTiers: false }))
      const c = openaiClient(p)
      const ok = await c.chat.completions.create({
        model: `${upstream}:chunks=2`,
        messages: [{ role: 'user', content: 'hi' }],
      })
      assert.match(ok.choices[0]?.message.content ?? '', /\[0002\]/)
      await assert.rejects(
        c.chat.completions.create({ model: `${upstream}:status=503`, messages: [{ role: 'user', content: 'hi' }] }),
        (e: unknown) => (e as { status?: number }).status === 503,
      )
      await p.close()
    })
  })
}
