/**
 * Refuses request bodies nested deeper than a bound before anything parses or walks them: 100k
 * nested arrays used to stall the server for seconds and end in a 500 (`RangeError` from a
 * recursive walk).
 */
import type { MiddlewareHandler } from 'hono'
import type { ProxyError } from '../errors.ts'
import { jsonDepth, MAX_JSON_DEPTH } from '../lib/json-depth.ts'

export { MAX_JSON_DEPTH }

/** Middleware: a body nested deeper than `maxDepth` gets a 400 naming the limit, in the client's format. */
export function jsonDepthGuard(
  options: {
    maxDepth?: number
    fail: (c: Parameters<MiddlewareHandler>[0], e: ProxyError) => Response
    /** The check that follows this one in the same middleware (app.ts), called with `next`: no closure per request. */
    then?: MiddlewareHandler
  },
): MiddlewareHandler {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH
  const then = options.then
  return async function jsonDepthGuard(c, next) {
    if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') {
      return then ? then(c, next) : next()
    }
    const text = await c.req.text()
    if (text.length > maxDepth && jsonDepth(text, maxDepth) > maxDepth) {
      return options.fail(c, {
        kind: 'invalid_request',
        message: `Request body is nested deeper than ${maxDepth} levels of arrays and objects`,
        param: 'body',
      })
    }
    return then ? then(c, next) : next()
  }
}
