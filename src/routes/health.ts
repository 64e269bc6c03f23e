import { type OpenAPIHono, z } from '@hono/zod-openapi'
import { getRoute } from './openapi.ts'

const HealthSchema = z
  .object({ status: z.literal('ok'), version: z.string(), uptime_s: z.number(), active_streams: z.number().int() })
  .openapi('Health', { example: { status: 'ok', version: '0.1.0', uptime_s: 12.5, active_streams: 3 } })

const route = getRoute('/health', 'Liveness (public, no API key)', HealthSchema, 'Operations')

export function registerHealth(app: OpenAPIHono, info: { version: string; startedAt: number; now: () => number; activeStreams: () => number }): void {
  app.openapi(route, (c) => c.json({ status: 'ok' as const, version: info.version, uptime_s: (info.now() - info.startedAt) / 1000, active_streams: info.activeStreams() }, 200))
}
