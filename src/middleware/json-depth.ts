/**
 * Refuses request bodies nested deeper than a bound before anything parses or walks them: 100k
 * nested arrays used to stall the server for seconds and end in a 500 (`RangeError` from a
 * recursive walk). The scan is one pass over the text, linear in its length.
 */
import type { MiddlewareHandler } from 'hono'
import type { ProxyError } from '../errors.ts'

/** Deepest array/object nesting a request body may have (real tool schemas stay well under 32). */
export const MAX_JSON_DEPTH = 128

/** The deepest nesting of arrays and objects in JSON text, stopping early once past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max && (max = depth) > limit) return max
    } else if (c === 93 || c === 125) depth--
  }
  return max
}

/** Middleware: a body nested deeper than `maxDepth` gets a 400 naming the limit, in the client's format. */
export function jsonDepthGuard(options: { maxDepth?: number; fail: (c: Parameters<MiddlewareHandler>[0], e: ProxyError) => Response }): MiddlewareHandler {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH
  return async function jsonDepthGuard(c, next) {
    if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next()
    const text = await c.req.text()
    if (text.length > maxDepth && jsonDepth(text, maxDepth) > maxDepth) {
      return options.fail(c, { kind: 'invalid_request', message: `Request body is nested deeper than ${maxDepth} levels of arrays and objects`, param: 'body' })
    }
    return next()
  }
}
