import type { z } from '@hono/zod-openapi'
import { jsonContent as json } from './openapi.ts'

/** The error responses every inference route can give, in one format. */
export function errorResponses<S extends z.ZodType>(schema: S) {
  return {
    400: { description: 'Malformed JSON or a field of the wrong type', content: json(schema) },
    401: { description: 'Missing or wrong API key', content: json(schema) },
    404: { description: 'Unknown provider or preset', content: json(schema) },
    413: { description: 'Body larger than the limit', content: json(schema) },
    429: { description: 'Rate limited (upstream or local budget)', content: json(schema) },
    500: { description: 'Upstream error, passed through with its status', content: json(schema) },
    503: { description: 'No target available (breakers open)', content: json(schema) },
    529: { description: 'Too many concurrent streams', content: json(schema) },
  } as const
}
