/** Small builders for route declarations, so every route states its JSON bodies the same way. */
import { createRoute, z } from '@hono/zod-openapi'

/** `content` for a JSON body of `schema`. */
export const jsonContent = <S extends z.ZodType>(schema: S) => ({ 'application/json': { schema } })

/** A documented JSON response. */
export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: jsonContent(schema),
})

/** A GET route with one JSON answer, described by its summary. */
export const getRoute = <S extends z.ZodType>(path: string, summary: string, schema: S, tag: string) =>
  createRoute({ method: 'get', path, tags: [tag], summary, responses: { 200: jsonResponse(schema, summary) } })

/** The `limit` query parameter of the list routes: 1–1000 rows, 100 by default. */
export const limitQuery = z.coerce.number().int().min(1).max(1000).default(100).openapi({ example: 100 })
