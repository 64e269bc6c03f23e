import { z } from '@hono/zod-openapi'
import { type Problem, withRule } from '../schema-rule.ts'

/** Loose OpenAI Responses API schemas: typed where we read, unknown fields pass through. */
/** A message item's roles, as OpenAI's API takes them; another was read as `user`. */
const ItemShape = z.looseObject({
  type: z.string().optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']).optional(),
})
type ItemValue = z.infer<typeof ItemShape>

/**
 * What the shape cannot say, as OpenAI's API refuses it: a message item has `content` (a string
 * or parts), an `input_text` / `output_text` part holds its `text` as a string, and a function
 * call's output names its `call_id`. Without these a message lost its text in silence.
 */
function itemProblem(item: ItemValue): Problem | undefined {
  if (item.type === 'function_call_output' && typeof item.call_id !== 'string') {
    return { path: ['call_id'], message: 'expected a string' }
  }
  if (item.type !== 'message' && (item.type !== undefined || item.role === undefined)) return undefined
  const content = item.content
  if (typeof content === 'string') return undefined
  if (!Array.isArray(content)) return { path: ['content'], message: 'expected a string or an array of parts' }
  for (let i = 0; i < content.length; i++) {
    const part = content[i] as { type?: unknown; text?: unknown } | null
    if (part === null || typeof part !== 'object') return { path: ['content', i], message: 'expected an object' }
    if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text !== 'string') {
      return { path: ['content', i, 'text'], message: 'expected a string' }
    }
  }
  return undefined
}

const Item = withRule(ItemShape, itemProblem)

export const ResponsesRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(Item)]).optional(),
    instructions: z.string().nullable().optional(),
    stream: z.boolean().nullable().optional(),
    tools: z.array(z.looseObject({ type: z.string() })).optional(),
    tool_choice: z.union([z.string(), z.looseObject({ type: z.string() })]).optional(),
    parallel_tool_calls: z.boolean().nullable().optional(),
    reasoning: z.looseObject({ effort: z.string().nullable().optional() }).nullable().optional(),
    text: z.looseObject({}).nullable().optional(),
    max_output_tokens: z.number().int().nonnegative().nullable().optional(),
    temperature: z.number().nullable().optional(),
    top_p: z.number().nullable().optional(),
    store: z.boolean().nullable().optional(),
    include: z.array(z.string()).nullable().optional(),
    previous_response_id: z.string().nullable().optional(),
  })
  .openapi('ResponsesRequest', {
    example: {
      model: 'gpt-5.5',
      instructions: 'You are terse.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello' }] }],
      stream: true,
    },
  })

export const ResponsesResponseSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal('response'),
    status: z.string(),
    model: z.string(),
    output: z.array(z.looseObject({ type: z.string() })),
    usage: z.looseObject({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() }).nullable(),
  })
  .openapi('ResponsesResponse', {
    example: {
      id: 'resp_A1b2',
      object: 'response',
      status: 'completed',
      model: 'gpt-5.5',
      output: [{
        type: 'message',
        id: 'msg_1',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Hello!', annotations: [] }],
      }],
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 3,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 15,
      },
    },
  })

export const ResponsesCompactionSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal('response.compaction'),
    created_at: z.number(),
    output: z.array(z.looseObject({ id: z.string(), type: z.string() })),
    usage: z.looseObject({}).nullable(),
  })
  .openapi('ResponsesCompaction', {
    example: {
      id: 'resp_A1b2',
      object: 'response.compaction',
      created_at: 1_790_000_000,
      output: [
        { id: 'item_A1b2_0', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Fix the tests' }] },
        { id: 'cmp_A1b2', type: 'compaction', encrypted_content: 'switchyard:compaction:…' },
      ],
      usage: { input_tokens: 52_000, output_tokens: 900, total_tokens: 52_900 },
    },
  })

export const ResponsesInputTokensSchema = z
  .object({ object: z.literal('response.input_tokens'), input_tokens: z.number().int() })
  .openapi('ResponsesInputTokens', { example: { object: 'response.input_tokens', input_tokens: 2095 } })
