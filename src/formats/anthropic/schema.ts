import { z } from '@hono/zod-openapi'
import { ModelName } from '../name-schema.ts'

/**
 * Loose request schemas: only the fields we read are typed, and only as tightly as every real
 * client (Claude Code included) satisfies; unknown fields pass through untouched.
 */
const Block = z.looseObject({ type: z.string() })
const Content = z.union([z.string(), z.array(Block)])

/**
 * The roles Anthropic's API takes: `user`, `assistant`, and `system`, which Claude Code 2.1 sends
 * inside `messages` for its environment notes. Another role was read as a user turn in silence.
 */
const Message = z.looseObject({ role: z.enum(['user', 'assistant', 'system']), content: Content })

/** Custom tools carry input_schema; server tools (web_search_…, bash_…) carry a versioned type instead. */
const Tool = z.looseObject({
  name: z.string(),
  type: z.string().optional(),
  input_schema: z.looseObject({}).optional(),
})

const common = {
  model: ModelName,
  messages: z.array(Message),
  system: Content.optional(),
  tools: z.array(Tool).optional(),
  tool_choice: z.looseObject({ type: z.string() }).optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
  output_config: z.looseObject({}).optional(),
}

const example = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'Hello' }],
}

export const AnthropicMessagesRequestSchema = z
  .looseObject({
    ...common,
    max_tokens: z.number(),
    stream: z.boolean().optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    top_k: z.number().optional(),
    stop_sequences: z.array(z.string()).optional(),
    metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
  })
  .openapi('AnthropicMessagesRequest', { example })

export const AnthropicCountTokensRequestSchema = z
  .looseObject(common)
  .openapi('AnthropicCountTokensRequest', { example: { model: example.model, messages: example.messages } })

const Usage = z.looseObject({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_creation_input_tokens: z.number().nullable().optional(),
  cache_read_input_tokens: z.number().nullable().optional(),
})

export const AnthropicMessageResponseSchema = z
  .looseObject({
    id: z.string(),
    type: z.literal('message'),
    role: z.literal('assistant'),
    model: z.string(),
    content: z.array(Block),
    stop_reason: z.string().nullable(),
    stop_sequence: z.string().nullable(),
    usage: Usage,
  })
  .openapi('AnthropicMessage', {
    example: {
      id: 'msg_01AbC',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  })

export const AnthropicCountTokensResponseSchema = z
  .object({ input_tokens: z.number() })
  .openapi('AnthropicCountTokensResponse', { example: { input_tokens: 2095 } })

export const AnthropicErrorBodySchema = z
  .object({
    type: z.literal('error'),
    error: z.object({ type: z.string(), message: z.string() }),
    request_id: z.string().optional(),
  })
  .openapi('AnthropicErrorBody', {
    example: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_1' },
  })
