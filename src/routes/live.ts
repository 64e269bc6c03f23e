/**
 * The live numbers the dashboard (and any client) polls: the last finished requests (no prompt
 * text, no keys), the request timeline over 15 minutes and 24 hours, usage per day, and what is
 * left of each provider's rate budget. Typed JSON, every route in the OpenAPI document.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { LiveRecorder } from '../live/recent.ts'
import type { ProviderBudget } from '../resilience/limiter.ts'
import { getRoute, jsonResponse, limitQuery } from './openapi.ts'

export interface LiveDeps {
  readonly live: LiveRecorder
  readonly now: () => number
  readonly providers: readonly string[]
  readonly budget: (provider: string, now: number) => ProviderBudget | undefined
}

const n = z.number()
const nn = z.number().nullable()
const RecentSchema = z.object({
  id: z.string(),
  at: n.openapi({ description: 'Finished at (epoch ms)' }),
  format: z.string(),
  scenario: z.string(),
  target: z.string().nullable(),
  tier: z.string().nullable(),
  attempts: n,
  fallbacks: n,
  continued: z.number().int().nullable().openapi({
    description: 'How often a broken stream was continued on another try (null: never)',
  }),
  cache: z.enum(['hit', 'miss']).nullable().openapi({ description: 'Response cache outcome, when the cache applied' }),
  status: n,
  stream: z.boolean(),
  ttfb_ms: nn,
  duration_ms: nn,
  est_input_tokens: n,
  input_tokens: nn,
  output_tokens: nn,
  cost_usd: nn,
  failure: z.string().nullable(),
  session: z.string().nullable().openapi({
    description: "The agent session the request belongs to (Claude Code's metadata.user_id, a Codex session-id header)",
  }),
}).openapi('RecentRequest')
const RecentListSchema = z.object({ size: z.number().int(), requests: z.array(RecentSchema) }).openapi(
  'RecentRequests',
  {
    example: {
      size: 500,
      requests: [{
        id: 'req_01',
        at: 1780000000000,
        format: 'anthropic',
        scenario: 'default',
        target: 'deepseek,deepseek-chat',
        tier: 'tier-0',
        attempts: 1,
        fallbacks: 0,
        continued: null,
        cache: null,
        status: 200,
        stream: true,
        ttfb_ms: 240.5,
        duration_ms: 1830.2,
        est_input_tokens: 1200,
        input_tokens: 1187,
        output_tokens: 312,
        cost_usd: 0.00081,
        failure: null,
        session: '7d3b1c52-0f5e-4a8e-9c1d-2b6f4e8a9c10',
      }],
    },
  },
)
const TimelineSchema = z.object({
  window: z.enum(['15m', '24h']),
  now: n,
  step_s: n,
  t: z.array(n),
  requests_per_s: z.array(n),
  error_rate: z.array(nn),
  ttft_p50_ms: z.array(nn),
  ttft_p95_ms: z.array(nn),
  active_streams: z.array(n),
  cost_usd: z.array(n),
  tokens: z.array(n),
}).openapi('Timeline')
const DailySchema = z.object({
  days: z.array(z.object({
    day: z.string().openapi({ description: 'UTC day', example: '2026-06-01' }),
    tier: z.string(),
    target: z.string(),
    requests: n,
    errors: n,
    inputTokens: n,
    outputTokens: n,
    costUsd: n,
  })),
}).openapi('DailyUsage')
const Limit = z.object({ limit: n, left: n })
const BudgetSchema = z.object({
  providers: z.record(
    z.string(),
    z.object({ rpm: Limit.optional(), tpm: Limit.optional(), concurrency: Limit.optional() }),
  ),
})
  .openapi('RateBudgets', { example: { providers: { deepseek: { rpm: { limit: 500, left: 431 } } } } })

const requestsRoute = createRoute({
  method: 'get',
  path: '/v1/requests',
  tags: ['Observability'],
  summary:
    'The last finished requests, newest first (ids, routes, timings, tokens and cost; never prompt text or keys)',
  request: { query: z.object({ limit: limitQuery }) },
  responses: { 200: jsonResponse(RecentListSchema, 'Recent requests') },
})
const timelineRoute = createRoute({
  method: 'get',
  path: '/v1/timeline',
  tags: ['Observability'],
  summary:
    'Requests/s, error rate, TTFT p50/p95, active streams, cost and tokens per slot: 10 s slots over 15 min or 5 min slots over 24 h',
  request: { query: z.object({ window: z.enum(['15m', '24h']).default('15m').openapi({ example: '15m' }) }) },
  responses: { 200: jsonResponse(TimelineSchema, 'The timeline (since the instance started)') },
})

export function registerLive(app: OpenAPIHono, deps: LiveDeps): void {
  const { live, now } = deps
  app.openapi(requestsRoute, (c) => {
    const { limit } = c.req.valid('query')
    return c.json({ size: live.requests.size, requests: live.requests.list(limit) }, 200)
  })
  app.openapi(timelineRoute, (c) => {
    const { window } = c.req.valid('query')
    const t = now()
    return c.json({ window, now: t, ...live.timeline.window(window, t) }, 200)
  })
  app.openapi(
    getRoute(
      '/v1/usage/daily',
      'Requests, errors, tokens and cost per UTC day, tier and target (the last 31 days, persisted)',
      DailySchema,
      'Observability',
    ),
    (c) => c.json({ days: live.timeline.days() }, 200),
  )
  app.openapi(
    getRoute(
      '/v1/rate-budgets',
      "What is left of each provider's rpm / tpm / maxConcurrent budget now (providers with limits only; none in fleet mode, where budgets are shared in Redis)",
      BudgetSchema,
      'Observability',
    ),
    (c) => {
      const t = now()
      const providers: Record<string, ProviderBudget> = {}
      for (const p of deps.providers) {
        const b = deps.budget(p, t)
        if (b) providers[p] = b
      }
      return c.json({ providers }, 200)
    },
  )
}
