import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { edgeError } from './edge-error.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * The key a client presented: `Authorization: Bearer …` first, then `x-api-key` (CCR's order),
 * then Gemini's `x-goog-api-key` header and `?key=` query parameter.
 */
export function presentedKey(h: Headers, url?: string): string | undefined {
  const auth = h.get('authorization')
  if (auth) return auth.replace(/^Bearer\s+/i, '')
  const key = h.get('x-api-key') ?? h.get('x-goog-api-key')
  if (key !== null) return key
  if (url === undefined || !url.includes('key=')) return undefined
  try {
    return new URL(url).searchParams.get('key') ?? undefined
  } catch {
    return undefined
  }
}

/** The name of the named key (`Keys[].name`) the request authenticated with, if any. */
export function apiKeyNameOf(c: { get(key: never): unknown }): string | undefined {
  const name = c.get('apiKeyName' as never)
  return typeof name === 'string' ? name : undefined
}

/**
 * Requires `apiKey` or one of the named `keys` on every path but the public ones. Keys are
 * compared as SHA-256 digests in constant time, every one of them on every request, so neither
 * the length, a prefix, nor which entry matched leaks through timing. The matching named key's
 * name is kept for the pipeline (`apiKeyNameOf`); keys themselves are never logged.
 * Synchronous: it hands on `next()`'s promise, or a resolved refusal (no promise of its own per request).
 */
export function apiKeyAuth(
  options: { apiKey?: string; keys?: readonly { name: string; key: string }[]; publicPaths?: readonly string[] } = {},
): MiddlewareHandler {
  const { apiKey, keys = [], publicPaths = ['/', '/health'] } = options
  const ring = [
    ...(apiKey ? [{ name: undefined, digest: digest(apiKey) }] : []),
    ...keys.map((k) => ({ name: k.name, digest: digest(k.key) })),
  ]
  return function apiKeyAuth(c, next) {
    if (ring.length === 0 || publicPaths.includes(c.req.path)) return next()
    const key = presentedKey(c.req.raw.headers, c.req.url)
    if (key !== undefined) {
      const got = digest(key)
      let found: (typeof ring)[number] | undefined
      for (const r of ring) if (timingSafeEqual(got, r.digest) && !found) found = r
      if (found) {
        if (found.name !== undefined) c.set('apiKeyName' as never, found.name as never)
        return next()
      }
    }
    const message = key === undefined
      ? 'API key is missing: send it as x-api-key, Authorization: Bearer, x-goog-api-key or ?key='
      : 'Invalid API key'
    return Promise.resolve(
      edgeError(c, { kind: 'unauthorized', message }),
    )
  }
}
