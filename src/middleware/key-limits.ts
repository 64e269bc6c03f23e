/**
 * Per-key limits at the edge: a named key over its daily budget or its rpm gets a 429 in the
 * client's own format, with `retry-after` and the reset time in the message. Keys that are not
 * named (APIKEY, or no auth) are not limited here. In fleet mode the limits are the fleet's
 * (one Redis round trip, only for a key with a budget or an rpm).
 */
import type { MiddlewareHandler } from 'hono'
import type { KeyLedger } from '../keys/ledger.ts'
import { apiKeyNameOf } from './auth.ts'
import { edgeError } from './edge-error.ts'

/** Token counting (Gemini `:countTokens`) is free: it spends neither budget nor rpm. */
const COUNTING = /:countTokens$/

export function keyLimits(keys: KeyLedger, now: () => number): MiddlewareHandler {
  return async function keyLimits(c, next) {
    const name = apiKeyNameOf(c)
    const refused = name === undefined || c.req.method !== 'POST' || COUNTING.test(c.req.path)
      ? undefined
      : await keys.check(name, now())
    if (!refused) return next()
    const res = edgeError(c, {
      kind: 'rate_limited',
      retryAfterMs: refused.retryAfterMs,
      message: refused.message,
    })
    // A spent budget clears at midnight UTC: SDKs that retry 429s should not.
    if (refused.reason === 'budget') res.headers.set('x-should-retry', 'false')
    return res
  }
}
