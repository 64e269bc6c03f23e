import type { Context, MiddlewareHandler } from 'hono'

/**
 * Gives every request an id (`req_<random prefix><counter>`), echoed in `x-request-id`.
 * A counter behind a per-process random prefix is unique enough and far cheaper than a UUID.
 * Synchronous: it hands on `next()`'s promise instead of awaiting it (no promise of its own per request).
 */
export function requestId(options: { random?: () => number } = {}): MiddlewareHandler {
  const assign = requestIdAssigner(options)
  return function requestId(c, next) {
    assign(c)
    return next()
  }
}

/** What `requestId()` does before handing on, for a middleware that does more in the same step (app.ts). */
export function requestIdAssigner(options: { random?: () => number } = {}): (c: Context) => void {
  const { random = Math.random } = options
  const prefix = Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')
  let n = 0
  return (c) => c.set('requestId' as never, `req_${prefix}${(n++).toString(36)}` as never)
}

/** The id `requestId()` assigned (or a fresh one when the middleware did not run). */
export function requestIdOf(c: { get(key: never): unknown }): string {
  const id = c.get('requestId' as never)
  return typeof id === 'string' ? id : `req_${Date.now().toString(36)}`
}
