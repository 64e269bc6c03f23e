/**
 * The configured `provider,model` pairs as each API lists models. `GET /v1/models` and
 * `GET /v1/models/{id}` are one path in three APIs with three shapes, so the answer follows the
 * client: a request carrying `anthropic-version` (every Anthropic SDK, and Claude Code's gateway
 * model discovery) gets Anthropic's paged list; one carrying a Google key or client header
 * (`x-goog-api-key`, `x-goog-api-client`, `?key=`: @google/genai, which lists under `/v1`) gets
 * Gemini's; any other OpenAI's. `GET /v1beta/models` and `/v1beta/models/{model}` are Gemini's.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { PresetParam } from './preset-param.ts'
import type { Context } from 'hono'
import type { Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import {
  AnthropicErrorBodySchema,
  GeminiErrorBodySchema,
  GeminiModelListSchema,
  GeminiModelSchema,
  OpenAIErrorBodySchema,
} from '../formats/index.ts'
import type { WireFormatName } from '../formats/types.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { errorResponse } from '../proxy/respond.ts'
import { describeIssues, type Issue } from './client-request.ts'
import { ACTIONS } from './gemini.ts'
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

const clientHeaders = z.object({
  'anthropic-version': z.string().optional().openapi({
    description: "Present (as every Anthropic SDK sends it): the answer is in the Anthropic API's shape",
    example: '2023-06-01',
  }),
  'x-goog-api-client': z.string().optional().openapi({
    description: "Present (or `x-goog-api-key`, or `?key=`): the answer is in the Gemini API's shape",
    example: 'google-genai-sdk/1.0.0',
  }),
})

/** Every shape's error body, for the routes whose answer follows the client. */
const anyError = (description: string) => ({
  description,
  content: jsonContent(z.union([OpenAIErrorBodySchema, AnthropicErrorBodySchema, GeminiErrorBodySchema])),
})

const listRoute = (path: string, withPreset: boolean) =>
  createRoute({
    method: 'get',
    path,
    tags: ['Inference'],
    summary: withPreset
      ? "The configured provider,model pairs under a preset's base URL (the same list)"
      : "The configured provider,model pairs, in the OpenAI, Anthropic or Gemini shape (by the client's headers)",
    request: {
      ...(withPreset ? { params: PresetParam } : {}),
      headers: clientHeaders,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(1000).default(20).openapi({
          description: 'Anthropic shape only: models per page (the other shapes list them all)',
          example: 20,
        }),
        after_id: z.string().min(1).optional().openapi({ description: 'Anthropic shape only', example: 'anth,m' }),
        before_id: z.string().min(1).optional().openapi({ description: 'Anthropic shape only', example: 'anth,m' }),
      }),
    },
    responses: {
      200: {
        description: 'The models',
        content: jsonContent(z.union([OpenAIModelListSchema, AnthropicModelListSchema, GeminiModelListSchema])),
      },
      400: anyError('A query parameter out of range, or a cursor that is not listed'),
      401: anyError('Missing or wrong API key'),
    },
  })

const ModelIdParams = z.object({
  model_id: z.string().min(1).openapi({ param: { name: 'model_id', in: 'path' }, example: 'anth,m' }),
})

const getRoute = createRoute({
  method: 'get',
  path: '/v1/models/{model_id}',
  tags: ['Inference'],
  summary: 'One configured model (provider,model, or a model name a provider lists), in the shape of the client',
  request: { headers: clientHeaders, params: ModelIdParams },
  responses: {
    200: {
      description: 'The model',
      content: jsonContent(z.union([OpenAIModelSchema, AnthropicModelSchema, GeminiModelSchema])),
    },
    401: anyError('Missing or wrong API key'),
    404: anyError('Not configured'),
  },
})

const geminiListRoute = createRoute({
  method: 'get',
  path: '/v1beta/models',
  tags: ['Inference'],
  summary: 'The configured provider,model pairs, in Gemini list shape',
  responses: {
    200: { description: 'Models', content: jsonContent(GeminiModelListSchema) },
    401: { description: 'Missing or wrong API key', content: jsonContent(GeminiErrorBodySchema) },
  },
})

const geminiGetRoute = createRoute({
  method: 'get',
  path: '/v1beta/models/{model_id}',
  tags: ['Inference'],
  summary: 'One configured model, in Gemini shape (`models/` prefix optional)',
  request: { params: ModelIdParams },
  responses: {
    200: { description: 'The model', content: jsonContent(GeminiModelSchema) },
    401: { description: 'Missing or wrong API key', content: jsonContent(GeminiErrorBodySchema) },
    404: { description: 'Not configured', content: jsonContent(GeminiErrorBodySchema) },
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
const geminiShape = (m: Configured) => ({
  name: `models/${m.id}`,
  displayName: m.id,
  supportedGenerationMethods: [...ACTIONS],
})

/** Which API's shape the client of a `/v1/models` request reads. */
function shapeOf(c: Context): WireFormatName {
  if (c.req.header('anthropic-version') !== undefined) return 'anthropic'
  const google = c.req.header('x-goog-api-key') ?? c.req.header('x-goog-api-client') ?? c.req.query('key')
  return google === undefined ? 'openai' : 'gemini'
}

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

export function registerModels(app: OpenAPIHono, deps: Deps): void {
  const all: Configured[] = deps.config.providers.flatMap((p) =>
    p.models.map((model) => ({ id: `${p.name},${model}`, provider: p.name, model }))
  )
  /** By `provider,model`, else by a model name a provider lists (the first such provider). */
  const find = (id: string) => all.find((m) => m.id === id) ?? all.find((m) => m.model === id)
  const refuse = (c: Context, format: WireFormatName, e: ProxyError) =>
    errorResponse({ id: requestIdOf(c), format }, e) as never
  const notConfigured = (c: Context, format: WireFormatName, param: string, id: string, list: string) =>
    refuse(c, format, {
      kind: 'not_found',
      message: `${param}: '${id}' is not a configured model (GET ${list} lists them)`,
    })
  // A bad query is answered in the client's shape too (the app's hook judges the format by path).
  const hook = (result: { success: boolean; error?: { issues: readonly Issue[] } }, c: Context) => {
    if (result.success || !result.error) return
    return refuse(c, shapeOf(c), { kind: 'invalid_request', ...describeIssues(result.error.issues) })
  }
  // Claude Code with its base URL at a preset (`switchyard <preset>`) discovers models there.
  for (const [path, withPreset] of [['/v1/models', false], ['/preset/{name}/v1/models', true]] as const) {
    app.openapi(listRoute(path, withPreset), (c) => {
      const shape = shapeOf(c)
      if (shape === 'gemini') return c.json({ models: all.map(geminiShape) }, 200)
      if (shape === 'openai') return c.json({ object: 'list' as const, data: all.map(openaiShape) }, 200)
      const listed = page(all, c.req.valid('query'))
      return listed.page ? c.json(listed.page, 200) : refuse(c, shape, { kind: 'invalid_request', ...listed.error })
    }, hook)
  }
  app.openapi(getRoute, (c) => {
    const shape = shapeOf(c)
    const id = c.req.valid('param').model_id.replace(shape === 'gemini' ? /^models\// : /^$/, '')
    const found = find(id)
    if (!found) return notConfigured(c, shape, 'model_id', id, '/v1/models')
    const body = shape === 'anthropic'
      ? anthropicShape(found)
      : shape === 'gemini'
      ? geminiShape(found)
      : openaiShape(found)
    return c.json(body, 200)
  }, hook)
  app.openapi(geminiListRoute, (c) => c.json({ models: all.map(geminiShape) }, 200))
  app.openapi(geminiGetRoute, (c) => {
    const id = c.req.valid('param').model_id.replace(/^models\//, '')
    const found = find(id)
    return found ? c.json(geminiShape(found), 200) : notConfigured(c, 'gemini', 'model', id, '/v1beta/models')
  })
}
