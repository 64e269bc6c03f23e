import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import {
  AnthropicCountTokensRequestSchema,
  AnthropicErrorBodySchema,
  AnthropicMessageResponseSchema,
  AnthropicMessagesRequestSchema,
} from '../formats/index.ts'
import { clientBody, handleClient, openapiClient } from './client-request.ts'
import { errorResponses } from './errors.ts'
import { PresetParam } from './preset-param.ts'

const messagesRoute = (path: string, withPreset: boolean) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Inference'],
    summary: withPreset
      ? 'Anthropic Messages through a named preset Router'
      : 'Anthropic Messages (JSON or SSE stream)',
    description:
      'Routes the request by CCR scenario, translates to the upstream format when needed, and streams SSE when `stream` is true. Unknown fields pass through untouched.',
    request: {
      ...(withPreset ? { params: PresetParam } : {}),
      body: { required: true, content: { 'application/json': { schema: AnthropicMessagesRequestSchema } } },
    },
    responses: {
      200: {
        description: 'A message, or its SSE event stream',
        headers: z.object({
          'x-switchyard-route': z.string().openapi({
            example: 'think deepseek,deepseek-reasoner; tier=tier-2; attempts=1; fallback=0',
          }),
        }),
        content: {
          'application/json': { schema: AnthropicMessageResponseSchema },
          'text/event-stream': {
            schema: z.string().openapi({ description: 'Anthropic SSE events: message_start … message_stop' }),
          },
        },
      },
      ...errorResponses(AnthropicErrorBodySchema),
    },
  })

const countTokensRoute = (path: string, withPreset: boolean) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Inference'],
    summary: withPreset
      ? "Count input tokens (local cl100k estimate), under a preset's base URL"
      : 'Count input tokens (local cl100k estimate)',
    request: {
      ...(withPreset ? { params: PresetParam } : {}),
      body: { required: true, content: { 'application/json': { schema: AnthropicCountTokensRequestSchema } } },
    },
    responses: {
      200: {
        description: 'The estimate',
        content: {
          'application/json': {
            schema: z.object({ input_tokens: z.number().int() }).openapi('CountTokensResponse', {
              example: { input_tokens: 2095 },
            }),
          },
        },
      },
      ...errorResponses(AnthropicErrorBodySchema),
    },
  })

/** Claude Code with its base URL at a preset (`switchyard <preset>`) counts tokens there too. */
const COUNT_TOKENS_PATHS = [
  ['/v1/messages/count_tokens', false],
  ['/preset/{name}/v1/messages/count_tokens', true],
] as const

/** `POST /v1/messages`, `POST /v1/messages/count_tokens`, and their preset twins. */
export function registerMessages(app: OpenAPIHono, deps: Deps): void {
  openapiClient(
    app,
    messagesRoute('/v1/messages', false),
    (c, body, text) => handleClient(c, deps, { format: 'anthropic', body, text }),
  )
  openapiClient(
    app,
    messagesRoute('/preset/{name}/v1/messages', true),
    (c, body, text) => handleClient(c, deps, { format: 'anthropic', preset: c.req.param('name'), body, text }),
  )
  for (const [path, withPreset] of COUNT_TOKENS_PATHS) {
    app.openapi(
      countTokensRoute(path, withPreset),
      async (c) => c.json({ input_tokens: deps.tokens.estimate(await clientBody(c), 'anthropic') }, 200),
    )
  }
}
