/**
 * The Gemini API (under `/v1beta` and `/v1`): `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent`
 * (`?alt=sse` for SSE; without it the answer is a JSON array of chunks, as Google's REST API
 * gives) and `:countTokens` (the model list is in `models.ts`). The model comes from the URL; it
 * may be a `provider,model` pair like on every other route.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import {
  GeminiCountTokensSchema,
  GeminiErrorBodySchema,
  GeminiRequestSchema,
  GeminiResponseSchema,
} from '../formats/index.ts'
import type { JsonObject } from '../formats/types.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { handle } from '../proxy/pipeline.ts'
import { errorResponse } from '../proxy/respond.ts'
import { toClientRequest } from './client-request.ts'
import { errorResponses } from './errors.ts'
import { jsonContent } from './openapi.ts'

/** The Gemini methods served for every model (`GET /v1beta/models` lists them). */
export const ACTIONS = ['generateContent', 'streamGenerateContent', 'countTokens'] as const
type Action = (typeof ACTIONS)[number]

const Target = z.object({
  target: z.string().min(1).openapi({
    param: { name: 'target', in: 'path' },
    description: '`{model}:{action}`, action one of generateContent, streamGenerateContent, countTokens',
    example: 'gemini-2.5-flash:streamGenerateContent',
  }),
})

const generateRoute = (version: 'v1beta' | 'v1') =>
  createRoute({
    method: 'post',
    path: `/${version}/models/{target}`,
    tags: ['Inference'],
    summary: 'Gemini API: {model}:generateContent, {model}:streamGenerateContent?alt=sse, {model}:countTokens',
    description:
      'Routes like every inference request and translates to any upstream format. Auth also accepts `x-goog-api-key` and `?key=`.',
    request: { params: Target, body: { required: true, content: jsonContent(GeminiRequestSchema) } },
    responses: {
      200: {
        description:
          'A GenerateContentResponse (countTokens: `{totalTokens}`), or with `?alt=sse` its chunk stream; the last chunk has a finishReason',
        content: {
          'application/json': { schema: z.union([GeminiResponseSchema, GeminiCountTokensSchema]) },
          'text/event-stream': { schema: z.string().openapi({ description: 'GenerateContentResponse chunks' }) },
        },
      },
      ...errorResponses(GeminiErrorBodySchema),
    },
  })

/** `gemini-2.5-flash:generateContent` → its model and action (undefined when the action is unknown). */
export function parseTarget(target: string): { model: string; action: Action } | undefined {
  const at = target.lastIndexOf(':')
  if (at <= 0) return undefined
  const action = target.slice(at + 1) as Action
  return ACTIONS.includes(action) ? { model: target.slice(0, at).replace(/^models\//, ''), action } : undefined
}

/** countTokens takes a request either bare or as `generateContentRequest`. */
const countBody = (
  body: JsonObject,
): JsonObject => (typeof body.generateContentRequest === 'object' && body.generateContentRequest !== null
  ? body.generateContentRequest as JsonObject
  : body)

export function registerGemini(app: OpenAPIHono, deps: Deps): void {
  for (const version of ['v1beta', 'v1'] as const) {
    app.openapi(generateRoute(version), async (c) => {
      const parsed = parseTarget(c.req.valid('param').target)
      if (!parsed) {
        const e = {
          kind: 'not_found' as const,
          message:
            `No Gemini method at ${c.req.path}: expected /v1beta/models/{model}:generateContent, :streamGenerateContent or :countTokens`,
        }
        return errorResponse({ id: requestIdOf(c), format: 'gemini' }, e)
      }
      const body = c.req.valid('json')
      if (parsed.action === 'countTokens') {
        return c.json({ totalTokens: deps.tokens.estimate({ ...countBody(body), model: parsed.model }, 'gemini') }, 200)
      }
      const sse = parsed.action === 'streamGenerateContent' && new URL(c.req.url).searchParams.get('alt') === 'sse'
      const req = toClientRequest(c, deps, { format: 'gemini', body: { ...body, model: parsed.model, stream: sse } })
      const res = await handle(req, deps)
      // streamGenerateContent without alt=sse answers a JSON array of chunks: the whole answer is one.
      if (parsed.action !== 'streamGenerateContent' || sse || res.status !== 200) return res
      return new Response(`[${await res.text()}]`, { status: 200, headers: res.headers })
    })
  }
}
