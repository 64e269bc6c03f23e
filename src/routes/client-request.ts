import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Deps } from '../deps.ts'
import type { JsonObject, WireFormatName } from '../formats/types.ts'
import { fastAccept } from '../lib/fast-accept.ts'
import { apiKeyNameOf } from '../middleware/auth.ts'
import { edgeError } from '../middleware/edge-error.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { handle } from '../proxy/pipeline.ts'
import type { ClientRequest } from '../proxy/types.ts'

/**
 * The request body as the client sent it, once the route's schema accepted it. Not the schema's
 * output: that copies objects by assignment, which drops a key named `__proto__` (and gives the
 * copy an odd prototype), while the body must reach the upstream with every field it had.
 * Hono caches the text, not the parsed JSON: this parses it again (the inference routes of
 * `openapiClient` parse once and pass the body on instead).
 */
export async function clientBody(c: Context): Promise<JsonObject> {
  return (await c.req.json()) as JsonObject
}

/** The validated body plus what the pipeline needs from the HTTP request. */
export function toClientRequest(
  c: Context,
  deps: Deps,
  r: { format: WireFormatName; body: JsonObject; preset?: string },
): ClientRequest {
  const { format, body, preset } = r
  const raw = c.req.raw
  const q = raw.url.indexOf('?')
  const apiKeyName = apiKeyNameOf(c)
  const req: { -readonly [K in keyof ClientRequest]: ClientRequest[K] } = {
    id: requestIdOf(c),
    format,
    body,
    stream: body.stream === true,
    headers: raw.headers,
    query: q === -1 ? '' : raw.url.slice(q),
    signal: raw.signal,
    receivedAt: deps.now(),
    preset,
  }
  // Present only for a named key (no spread of an empty object per request).
  if (apiKeyName !== undefined) req.apiKeyName = apiKeyName
  return req
}

/**
 * A client-format inference request (optionally through a preset) served end to end: its body as
 * sent, and its JSON text for a same-format passthrough.
 */
export function handleClient(
  c: Context,
  deps: Deps,
  r: { format: WireFormatName; preset?: string; body: JsonObject; text: string },
): Promise<Response> {
  return handle(toClientRequest(c, deps, { format: r.format, body: r.body, preset: r.preset }), deps, r.text)
}

/** Zod issues as one line naming each wrong field, e.g. `max_tokens: expected number, received string`. */
export function describeIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): { message: string; param?: string } {
  const parts = issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`)
  return { message: parts.join('; '), param: issues[0]?.path.map(String).join('.') || undefined }
}

/** `application/json` with optional parameters, as @hono/zod-openapi's media-type gate accepts it. */
const JSON_CONTENT_TYPE = /^application\/([a-z-\.]+\+)?json(;\s*[a-zA-Z0-9\-]+\=([^;]+))*$/i

/** What a route's required JSON body is checked against (`route.request.body.content['application/json'].schema`). */
interface BodySchema {
  safeParse(v: unknown): { success: true } | {
    success: false
    error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }
  }
}

/**
 * Registers a client inference route (a required JSON body, served by `handleClient`): its OpenAPI
 * entry exactly as `app.openapi` records it, and one handler that does what zod-openapi's chain
 * did (a media-type gate and a validator middleware, each a Hono dispatch step, an async schema
 * parse, and then a second `JSON.parse` of the same text in the handler) in one step: the body is
 * parsed once and checked synchronously (the request schemas have no async refinements). Answers
 * are the same: a wrong or missing media type with a body is a 415, malformed JSON a 400 (both
 * through the app's error hook), and a body the schema refuses a 400 naming the fields.
 */
export function openapiClient(
  app: OpenAPIHono,
  route: RouteConfig,
  serve: (c: Context, body: JsonObject, text: string) => Promise<Response>,
): void {
  app.openAPIRegistry.registerPath(route)
  const media = route.request?.body?.content?.['application/json'] as { schema?: unknown } | undefined
  const schema = media?.schema as BodySchema
  // A valid body is recognised without running zod (lib/fast-accept.ts); any other goes to zod for the verdict and the messages.
  const accepts = fastAccept(schema)
  app.on(route.method.toUpperCase(), route.path.replaceAll(/\/{(.+?)}/g, '/:$1'), async (c) => {
    const type = c.req.header('content-type')
    const text = await c.req.text()
    if (type ? !JSON_CONTENT_TYPE.test(type) : text.length > 0) {
      throw new HTTPException(415, { message: 'Unsupported Media Type' })
    }
    let body: unknown = {}
    if (type) {
      try {
        body = JSON.parse(text)
      } catch {
        throw new HTTPException(400, { message: 'Malformed JSON in request body' })
      }
    }
    if (!accepts(body)) {
      const checked = schema.safeParse(body)
      if (!checked.success) {
        const { message, param } = describeIssues(checked.error.issues)
        return edgeError(c, { kind: 'invalid_request', message, param })
      }
    }
    return serve(c, body as JsonObject, text)
  })
}
