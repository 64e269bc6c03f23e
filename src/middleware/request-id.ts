import type { MiddlewareHandler } from 'hono'

/**
 * Gives every request an id (`req_<random prefix><counter>`), echoed in `x-request-id`.
 * A counter behind a per-process random prefix is unique enough and far cheaper than a UUID.
 * Synchronous: it hands on `next()`'s promise instead of awaiting it (no promise of its own per request).
 */
export function requestId(options: { random?: () => number } = {}): MiddlewareHandler {
  const { random = Math.random } = options
  const prefix = Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')
  let n = 0
  return function requestId(c, next) {
    c.set('requestId' as never, `req_${prefix}${(n++).toString(36)}` as never)
    return next()
  }
}

/** The id `requestId()` assigned (or a fresh one when the middleware did not run). */
export function requestIdOf(c: { get(key: never): unknown }): string {
  const id = c.get('requestId' as never)
  return typeof id === 'string' ? id : `req_${Date.now().toString(36)}`
}
