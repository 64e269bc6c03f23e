/**
 * What Claude Code actually sends: `?beta=true`, beta headers, a multi-block system prompt with
 * cache_control, dozens of tools, thinking, metadata.user_id with a session, a tool loop with
 * tool_use / tool_result history, and fields we have never seen. It must pass through to both
 * upstream formats and come back as a stream the Anthropic SDK accepts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import { spyingProxy, testConfigFile, type TestProxy, testProxy } from './helpers.ts'

const BETA = 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14'

function claudeCodeBody(model: string): Record<string, unknown> {
  const tools = Array.from({ length: 30 }, (_, i) => ({
    name: `Tool${i}`,
    description: `Does thing ${i}. `.repeat(20),
    input_schema: {
      type: 'object',
      properties: { path: { type: 'string', description: 'file path' }, n: { type: 'integer' } },
      required: ['path'],
    },
  }))
  return {
    model,
    max_tokens: 32_000,
    stream: true,
    thinking: { type: 'enabled', budget_tokens: 4_000 },
    metadata: { user_id: 'user_abc_account_x_session_5f1c2d3e-aaaa-bbbb-cccc-123456789abc' },
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: 'text', text: 'You are an interactive CLI tool. '.repeat(400), cache_control: { type: 'ephemeral' } },
    ],
    tools: [...tools.slice(0, 29), { ...tools[29], cache_control: { type: 'ephemeral' } }],
    messages: [
      {
        role: 'user',
        content: [{ type: 'text', text: '<system-reminder>context</system-reminder>' }, {
          type: 'text',
          text: 'Fix the failing test in src/app.ts',
        }],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look at the file.' },
          { type: 'tool_use', id: 'toolu_01ABCdef', name: 'Tool3', input: { path: 'src/app.ts' } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_01ABCdef',
            content: [{ type: 'text', text: 'export const x = 1\n'.repeat(200) }],
          },
          { type: 'text', text: 'go on', cache_control: { type: 'ephemeral' } },
        ],
      },
    ],
    context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
  }
}

const viaApp = (p: TestProxy, seen: Request[]) =>
  (async (input: string | URL | Request, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init)
    seen.push(req.clone())
    const url = new URL(req.url)
    return p.app.request(url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: await req.text(),
    })
  }) as typeof fetch

describe('Claude Code traffic', () => {
  it('passes through untouched to an Anthropic upstream: unknown fields, cache_control, beta header and query', async () => {
    const p = await spyingProxy()
    const res = await p.post('/v1/messages?beta=true', claudeCodeBody('anth,claude-up:chunks=5'), {
      'anthropic-version': '2023-06-01',
      'anthropic-beta': BETA,
    })
    assert.equal(res.status, 200)
    const text = await res.text()
    assert.match(text, /^event: message_start/)
    assert.match(text, /event: message_stop\n/)
    const up = p.seen[0]!
    assert.match(up.url, /\?beta=true$/)
    assert.equal(up.headers.get('anthropic-beta'), BETA)
    const sent = JSON.parse(up.body) as Record<string, unknown>
    assert.deepEqual(sent.context_management, { edits: [{ type: 'clear_tool_uses_20250919' }] })
    assert.equal((sent.tools as unknown[]).length, 30)
    assert.deepEqual((sent.system as { cache_control?: unknown }[])[1]?.cache_control, { type: 'ephemeral' })
    await p.close()
  })

  it('is translated for an OpenAI upstream: system first, 30 function tools, the tool loop as tool messages, no Anthropic-only fields', async () => {
    const p = await spyingProxy()
    const res = await p.post('/v1/messages?beta=true', claudeCodeBody('oai,gpt-up:chunks=5'), {
      'anthropic-beta': BETA,
    })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /event: message_stop\n/)
    const up = p.seen[0]!
    assert.equal(up.headers.get('anthropic-beta'), null)
    const sent = JSON.parse(up.body) as {
      messages: { role: string; tool_call_id?: string; tool_calls?: { id: string }[] }[]
      tools: { type: string }[]
      stream_options?: unknown
    }
    assert.equal(sent.messages[0]?.role, 'system')
    assert.equal(sent.tools.length, 30)
    assert.ok(sent.tools.every((t) => t.type === 'function'))
    assert.equal(sent.messages.find((m) => m.tool_calls)?.tool_calls?.[0]?.id, 'toolu_01ABCdef')
    assert.equal(sent.messages.find((m) => m.role === 'tool')?.tool_call_id, 'toolu_01ABCdef')
    assert.deepEqual(sent.stream_options, { include_usage: true })
    assert.ok(!up.body.includes('cache_control') && !up.body.includes('context_management'))
    await p.close()
  })

  it("Claude Code 2.1.332's own shape: a system message inside messages, adaptive thinking with an effort, count_tokens?beta=true", async () => {
    // As recorded from the real CLI (test/agents/claude-code-cli.test.ts runs it end to end).
    const body = (model: string) => ({
      model,
      max_tokens: 128_000,
      stream: true,
      system: [{ type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." }],
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort: 'high' },
      context_management: { edits: [] },
      metadata: { user_id: 'u' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Say hello' }] },
        { role: 'system', content: [{ type: 'text', text: '# Environment\n - Primary working directory: /tmp/w' }] },
      ],
    })
    const file = testConfigFile()
    // Anthropic's own API (the spying fetch answers for it in process: nothing leaves the machine).
    const first = {
      name: 'first',
      api_base_url: 'https://api.anthropic.com/v1/messages',
      api_key: 'sk-ant-first',
      models: ['claude-up'],
    }
    const p = await spyingProxy({ ...file, Providers: [...(file.Providers as unknown[]), first] })
    const oai = await p.post('/v1/messages?beta=true', body('oai,gpt-up:chunks=2'), { 'anthropic-beta': BETA })
    assert.equal(oai.status, 200)
    assert.match(await oai.text(), /event: message_stop\n/)
    const sent = JSON.parse(p.seen[0]!.body) as {
      messages: { role: string; content: unknown }[]
      reasoning_effort?: unknown
    }
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ['system', 'user'],
      // Not a system message mid-conversation (strict chat templates refuse one), nor a user message
      // after the prompt (where a model takes it for the question): the system prompt's end.
      'the environment is folded into the system prompt',
    )
    assert.match(JSON.stringify(sent.messages[0]?.content), /official CLI for Claude[\s\S]*Primary working directory/)
    assert.match(JSON.stringify(sent.messages[1]?.content), /Say hello/)
    assert.equal(sent.reasoning_effort, 'high')
    const anth = await p.post('/v1/messages?beta=true', body('anth,claude-up:chunks=2'), { 'anthropic-beta': BETA })
    assert.equal(anth.status, 200)
    await anth.text()
    // Another vendor's Anthropic-compatible API answers 400 for a system message inside messages
    // (Qwen's: "messages[1].role: unknown variant `system`"): it is folded into `system`.
    const folded = JSON.parse(p.seen[1]!.body) as {
      messages: { role: string }[]
      system: { text: string }[]
      output_config?: unknown
    }
    assert.deepEqual(folded.messages.map((m) => m.role), ['user'])
    assert.match(folded.system.at(-1)!.text, /Primary working directory/)
    assert.deepEqual(folded.output_config, { effort: 'high' })
    const own = await p.post('/v1/messages?beta=true', body('first,claude-up:chunks=2'), { 'anthropic-beta': BETA })
    assert.equal(own.status, 200)
    await own.text()
    const passed = JSON.parse(p.seen[2]!.body) as { messages: { role: string }[] }
    assert.match(p.seen[2]!.url, /^https:\/\/api\.anthropic\.com\//)
    assert.deepEqual(
      passed.messages.map((m) => m.role),
      ['user', 'system'],
      "Anthropic's own API: passed through as sent",
    )
    const count = await p.post(
      '/v1/messages/count_tokens?beta=true',
      { ...body('claude-opus-5-5'), stream: undefined },
      { 'anthropic-beta': 'token-counting-2024-11-01' },
    )
    assert.equal(count.status, 200)
    assert.ok(((await count.json()) as { input_tokens: number }).input_tokens > 10)
    await p.close()
  })

  it('the Anthropic SDK (beta messages, as Claude Code calls it) accumulates the answer through an OpenAI upstream', async () => {
    const p = await testProxy()
    const seen: Request[] = []
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://switchyard.test',
      fetch: viaApp(p, seen),
      maxRetries: 0,
    })
    const body = claudeCodeBody(
      'oai,gpt-up:mode=thinking:chunks=4',
    ) as unknown as Anthropic.Beta.Messages.MessageCreateParamsStreaming
    const msg = await client.beta.messages.stream({ ...body, betas: ['interleaved-thinking-2025-05-14'] })
      .finalMessage()
    assert.equal(msg.content[0]?.type, 'thinking')
    assert.ok(msg.content.some((b) => b.type === 'text'))
    assert.match(seen[0]!.headers.get('anthropic-beta') ?? '', /interleaved-thinking/)
    await p.close()
  })
})
