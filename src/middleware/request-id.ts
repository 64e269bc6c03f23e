import type { Context } from 'hono'

/**
 * Gives every request an id (`req_<random prefix><counter>`), echoed in `x-request-id`: called by
 * the app's first middleware (app.ts), which checks the key in the same step. A counter behind a
 * per-process random prefix is unique enough and far cheaper than a UUID.
 */
export function requestIdAssigner(options: { random?: () => number } = {}): (c: Context) => void {
  const { random = Math.random } = options
  const prefix = Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')
  let n = 0
  return (c) => c.set('requestId' as never, `req_${prefix}${(n++).toString(36)}` as never)
}

/** The id `requestIdAssigner` gave this request (or a fresh one when it did not run). */
export function requestIdOf(c: { get(key: never): unknown }): string {
  const id = c.get('requestId' as never)
  return typeof id === 'string' ? id : `req_${Date.now().toString(36)}`
}
