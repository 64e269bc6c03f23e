/**
 * The analysis layer's routes: alerts (firing and history), trends per target, the
 * cost–performance frontier with suggestions, and routing experiments. Typed JSON, read-only:
 * nothing here changes the config or the routing.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Insights } from '../insights/service.ts'
import { TREND_WINDOWS } from '../insights/views.ts'
import { getRoute, jsonResponse, limitQuery } from './openapi.ts'

const Evidence = z.record(z.string(), z.union([z.number(), z.string()]))
const AlertSchema = z.object({
  id: z.string(),
  rule: z.string(),
  subject: z.string(),
  severity: z.enum(['warning', 'critical']),
  state: z.enum(['firing', 'resolved']),
  firedAt: z.number(),
  resolvedAt: z.number().optional(),
  message: z.string(),
  evidence: Evidence,
  resolution: Evidence.optional(),
}).openapi('Alert')
const AlertsSchema = z.object({ firing: z.array(AlertSchema), history: z.array(AlertSchema) }).openapi('Alerts', {
  example: {
    firing: [{
      id: 'latency_degraded:deepseek,deepseek-chat:1767225600000',
      rule: 'latency_degraded',
      subject: 'deepseek,deepseek-chat',
      severity: 'warning',
      state: 'firing',
      firedAt: 1767225600000,
      message: 'latency of deepseek,deepseek-chat is 3.1× its baseline (2480 ms vs 800 ms)',
      evidence: { metric: 'latency_ms', value_ms: 2480, baseline_ms: 800, ratio: 3.1, fire_ratio: 2 },
    }],
    history: [],
  },
})

const ChangePointSchema = z.object({ t: z.number(), direction: z.enum(['up', 'down']), ratio: z.number() })
const MetricTrendSchema = z.object({ slope_per_hour: z.number().optional(), change_points: z.array(ChangePointSchema) })
const TrendPointSchema = z.object({
  t: z.number(),
  requests: z.number(),
  latency_ms: z.number().optional(),
  ttft_ms: z.number().optional(),
  tokens_per_sec: z.number().optional(),
  success_rate: z.number().optional(),
  cost_per_1k_tokens: z.number().optional(),
}).openapi('TrendPoint')
const HourSchema = z.object({ hour: z.number().int(), label: z.string(), latency_ms: z.number(), requests: z.number() })
const TargetTrendSchema = z.object({
  target: z.string(),
  window: z.enum(['1h', '24h', '7d']),
  step_ms: z.number(),
  live: z.array(TrendPointSchema),
  active: z.array(TrendPointSchema),
  trends: z.object({
    latency_ms: MetricTrendSchema,
    ttft_ms: MetricTrendSchema,
    tokens_per_sec: MetricTrendSchema,
    success_rate: MetricTrendSchema,
    cost_per_1k_tokens: MetricTrendSchema,
  }),
  baseline_ratio: z.object({ latency: z.number().optional(), ttft: z.number().optional() }),
  hour_of_week: z.array(HourSchema),
  slow_hours: z.array(HourSchema),
}).openapi('TargetTrend')
const TrendsSchema = z.object({ window: z.enum(['1h', '24h', '7d']), targets: z.array(TargetTrendSchema) }).openapi(
  'Trends',
)

const CandidateSchema = z.object({
  target: z.string(),
  latencyMs: z.number(),
  tokensPerSec: z.number().optional(),
  successRate: z.number(),
  costPer1k: z.number().optional(),
  requests: z.number(),
  pareto: z.boolean(),
})
const SuggestionSchema = z.object({
  scenario: z.string(),
  current: z.string(),
  suggested: z.string(),
  speedup: z.number(),
  costRatio: z.number().optional(),
  successDelta: z.number(),
  text: z.string(),
})
const RecommendationsSchema = z.object({
  scenarios: z.array(
    z.object({
      scenario: z.string(),
      current: z.string().optional(),
      window: z.string(),
      candidates: z.array(CandidateSchema),
      suggestion: SuggestionSchema.optional(),
    }),
  ),
  note: z.string(),
}).openapi('Recommendations')

const IntervalSchema = z.object({ mean: z.number(), low: z.number(), high: z.number(), n: z.number() })
const ExperimentsSchema = z.object({
  experiments: z.array(z.object({
    id: z.string(),
    scenario: z.string(),
    enabled: z.boolean(),
    auto_stop: z.boolean(),
    min_samples: z.number(),
    arms: z.array(z.object({
      name: z.string(),
      target: z.string().optional(),
      optimization: z.string().optional(),
      percent: z.number(),
      state: z.enum(['running', 'stopped']),
      stopped_reason: z.string().optional(),
      stopped_at: z.number().optional(),
      requests: z.number(),
      errors: z.number(),
      error_rate: IntervalSchema.optional(),
      latency_ms: IntervalSchema.optional(),
      tokens: z.number(),
      cost_usd: z.number(),
      tokens_per_request: IntervalSchema.optional(),
      cost_per_request_usd: IntervalSchema.optional(),
    })),
  })),
}).openapi('Experiments')

const alertsRoute = createRoute({
  method: 'get',
  path: '/v1/alerts',
  tags: ['Observability'],
  summary: 'Alerts firing now and the alert history (newest first)',
  request: { query: z.object({ limit: limitQuery }) },
  responses: { 200: jsonResponse(AlertsSchema, 'Firing alerts and history') },
})
const trendsRoute = createRoute({
  method: 'get',
  path: '/v1/trends',
  tags: ['Observability'],
  summary: 'Per target time series, slopes, change points and hour-of-week profile',
  request: {
    query: z.object({
      target: z.string().optional().openapi({
        description: '`provider,model`; default every target with live traffic',
        example: 'deepseek,deepseek-chat',
      }),
      window: z.enum(Object.keys(TREND_WINDOWS) as ['1h', '24h', '7d']).default('24h').openapi({ example: '24h' }),
    }),
  },
  responses: { 200: jsonResponse(TrendsSchema, 'Trends') },
})

export function registerInsights(app: OpenAPIHono, insights: Insights): void {
  app.openapi(alertsRoute, (c) => c.json(insights.alertsView(c.req.valid('query').limit), 200))
  app.openapi(trendsRoute, (c) => {
    const { target, window } = c.req.valid('query')
    return c.json({ window, targets: insights.trends({ window, ...(target ? { target } : {}) }) }, 200)
  })
  app.openapi(
    getRoute(
      '/v1/recommendations',
      'Per scenario: the cost–performance frontier of the targets that served it, and suggestions (never applied)',
      RecommendationsSchema,
      'Observability',
    ),
    (c) =>
      c.json({
        scenarios: insights.recommendations(),
        note: 'Suggestions only: Switchyard never changes its config by itself.',
      }, 200),
  )
  app.openapi(
    getRoute(
      '/v1/experiments',
      'Routing experiments: per arm requests, error rate and latency with 95 % intervals, tokens, cost, state',
      ExperimentsSchema,
      'Observability',
    ),
    (c) => c.json({ experiments: insights.experiments?.report() ?? [] }, 200),
  )
}
