import type { Context } from 'hono'
import type { Deps } from '../deps.ts'
import type { JsonObject, WireFormatName } from '../formats/types.ts'
import { apiKeyNameOf } from '../middleware/auth.ts'
import { requestIdOf } from '../middleware/request-id.ts'
import { handle } from '../proxy/pipeline.ts'
import type { ClientRequest } from '../proxy/types.ts'

/**
 * The request's JSON text as the validator read it (Hono keeps it), or undefined when it was
 * not read as text. Never reads the body itself.
 */
export function rawBodyOf(c: Context): Promise<string | undefined> | undefined {
  // Hono types the cache by value but stores the promise of it.
  const text = c.req.bodyCache.text as unknown
  return text instanceof Promise
    ? (text as Promise<string>)
    : typeof text === 'string'
    ? Promise.resolve(text)
    : undefined
}

/**
 * The request body as the client sent it, once the route's schema accepted it. Not the schema's
 * output: that copies objects by assignment, which drops a key named `__proto__` (and gives the
 * copy an odd prototype), while the body must reach the upstream with every field it had.
 * Hono caches the parsed JSON, so this does not parse twice.
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
  return {
    id: requestIdOf(c),
    format,
    body,
    stream: body.stream === true,
    headers: raw.headers,
    query: q === -1 ? '' : raw.url.slice(q),
    signal: raw.signal,
    receivedAt: deps.now(),
    preset,
    ...(apiKeyName === undefined ? {} : { apiKeyName }),
  }
}

/**
 * A client-format inference request (optionally through a preset) served end to end: its body as
 * sent, and its JSON text for a same-format passthrough.
 */
export async function handleClient(
  c: Context,
  deps: Deps,
  r: { format: WireFormatName; preset?: string },
): Promise<Response> {
  const req = toClientRequest(c, deps, { format: r.format, body: await clientBody(c), preset: r.preset })
  return handle(req, deps, await rawBodyOf(c))
}
