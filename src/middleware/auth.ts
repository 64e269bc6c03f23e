import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { errorResponse } from '../proxy/respond.ts'
import { clientFormatOf } from './client-format.ts'
import { requestIdOf } from './request-id.ts'

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

/**
 * Requires `apiKey` on every path but the public ones. Keys are compared as SHA-256 digests in
 * constant time, so neither the length nor a prefix of the key leaks through timing.
 */
export function apiKeyAuth(options: { apiKey?: string; publicPaths?: readonly string[] } = {}): MiddlewareHandler {
  const { apiKey, publicPaths = ['/', '/health'] } = options
  const expected = apiKey ? digest(apiKey) : undefined
  return async function apiKeyAuth(c, next) {
    if (!expected || publicPaths.includes(c.req.path)) return next()
    const key = presentedKey(c.req.raw.headers, c.req.url)
    if (key !== undefined && timingSafeEqual(digest(key), expected)) return next()
    const message = key === undefined ? 'API key is missing: send it as x-api-key, Authorization: Bearer, x-goog-api-key or ?key=' : 'Invalid API key'
    return errorResponse({ id: requestIdOf(c), format: clientFormatOf(c.req.path) }, { kind: 'unauthorized', message })
  }
}
