import { type OpenAPIHono, z } from '@hono/zod-openapi'
import { getRoute } from './openapi.ts'

const FleetSchema = z
  .object({
    instance_id: z.string(),
    state: z.enum(['connecting', 'ok', 'degraded']).openapi({
      description: '`degraded`: Redis is unreachable and this instance serves on its local state',
    }),
    redis: z.string().openapi({ description: 'The Redis URL, password redacted' }),
    redis_latency_ms: z.number().nullable(),
    perf_leader: z.boolean().openapi({ description: "This instance runs the fleet's scheduled performance tests" }),
    members: z.array(
      z.object({
        id: z.string(),
        ttl_ms: z.number(),
        self: z.boolean(),
        version: z.string().optional(),
        host: z.string().optional(),
      }),
    ),
  })
  .openapi('FleetHealth')

const HealthSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    uptime_s: z.number(),
    active_streams: z.number().int(),
    fleet: FleetSchema.optional(),
  })
  .openapi('Health', { example: { status: 'ok', version: '0.1.0', uptime_s: 12.5, active_streams: 3 } })

const route = getRoute('/health', 'Liveness (public, no API key)', HealthSchema, 'Operations')

export type FleetHealthBody = z.infer<typeof FleetSchema>

export function registerHealth(
  app: OpenAPIHono,
  info: {
    version: string
    startedAt: number
    now: () => number
    activeStreams: () => number
    fleet?: () => FleetHealthBody
  },
): void {
  app.openapi(route, (c) =>
    c.json({
      status: 'ok' as const,
      version: info.version,
      uptime_s: (info.now() - info.startedAt) / 1000,
      active_streams: info.activeStreams(),
      ...(info.fleet ? { fleet: info.fleet() } : {}),
    }, 200))
}
