/**
 * `POST /v1/responses` (OpenAI Responses API, JSON or SSE) and `POST /v1/responses/input_tokens`.
 * A `previous_response_id` is resolved here from the response store, so any upstream can serve
 * the follow-up; answers are stored unless the client sent `store: false`.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import {
  createSseDecoder,
  OpenAIErrorBodySchema,
  ResponsesInputTokensSchema,
  ResponsesRequestSchema,
  ResponsesResponseSchema,
  untranslatableTools,
} from '../formats/index.ts'
import type { JsonObject } from '../formats/types.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { handle } from '../proxy/pipeline.ts'
import { errorResponse } from '../proxy/respond.ts'
import { memoryResponseStore, type ResponseStore } from '../proxy/response-store.ts'
import { toClientRequest } from './client-request.ts'
import { errorResponses } from './errors.ts'
import { jsonContent } from './openapi.ts'

const responsesRoute = createRoute({
  method: 'post',
  path: '/v1/responses',
  tags: ['Inference'],
  summary: 'OpenAI Responses API (JSON or SSE stream)',
  description:
    'Routes like every inference request (scenarios, rules, fallbacks) and translates to any upstream format. `previous_response_id` is served from a bounded store of recent responses.',
  request: { body: { required: true, content: jsonContent(ResponsesRequestSchema) } },
  responses: {
    200: {
      description: 'A response object, or its event stream (`response.created` … `response.completed`)',
      content: {
        'application/json': { schema: ResponsesResponseSchema },
        'text/event-stream': { schema: z.string().openapi({ description: 'Responses API events' }) },
      },
    },
    ...errorResponses(OpenAIErrorBodySchema),
  },
})

const inputTokensRoute = createRoute({
  method: 'post',
  path: '/v1/responses/input_tokens',
  tags: ['Inference'],
  summary: 'Count the input tokens of a Responses request (local cl100k estimate)',
  request: { body: { required: true, content: jsonContent(ResponsesRequestSchema) } },
  responses: {
    200: { description: 'The estimate', content: jsonContent(ResponsesInputTokensSchema) },
    ...errorResponses(OpenAIErrorBodySchema),
  },
})

/** `input` as a list of items (a string is one user message). */
function itemsOf(input: unknown): JsonObject[] {
  if (typeof input === 'string') {
    return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }]
  }
  return Array.isArray(input)
    ? input.filter((i): i is JsonObject => typeof i === 'object' && i !== null && !Array.isArray(i))
    : []
}

/** The body with the stored conversation in front of its input, or the id that was not found. */
async function withHistory(
  body: JsonObject,
  store: ResponseStore,
): Promise<{ body: JsonObject } | { missing: string }> {
  const prev = body.previous_response_id
  if (typeof prev !== 'string' || prev === '') return { body }
  const history = await store.get(prev)
  if (!history) return { missing: prev }
  const { previous_response_id: _prev, ...rest } = body
  return { body: { ...rest, input: [...history, ...itemsOf(body.input)] } }
}

/** Passes the answer through unchanged, storing its conversation once the final response is seen. */
function remember(res: Response, input: readonly JsonObject[], store: ResponseStore): Response {
  const save = (response: unknown) => {
    const r = response as { id?: unknown; output?: unknown } | null
    if (typeof r?.id === 'string' && Array.isArray(r.output)) {
      void store.put(r.id, [...input, ...r.output]).catch(() => undefined)
    }
  }
  if (!res.body || !(res.headers.get('content-type') ?? '').includes('event-stream')) {
    void res.clone().json().then(save, () => undefined)
    return res
  }
  const decoder = createSseDecoder()
  const text = new TextDecoder()
  const watch = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctrl) {
      ctrl.enqueue(chunk)
      for (const ev of decoder.push(text.decode(chunk, { stream: true }))) {
        if (ev.event !== 'response.completed' && !ev.data.startsWith('{"type":"response.completed"')) continue
        try {
          save((JSON.parse(ev.data) as { response?: unknown }).response)
        } catch { /* not ours to judge */ }
      }
    },
  })
  return new Response(res.body.pipeThrough(watch), { status: res.status, headers: res.headers })
}

/** `POST /v1/responses` and `POST /v1/responses/input_tokens`. */
export function registerResponses(
  app: OpenAPIHono,
  deps: Deps,
  store: ResponseStore = deps.responses ?? memoryResponseStore({ now: deps.now }),
): void {
  const missing = (c: Parameters<typeof requestIdOf>[0], id: string) =>
    errorResponse({ id: requestIdOf(c), format: 'responses' }, {
      kind: 'invalid_request',
      message:
        `previous_response_id: response '${id}' is not in this Switchyard's store (expired, evicted, or stored with store: false)`,
      param: 'previous_response_id',
    })
  app.openapi(responsesRoute, async (c) => {
    const found = await withHistory(c.req.valid('json'), store)
    if ('missing' in found) return missing(c, found.missing)
    const req = toClientRequest(c, deps, { format: 'responses', body: found.body })
    const dropped = untranslatableTools(found.body)
    if (dropped.length > 0) {
      deps.log.info(
        'responses: tool types with no equivalent in other formats are dropped unless the upstream speaks Responses',
        { requestId: req.id, types: dropped },
      )
    }
    const res = await handle(req, deps)
    if (found.body.store === false || res.status !== 200) return res
    return remember(res, itemsOf(found.body.input), store)
  })
  app.openapi(inputTokensRoute, async (c) => {
    const found = await withHistory(c.req.valid('json'), store)
    // An error Response is not the typed 200 body; the route documents it among the errors.
    if ('missing' in found) return missing(c, found.missing) as never
    return c.json({
      object: 'response.input_tokens' as const,
      input_tokens: deps.tokens.estimate(found.body, 'responses'),
    }, 200)
  })
}
