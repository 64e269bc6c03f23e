import { z } from '@hono/zod-openapi'
import { ModelName } from '../name-schema.ts'
import { type Problem, withRule } from '../schema-rule.ts'

/** Loose OpenAI Chat Completions schemas: typed where we read, unknown fields pass through. */
const Part = z.looseObject({ type: z.string() })

/** The roles OpenAI's API takes; any other is refused there (naming the value), so here too. */
const Role = z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function'])

const MessageShape = z.looseObject({
  role: Role,
  // null for an assistant message that only carries tool_calls
  content: z.union([z.string(), z.array(Part)]).nullable().optional(),
  tool_calls: z.array(z.looseObject({ id: z.string().optional(), function: z.looseObject({}).optional() })).optional(),
  tool_call_id: z.string().optional(),
})

/**
 * What the shape cannot say, as OpenAI's API refuses it: only an assistant message may go without
 * `content`, and a text part holds a string. Without these a message lost its text in silence
 * (translated, it became an empty turn).
 */
function messageProblem(m: z.infer<typeof MessageShape>): Problem | undefined {
  if (m.content == null) {
    return m.role === 'assistant' ? undefined : { path: ['content'], message: `required in a ${m.role} message` }
  }
  if (typeof m.content === 'string') return undefined
  for (let i = 0; i < m.content.length; i++) {
    const part = m.content[i]!
    if (part.type === 'text' && typeof part.text !== 'string') {
      return { path: ['content', i, 'text'], message: 'expected a string' }
    }
  }
  return undefined
}

const Message = withRule(MessageShape, messageProblem)

export const OpenAIChatRequestSchema = z
  .looseObject({
    model: ModelName,
    messages: z.array(Message),
    max_tokens: z.number().nullable().optional(),
    max_completion_tokens: z.number().nullable().optional(),
    temperature: z.number().nullable().optional(),
    top_p: z.number().nullable().optional(),
    n: z.number().nullable().optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
    stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
    tools: z.array(z.looseObject({ type: z.string() })).optional(),
    tool_choice: z.union([z.string(), z.looseObject({ type: z.string() })]).optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: z.looseObject({ type: z.string() }).optional(),
    reasoning_effort: z.string().nullable().optional(),
    user: z.string().optional(),
  })
  .openapi('OpenAIChatRequest', {
    example: {
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello' }],
      stream: false,
    },
  })

export const OpenAIChatResponseSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number(),
    model: z.string(),
    choices: z.array(z.looseObject({
      index: z.number(),
      message: z.looseObject({ role: z.literal('assistant'), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
    })),
    usage: z.looseObject({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
      .optional(),
  })
  .openapi('OpenAIChatCompletion', {
    example: {
      id: 'chatcmpl-A1b2',
      object: 'chat.completion',
      created: 1730000000,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    },
  })

export const OpenAIErrorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .openapi('OpenAIErrorBody', {
    example: { error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: null } },
  })
