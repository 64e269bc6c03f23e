import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import { OpenAIChatRequestSchema, OpenAIChatResponseSchema, OpenAIErrorBodySchema } from '../formats/index.ts'
import { handleClient, openapiClient } from './client-request.ts'
import { errorResponses } from './errors.ts'
import { PresetParam } from './preset-param.ts'

const chatRoute = (path: string, withPreset: boolean) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Inference'],
    summary: withPreset
      ? 'OpenAI Chat Completions through a named preset Router'
      : 'OpenAI Chat Completions (JSON or SSE stream)',
    description:
      '`model` may be `provider,model`, a bare model id that exactly one provider lists, or anything else (then the Router decides).',
    request: {
      ...(withPreset ? { params: PresetParam } : {}),
      body: { required: true, content: { 'application/json': { schema: OpenAIChatRequestSchema } } },
    },
    responses: {
      200: {
        description: 'A chat completion, or its chunk stream ending in `data: [DONE]`',
        content: {
          'application/json': { schema: OpenAIChatResponseSchema },
          'text/event-stream': { schema: z.string().openapi({ description: 'OpenAI chat.completion.chunk events' }) },
        },
      },
      ...errorResponses(OpenAIErrorBodySchema),
    },
  })

/** `POST /v1/chat/completions` and its preset twin. */
export function registerChatCompletions(app: OpenAPIHono, deps: Deps): void {
  openapiClient(
    app,
    chatRoute('/v1/chat/completions', false),
    (c, body, text) => handleClient(c, deps, { format: 'openai', body, text }),
  )
  openapiClient(
    app,
    chatRoute('/preset/{name}/v1/chat/completions', true),
    (c, body, text) => handleClient(c, deps, { format: 'openai', preset: c.req.param('name'), body, text }),
  )
}
