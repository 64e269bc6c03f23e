import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AnthropicCountTokensRequestSchema, AnthropicMessagesRequestSchema } from './schema.ts'

/** Shaped like what Claude Code sends: thinking, server tools, cache_control, metadata, betas' fields. */
const claudeCode = {
  model: 'claude-sonnet-4-5-20250929',
  max_tokens: 32000,
  stream: true,
  temperature: 1,
  system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
  messages: [
    {
      role: 'user',
      content: [{ type: 'text', text: '<system-reminder>x</system-reminder>' }, {
        type: 'text',
        text: 'fix it',
        cache_control: { type: 'ephemeral' },
      }],
    },
    {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 'hm', signature: 'Eu' }, {
        type: 'tool_use',
        id: 'toolu_1',
        name: 'Bash',
        input: { command: 'ls' },
      }],
    },
    {
      role: 'user',
      content: [{
        type: 'tool_result',
        tool_use_id: 'toolu_1',
        content: [{ type: 'text', text: 'a.ts' }],
        is_error: false,
      }],
    },
  ],
  tools: [{
    name: 'Bash',
    description: 'Run',
    input_schema: { type: 'object', properties: {}, $schema: 'http://json-schema.org/draft-07/schema#' },
  }, { type: 'web_search_20250305', name: 'web_search', max_uses: 5 }],
  tool_choice: { type: 'auto' },
  thinking: { type: 'enabled', budget_tokens: 31999 },
  metadata: { user_id: 'user_abc_account__session_1' },
  output_config: { effort: 'high' },
  context_management: { edits: [] },
}

describe('Anthropic request schemas', () => {
  it('accept a Claude Code request and keep unknown fields', () => {
    const r = AnthropicMessagesRequestSchema.safeParse(claudeCode)
    assert.equal(r.success, true)
    assert.deepEqual(r.data?.context_management, { edits: [] })
  })
  it('reject a missing max_tokens, a non-string model, non-array messages', () => {
    const { max_tokens: _m, ...noMax } = claudeCode
    assert.equal(AnthropicMessagesRequestSchema.safeParse(noMax).success, false)
    assert.equal(AnthropicMessagesRequestSchema.safeParse({ ...claudeCode, model: 3 }).success, false)
    assert.equal(AnthropicMessagesRequestSchema.safeParse({ ...claudeCode, messages: 'hi' }).success, false)
  })
  it('count_tokens needs no max_tokens', () => {
    assert.equal(
      AnthropicCountTokensRequestSchema.safeParse({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).success,
      true,
    )
  })
})
