import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi'
import type { Context } from 'hono'
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

/** A zod issue as far as the answer reads it; a union's carries each option's issues. */
export interface Issue {
  readonly path: readonly PropertyKey[]
  readonly message: string
  readonly code?: string
  readonly expected?: string
  readonly errors?: readonly (readonly Issue[])[]
}

/** Zod issues as one line naming each wrong field, e.g. `max_tokens: expected number, received string`. */
export function describeIssues(issues: readonly Issue[]): { message: string; param?: string } {
  const said = issues.slice(0, 5).map(explained)
  const parts = said.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`)
  return { message: parts.join('; '), param: said[0]?.path.map(String).join('.') || undefined }
}

/**
 * A union's issue says only "Invalid input". When the value was of one option's kind (an array
 * for `string | array`), that option's own issue names the field inside it; when it was of no
 * option's kind, the answer lists the kinds.
 */
function explained(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return issue
  const wrongKind = (i: Issue) => i.code === 'invalid_type' && i.path.length === 0
  const matched = issue.errors.filter((branch) => !branch.every(wrongKind))
  if (matched.length === 1 && matched[0]!.length > 0) {
    const inner = explained(matched[0]![0]!)
    return { path: [...issue.path, ...inner.path], message: inner.message }
  }
  const kinds = issue.errors.map((branch) => branch[0]?.expected)
  if (matched.length > 0 || kinds.some((k) => k === undefined)) return issue
  const received = /received (\w+)$/.exec(issue.errors[0]![0]!.message)?.[1]
  return {
    path: issue.path,
    message: `Invalid input: expected ${kinds.join(' or ')}${received ? `, received ${received}` : ''}`,
  }
}

/** What a body declared as something other than JSON (or not declared) is answered with. */
export function wrongMediaType(type: string | undefined): string {
  return `content-type: expected application/json, received ${type ? type.split(';')[0]!.trim() : 'none'}`
}

/** What a body that does not parse is answered with: the parser's own words say where it broke. */
function malformedJson(text: string, e: unknown): string {
  if (text.trim() === '') return 'body: empty, expected a JSON object'
  return `body: malformed JSON (${e instanceof Error ? e.message : String(e)})`
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
 * parsed once and checked synchronously (the request schemas have no async refinements). Each
 * refusal is a 400 in the client's format naming what is wrong: a wrong or missing media type with
 * a body (`content-type`), JSON that does not parse (`body`, with the parser's own message), or the
 * fields the schema refuses.
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
      return edgeError(c, { kind: 'invalid_request', message: wrongMediaType(type), param: 'content-type' })
    }
    let body: unknown = {}
    if (type) {
      try {
        body = JSON.parse(text)
      } catch (e) {
        return edgeError(c, { kind: 'invalid_request', message: malformedJson(text, e), param: 'body' })
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
