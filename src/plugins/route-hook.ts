/**
 * Runs the custom router at the edge, before the pipeline: the router is async user code and
 * route.ts is a plain function, so the pick is made here and left in a table keyed by the
 * request's Headers object, where route.ts finds it (`deps.customRoutes`). Entries go away
 * with their request (WeakMap).
 */
import type { MiddlewareHandler } from 'hono'
import type { CustomRoute, CustomRoutes, TokenService } from '../deps.ts'
import { clientFormatOf } from '../middleware/client-format.ts'
import { sessionIdOf } from '../routing/scenario.ts'
import type { CustomRouter } from './custom-router.ts'
import { isObject } from '../formats/translate/json.ts'

/** Picks by request, written by the middleware below and read once by route.ts. */
export class CustomRouteTable implements CustomRoutes {
  readonly #picks = new WeakMap<Headers, CustomRoute>()

  set(headers: Headers, pick: CustomRoute): void {
    this.#picks.set(headers, pick)
  }

  get(headers: Headers): CustomRoute | undefined {
    return this.#picks.get(headers)
  }
}

const PRESET = /^\/preset\/([^/]+)\//

/**
 * Middleware for the inference routes. Register it last before the handlers: earlier
 * middleware (dedup, body limit) may replace `c.req.raw`, and the pick is keyed by the
 * headers of the request the handler will see.
 */
export function customRouting(options: { router: CustomRouter; table: CustomRouteTable; tokens: TokenService }): MiddlewareHandler {
  const { router, table, tokens } = options
  return async function customRouting(c, next) {
    if (c.req.method !== 'POST' || c.req.path.endsWith('/count_tokens')) return next()
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return next() // malformed JSON: the route's validator answers it in the client's format
    }
    if (!isObject(body)) return next()
    const format = clientFormatOf(c.req.path)
    const preset = PRESET.exec(c.req.path)?.[1]
    const pick = await router.route({
      body, format, tokenCount: tokens.estimate(body, format), sessionId: sessionIdOf(body), headers: c.req.raw.headers,
      ...(preset === undefined ? {} : { preset: decodeURIComponent(preset) }),
    })
    if (pick) table.set(c.req.raw.headers, pick)
    return next()
  }
}
