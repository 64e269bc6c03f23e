/**
 * `GET /v1/models` and `GET /v1/models/{model_id}`: the configured `provider,model` pairs. The
 * path is the same in the OpenAI and the Anthropic API, with different shapes, so the answer
 * follows the client: a request carrying `anthropic-version` (every Anthropic SDK, and Claude
 * Code's gateway model discovery) gets Anthropic's paged list, any other OpenAI's list.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { Deps } from '../deps.ts'
import { AnthropicErrorBodySchema, OpenAIErrorBodySchema } from '../formats/index.ts'
import type { ProxyError } from '../errors.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { errorResponse } from '../proxy/respond.ts'
import { describeIssues, type Issue } from './client-request.ts'
import { jsonContent } from './openapi.ts'

const OpenAIModelSchema = z
  .object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })
  .openapi('Model', { example: { id: 'deepseek,deepseek-chat', object: 'model', created: 0, owned_by: 'deepseek' } })
const OpenAIModelListSchema = z
  .object({ object: z.literal('list'), data: z.array(OpenAIModelSchema) })
  .openapi('ModelList', {
    example: {
      object: 'list',
      data: [{ id: 'deepseek,deepseek-chat', object: 'model', created: 0, owned_by: 'deepseek' }],
    },
  })

const AnthropicModelSchema = z
  .object({ type: z.literal('model'), id: z.string(), display_name: z.string(), created_at: z.string() })
  .openapi('AnthropicModel', {
    example: {
      type: 'model',
      id: 'openrouter,anthropic/claude-sonnet-4',
      display_name: 'anthropic/claude-sonnet-4 (openrouter)',
      created_at: '1970-01-01T00:00:00Z',
    },
  })
const AnthropicModelListSchema = z
  .object({
    data: z.array(AnthropicModelSchema),
    has_more: z.boolean(),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
  })
  .openapi('AnthropicModelList')

const anthropicHeader = z.object({
  'anthropic-version': z.string().optional().openapi({
    description: "Present (as every Anthropic SDK sends it): the answer is in the Anthropic API's shape",
    example: '2023-06-01',
  }),
})

const listRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['Inference'],
  summary: 'The configured provider,model pairs, in the OpenAI or (with anthropic-version) the Anthropic shape',
  request: {
    headers: anthropicHeader,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(20).openapi({
        description: 'Anthropic shape only: models per page (the OpenAI shape lists them all)',
        example: 20,
      }),
      after_id: z.string().min(1).optional().openapi({ description: 'Anthropic shape only', example: 'anth,m' }),
      before_id: z.string().min(1).optional().openapi({ description: 'Anthropic shape only', example: 'anth,m' }),
    }),
  },
  responses: {
    200: {
      description: 'The models',
      content: jsonContent(z.union([OpenAIModelListSchema, AnthropicModelListSchema])),
    },
    400: { description: 'A query parameter out of range', content: jsonContent(OpenAIErrorBodySchema) },
    401: { description: 'Missing or wrong API key', content: jsonContent(OpenAIErrorBodySchema) },
  },
})

const getRoute = createRoute({
  method: 'get',
  path: '/v1/models/{model_id}',
  tags: ['Inference'],
  summary: 'One configured model (provider,model, or a model name a provider lists)',
  request: {
    headers: anthropicHeader,
    params: z.object({
      model_id: z.string().min(1).openapi({ param: { name: 'model_id', in: 'path' }, example: 'anth,m' }),
    }),
  },
  responses: {
    200: { description: 'The model', content: jsonContent(z.union([OpenAIModelSchema, AnthropicModelSchema])) },
    401: { description: 'Missing or wrong API key', content: jsonContent(OpenAIErrorBodySchema) },
    404: {
      description: 'Not configured (in the Anthropic error shape with anthropic-version)',
      content: jsonContent(z.union([OpenAIErrorBodySchema, AnthropicErrorBodySchema])),
    },
  },
})

interface Configured {
  readonly id: string
  readonly provider: string
  readonly model: string
}

const openaiShape = (m: Configured) => ({ id: m.id, object: 'model' as const, created: 0, owned_by: m.provider })
const anthropicShape = (m: Configured) => ({
  type: 'model' as const,
  id: m.id,
  display_name: `${m.model} (${m.provider})`,
  created_at: '1970-01-01T00:00:00Z',
})

const wantsAnthropic = (c: Context) => c.req.header('anthropic-version') !== undefined

type PageQuery = { limit: number; after_id?: string; before_id?: string }

/**
 * One page of Anthropic's list: the `limit` models after `after_id`, or before `before_id`, or
 * from the start; an id that is not listed is named in the error.
 */
function page(all: readonly Configured[], q: PageQuery) {
  const at = (id: string) => all.findIndex((m) => m.id === id)
  for (const param of ['after_id', 'before_id'] as const) {
    const id = q[param]
    if (id !== undefined && at(id) < 0) return { error: { param, message: `${param}: '${id}' is not a listed model` } }
  }
  let start = q.after_id === undefined ? 0 : at(q.after_id) + 1
  let end = start + q.limit
  if (q.before_id !== undefined && q.after_id === undefined) {
    end = at(q.before_id)
    start = Math.max(0, end - q.limit)
  }
  const data = all.slice(start, Math.min(end, all.length)).map(anthropicShape)
  const hasMore = q.before_id !== undefined && q.after_id === undefined ? start > 0 : end < all.length
  return { page: { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null } }
}

/** A refusal in the shape of the client that asked. */
const refuse = (c: Context, e: ProxyError) =>
  errorResponse({ id: requestIdOf(c), format: wantsAnthropic(c) ? 'anthropic' : 'openai' }, e) as never

export function registerModels(app: OpenAPIHono, deps: Deps): void {
  const all: Configured[] = deps.config.providers.flatMap((p) =>
    p.models.map((model) => ({ id: `${p.name},${model}`, provider: p.name, model }))
  )
  // A bad query is answered in the client's shape too (the app's hook judges the format by path).
  const hook = (result: { success: boolean; error?: { issues: readonly Issue[] } }, c: Context) => {
    if (result.success || !result.error) return
    return refuse(c, { kind: 'invalid_request', ...describeIssues(result.error.issues) })
  }
  app.openapi(listRoute, (c) => {
    if (!wantsAnthropic(c)) return c.json({ object: 'list' as const, data: all.map(openaiShape) }, 200)
    const listed = page(all, c.req.valid('query'))
    return listed.page ? c.json(listed.page, 200) : refuse(c, { kind: 'invalid_request', ...listed.error })
  }, hook)
  app.openapi(getRoute, (c) => {
    const { model_id: id } = c.req.valid('param')
    const found = all.find((m) => m.id === id) ?? all.find((m) => m.model === id)
    if (!found) {
      return refuse(c, {
        kind: 'not_found',
        message: `model_id: '${id}' is not a configured model (GET /v1/models lists them)`,
      })
    }
    return c.json(wantsAnthropic(c) ? anthropicShape(found) : openaiShape(found), 200)
  }, hook)
}
