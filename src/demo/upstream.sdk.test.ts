/** The mock's streams fed to the official SDK accumulators (docs/protocols.md §7.2): both must accept them. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { createMockUpstream } from './upstream.ts'

const mock = createMockUpstream({ sleep: () => Promise.resolve() })
/** The SDKs call fetch(url, init); the mock takes a Request. No network involved. */
const viaMock = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  mock.fetch(new Request(input, init))
const anthropic = new Anthropic({ apiKey: 'mock', baseURL: 'http://mock.local', fetch: viaMock, maxRetries: 0 })
const openai = new OpenAI({ apiKey: 'mock', baseURL: 'http://mock.local/v1', fetch: viaMock, maxRetries: 0 })
const messages = [{ role: 'user' as const, content: 'hello' }]

describe('mock streams through the official SDK accumulators', () => {
  it('Anthropic MessageStream.finalMessage() rebuilds text, thinking and tool_use with the mock usage', async () => {
    const text = await anthropic.messages.stream({ model: 'm:chunks=4:tokens=2', max_tokens: 64, messages })
      .finalMessage()
    assert.deepEqual(text.content.map((b) => b.type), ['text'])
    assert.equal(
      text.content[0]?.type === 'text' ? text.content[0].text : '',
      '[0001] tok [0002] tok [0003] tok [0004] tok ',
    )
    assert.equal(text.usage.output_tokens, 8)
    const think = await anthropic.messages.stream({
      model: 'm:mode=thinking:think=2:chunks=1',
      max_tokens: 64,
      messages,
    }).finalMessage()
    assert.deepEqual(think.content.map((b) => b.type), ['thinking', 'text'])
    const tool = await anthropic.messages.stream({ model: 'm:mode=tool:chunks=5', max_tokens: 64, messages })
      .finalMessage()
    const block = tool.content[0]
    assert.equal(tool.stop_reason, 'tool_use')
    assert.deepEqual(block?.type === 'tool_use' ? block.input : undefined, {
      seq: '[0001] [0002] [0003] [0004] [0005] ',
    })
  })

  it('OpenAI ChatCompletionStream.finalChatCompletion() rebuilds content and tool calls', async () => {
    const text = await openai.chat.completions.stream({
      model: 'g:chunks=3',
      messages,
      stream_options: { include_usage: true },
    }).finalChatCompletion()
    assert.equal(text.choices[0]?.message.content, '[0001] [0002] [0003] ')
    assert.equal(text.usage?.completion_tokens, 3)
    const tool = await openai.chat.completions.stream({ model: 'g:mode=tool:chunks=4', messages }).finalChatCompletion()
    const call = tool.choices[0]?.message.tool_calls?.[0]
    assert.equal(tool.choices[0]?.finish_reason, 'tool_calls')
    assert.deepEqual(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined, {
      seq: '[0001] [0002] [0003] [0004] ',
    })
  })

  it('the SDKs surface the mock error statuses as their typed errors', async () => {
    await assert.rejects(
      anthropic.messages.create({ model: 'm:status=529', max_tokens: 8, messages }),
      (e: unknown) => e instanceof Anthropic.APIError && e.status === 529,
    )
    await assert.rejects(
      openai.chat.completions.create({ model: 'g:status=429', messages }),
      (e: unknown) => e instanceof OpenAI.RateLimitError,
    )
  })
})
