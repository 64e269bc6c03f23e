/**
 * `POST /v1/responses` (OpenAI Responses API, JSON or SSE), `POST /v1/responses/input_tokens`,
 * `POST /v1/responses/compact`, and the kept answers: `GET` / `DELETE /v1/responses/{response_id}` and
 * `GET /v1/responses/{response_id}/input_items`. A `previous_response_id` and any
 * `item_reference` are resolved here from the response store, so any upstream can serve the
 * follow-up; answers are stored unless the client sent `store: false`. The WebSocket mode
 * (`GET /v1/responses`) is in responses-socket.ts.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import {
  createSseDecoder,
  encodeSseAll,
  expandCompactions,
  OpenAIErrorBodySchema,
  ResponsesCompactionSchema,
  responsesEvents,
  ResponsesInputTokensSchema,
  ResponsesRequestSchema,
  ResponsesResponseSchema,
  untranslatableTools,
} from '../formats/index.ts'
import type { JsonObject } from '../formats/types.ts'
import { apiKeyNameOf } from '../middleware/auth.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { handle } from '../proxy/pipeline.ts'
import { errorResponse } from '../proxy/respond.ts'
import {
  conversationOf,
  findItem,
  inputItemId,
  inputItemsOf,
  memoryResponseStore,
  type ResponseStore,
} from '../proxy/response-store.ts'
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

const compactRoute = createRoute({
  method: 'post',
  path: '/v1/responses/compact',
  tags: ['Inference'],
  summary: 'Compact a conversation (its user messages, then one compaction item)',
  description:
    "The conversation (`input`, after `previous_response_id`'s) is summarised by the routed model: a `compaction_trigger` request through the same pipeline, so any upstream serves it (for one that is not OpenAI's the item carries the summary, which Switchyard reads back wherever it is sent later). The answer lists the conversation's user messages, then the one `compaction` item: the input of the next request.",
  request: { body: { required: true, content: jsonContent(ResponsesRequestSchema) } },
  responses: {
    200: { description: 'The compacted conversation', content: jsonContent(ResponsesCompactionSchema) },
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

const ResponseIdParams = z.object({
  response_id: z.string().min(1).openapi({ param: { name: 'response_id', in: 'path' }, example: 'resp_A1b2' }),
})

/** The errors of the routes that read the store: only these can happen there. */
const storeErrors = {
  400: { description: 'A query parameter out of range', content: jsonContent(OpenAIErrorBodySchema) },
  401: { description: 'Missing or wrong API key', content: jsonContent(OpenAIErrorBodySchema) },
  404: {
    description: "Not in this Switchyard's store (never kept, expired, evicted, deleted, or sent with store: false)",
    content: jsonContent(OpenAIErrorBodySchema),
  },
} as const

const retrieveRoute = createRoute({
  method: 'get',
  path: '/v1/responses/{response_id}',
  tags: ['Inference'],
  summary: 'A kept response, as JSON or replayed as its event stream',
  description:
    'The response object as its client received it, from the same bounded store as `previous_response_id`. With `stream=true`, its complete event stream (`response.created` … `response.completed`); `starting_after` skips the events up to that `sequence_number`.',
  request: {
    params: ResponseIdParams,
    query: z.object({
      stream: z.enum(['true', 'false']).optional().openapi({ example: 'false' }),
      starting_after: z.coerce.number().int().min(0).optional().openapi({ example: 3 }),
    }),
  },
  responses: {
    200: {
      description: 'The response, or its event stream',
      content: {
        'application/json': { schema: ResponsesResponseSchema },
        'text/event-stream': { schema: z.string().openapi({ description: 'Responses API events' }) },
      },
    },
    ...storeErrors,
  },
})

const DeletedResponseSchema = z
  .object({ id: z.string(), object: z.literal('response'), deleted: z.literal(true) })
  .openapi('ResponsesDeleted', { example: { id: 'resp_A1b2', object: 'response', deleted: true } })

const deleteRoute = createRoute({
  method: 'delete',
  path: '/v1/responses/{response_id}',
  tags: ['Inference'],
  summary: 'Forget a kept response (a later previous_response_id naming it is refused)',
  request: { params: ResponseIdParams },
  responses: {
    200: { description: 'Deleted', content: jsonContent(DeletedResponseSchema) },
    ...storeErrors,
  },
})

const InputItemsSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(z.looseObject({ id: z.string(), type: z.string() })),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .openapi('ResponsesInputItems', {
    example: {
      object: 'list',
      data: [{ id: 'item_A1b2_0', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] }],
      first_id: 'item_A1b2_0',
      last_id: 'item_A1b2_0',
      has_more: false,
    },
  })

const inputItemsRoute = createRoute({
  method: 'get',
  path: '/v1/responses/{response_id}/input_items',
  tags: ['Inference'],
  summary: 'The input items a kept response was given (its stored history first), a page at a time',
  description:
    'Items the client sent without an `id` are listed under one derived from the response id, which an `item_reference` also accepts.',
  request: {
    params: ResponseIdParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
      order: z.enum(['asc', 'desc']).default('desc').openapi({ example: 'desc' }),
      after: z.string().min(1).optional().openapi({ example: 'item_A1b2_0' }),
    }),
  },
  responses: {
    200: { description: 'One page of input items', content: jsonContent(InputItemsSchema) },
    ...storeErrors,
  },
})

/** An input item as the API lists it: typed, with an id, a string content as one text part. */
function listed(item: JsonObject, id: string): JsonObject & { id: string; type: string } {
  const type = typeof item.type === 'string' ? item.type : 'message'
  const content = type === 'message' && typeof item.content === 'string'
    ? [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }]
    : item.content
  return { ...item, id, type, ...(content === undefined ? {} : { content }) }
}

/**
 * The body with the stored conversation in front of its input, each `item_reference` the store
 * holds replaced by its item and each of Switchyard's `compaction` items by its summary (unless
 * `expand` is false), or the `previous_response_id` that was not found. A reference the store does
 * not hold stays: a Responses upstream may know it, and any other is refused by the target check
 * (`unsupportedFeature`), like another provider's compaction item.
 */
async function withHistory(
  body: JsonObject,
  store: KeptBy,
  expand = true,
): Promise<{ body: JsonObject } | { missing: string }> {
  const prev = body.previous_response_id
  let input = body.input
  if (typeof prev === 'string' && prev !== '') {
    const entry = await store.get(prev)
    if (!entry) return { missing: prev }
    input = [...conversationOf(entry), ...inputItemsOf(body.input)]
  }
  if (Array.isArray(input) && input.some(isReference)) input = await resolveReferences(input, store)
  if (expand) input = expandCompactions(input)
  if (input === body.input) return { body }
  const { previous_response_id: _prev, ...rest } = body
  return { body: { ...rest, input } }
}

const isReference = (item: unknown): boolean =>
  typeof item === 'object' && item !== null && (item as { type?: unknown }).type === 'item_reference'

async function resolveReferences(input: readonly unknown[], store: KeptBy): Promise<unknown[]> {
  return await Promise.all(input.map(async (item) => {
    const id = isReference(item) ? (item as { id?: unknown }).id : undefined
    if (typeof id !== 'string') return item
    const answer = await store.itemOwner(id)
    const entry = answer === undefined ? undefined : await store.get(answer)
    return (entry && findItem(entry, id)) ?? item
  }))
}

/** The store as one caller sees it: only the answers made with the caller's own API key. */
type KeptBy = Pick<ResponseStore, 'get' | 'itemOwner'>

function keptBy(store: ResponseStore, owner: string | undefined): KeptBy {
  return {
    get: async (id) => {
      const entry = await store.get(id)
      return entry?.owner === owner ? entry : undefined
    },
    itemOwner: (itemId) => store.itemOwner(itemId),
  }
}

/** The stream events that end a response the client can continue or read back. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete'])

/** Passes the answer through unchanged, storing it and its input once the final response is seen. */
function remember(
  res: Response,
  input: readonly JsonObject[],
  owner: string | undefined,
  store: ResponseStore,
): Response {
  const save = (response: unknown) => {
    const r = response as JsonObject | null
    if (typeof r?.id === 'string' && Array.isArray(r.output)) {
      void store.put({ input, response: r, ...(owner === undefined ? {} : { owner }) }).catch(() => undefined)
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
        const final = ev.event !== undefined
          ? FINAL_EVENTS.has(ev.event)
          : /^\{"type":"response\.(completed|incomplete)"/.test(ev.data)
        if (!final) continue
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
      code: 'previous_response_not_found',
    })
  // The typed routes' 404, in the Responses error shape (documented among their errors).
  const notKept = (c: Parameters<typeof requestIdOf>[0], id: string) =>
    errorResponse({ id: requestIdOf(c), format: 'responses' }, {
      kind: 'not_found',
      message: `Response with id '${id}' not found in this Switchyard's store`,
    }) as never
  app.openapi(responsesRoute, async (c) => {
    const found = await withHistory(c.req.valid('json'), keptBy(store, apiKeyNameOf(c)))
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
    return remember(res, inputItemsOf(found.body.input), req.apiKeyName, store)
  })
  app.openapi(retrieveRoute, async (c) => {
    const { response_id: id } = c.req.valid('param')
    const entry = await keptBy(store, apiKeyNameOf(c)).get(id)
    if (!entry) return notKept(c, id)
    const { stream, starting_after: after } = c.req.valid('query')
    if (stream !== 'true') return c.json(entry.response as z.infer<typeof ResponsesResponseSchema>, 200)
    const events = responsesEvents(entry.response).filter((ev) =>
      after === undefined || (JSON.parse(ev.data) as { sequence_number: number }).sequence_number > after
    )
    return c.body(encodeSseAll(events), 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  })
  app.openapi(deleteRoute, async (c) => {
    const { response_id: id } = c.req.valid('param')
    const mine = await keptBy(store, apiKeyNameOf(c)).get(id)
    if (!mine || !(await store.delete(id))) return notKept(c, id)
    return c.json({ id, object: 'response' as const, deleted: true as const }, 200)
  })
  app.openapi(inputItemsRoute, async (c) => {
    const { response_id: id } = c.req.valid('param')
    const entry = await keptBy(store, apiKeyNameOf(c)).get(id)
    if (!entry) return notKept(c, id)
    const { limit, order, after } = c.req.valid('query')
    const items = entry.input.map((item, i) => listed(item, typeof item.id === 'string' ? item.id : inputItemId(id, i)))
    if (order === 'desc') items.reverse()
    const from = after === undefined ? 0 : items.findIndex((item) => item.id === after) + 1
    if (from === 0 && after !== undefined) {
      return errorResponse({ id: requestIdOf(c), format: 'responses' }, {
        kind: 'invalid_request',
        message: `after: '${after}' is not an input item of response '${id}'`,
        param: 'after',
      }) as never
    }
    const data = items.slice(from, from + limit)
    return c.json({
      object: 'list' as const,
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: from + limit < items.length,
    }, 200)
  })
  app.openapi(compactRoute, async (c) => {
    // Earlier compaction items stay items here: the answer lists user messages only, and an
    // earlier summary is in the new one. The model reads them expanded, as on /v1/responses.
    const found = await withHistory(c.req.valid('json'), keptBy(store, apiKeyNameOf(c)), false)
    if ('missing' in found) return missing(c, found.missing) as never
    const items = inputItemsOf(found.body.input)
    const { stream: _stream, store: _store, ...rest } = found.body
    const expanded = expandCompactions(items) as JsonObject[]
    // The compaction Codex asks for in a response (a trigger at the end): one pipeline for both.
    const body = { ...rest, input: [...expanded, { type: 'compaction_trigger' }], stream: false, store: false }
    const req = toClientRequest(c, deps, { format: 'responses', body })
    const res = await handle(req, deps)
    if (res.status !== 200) return res as never
    const answer = await res.json() as JsonObject
    const output = Array.isArray(answer.output) ? (answer.output as JsonObject[]) : []
    const compaction = output.find((item) => item.type === 'compaction')
    if (typeof answer.id !== 'string' || compaction === undefined) {
      return errorResponse(req, {
        kind: 'internal',
        message: 'the upstream answered the compaction request with no compaction item',
      }) as never
    }
    const users = items.flatMap((item, i) =>
      item.role === 'user' && (item.type ?? 'message') === 'message'
        ? [listed(item, inputItemId(answer.id as string, i))]
        : []
    )
    return c.json({
      id: answer.id,
      object: 'response.compaction' as const,
      created_at: typeof answer.created_at === 'number' ? answer.created_at : Math.floor(deps.now() / 1000),
      output: [...users, compaction as JsonObject & { id: string; type: string }],
      usage: (answer.usage ?? null) as JsonObject | null,
    }, 200)
  })
  app.openapi(inputTokensRoute, async (c) => {
    const found = await withHistory(c.req.valid('json'), keptBy(store, apiKeyNameOf(c)))
    // An error Response is not the typed 200 body; the route documents it among the errors.
    if ('missing' in found) return missing(c, found.missing) as never
    return c.json({
      object: 'response.input_tokens' as const,
      input_tokens: deps.tokens.estimate(found.body, 'responses'),
    }, 200)
  })
}
