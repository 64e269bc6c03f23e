/**
 * The performance management API: metrics, on-demand test jobs, history, export/import,
 * engine health and Prometheus text. The lead mounts it behind APIKEY auth and the
 * management rate limit, so no auth here. Errors are Anthropic-style JSON bodies.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { anthropicErrorTypeOf } from '../errors.ts'
import type { PerformanceConfig } from '../config/types.ts'
import {
  HealthSchema,
  JobSchema,
  MetricsSchema,
  RunSchema,
  TestTypeSchema,
  toWireHealth,
  toWireJob,
  toWireMetrics,
  toWireRun,
} from '../perf/api.ts'
import type { PerfEngine } from '../perf/engine.ts'
import { renderPerformanceMetrics } from '../perf/prometheus.ts'
import { performanceScore } from '../perf/score.ts'
import type { PassiveSample, PerformanceScore } from '../perf/score.ts'
import type { TestType } from '../perf/types.ts'
import { PerformanceExportSchema } from '../store/performance.ts'
import type { PerformanceStore } from '../store/performance.ts'
import { AnthropicErrorBodySchema } from '../formats/index.ts'
import { jsonResponse, limitQuery } from './openapi.ts'

export interface PerformanceRouteDeps {
  readonly engine: PerfEngine
  readonly store: PerformanceStore
  readonly config: PerformanceConfig
  readonly now: () => number
  /** Live-traffic stats per target, blended into the score (the routing table's snapshot). */
  readonly passive?: (target: string) => PassiveSample | undefined
}

const errorBody = (status: number, message: string) => ({
  type: 'error' as const,
  error: { type: anthropicErrorTypeOf(status), message },
})

const ModelParam = z.object({
  model: z.string().min(1).openapi({
    param: { name: 'model', in: 'path' },
    description: 'URL-encoded "provider,model"',
    example: 'deepseek%2Cdeepseek-chat',
  }),
})
const IdParam = z.object({
  id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' }, example: 'perf_mbx1_1' }),
})
const TestRequest = z.object({
  models: z.array(z.string().min(1)).optional().openapi({
    description: 'Targets to test; default: performance.models or every configured target',
    example: ['deepseek,deepseek-chat'],
  }),
  types: z.array(TestTypeSchema).optional().openapi({
    description: 'Test types; default: all',
    example: ['latency', 'throughput'],
  }),
}).openapi('PerformanceTestRequest')
const HistoryQuery = z.object({
  since: z.string().optional().openapi({
    description: 'ISO time or epoch ms; runs at or after it',
    example: '2026-06-01T00:00:00Z',
  }),
  limit: limitQuery,
})

const routes = {
  metrics: createRoute({
    method: 'get',
    path: '/performance/metrics',
    tags: ['Performance'],
    summary: 'Per-target performance aggregates and scores',
    responses: {
      200: jsonResponse(
        z.object({ data: z.array(MetricsSchema) }).openapi('PerformanceMetricsList'),
        'Every tested target',
      ),
    },
  }),
  startTest: createRoute({
    method: 'post',
    path: '/performance/test',
    tags: ['Performance'],
    summary: 'Start a performance test job',
    request: { body: { required: false, content: { 'application/json': { schema: TestRequest } } } },
    responses: {
      202: jsonResponse(JobSchema, 'Job started; poll GET /performance/test/{id}'),
      400: jsonResponse(AnthropicErrorBodySchema, 'Unknown model or test type'),
    },
  }),
  job: createRoute({
    method: 'get',
    path: '/performance/test/{id}',
    tags: ['Performance'],
    summary: 'A test job status and results',
    request: { params: IdParam },
    responses: { 200: jsonResponse(JobSchema, 'The job'), 404: jsonResponse(AnthropicErrorBodySchema, 'Unknown job') },
  }),
  history: createRoute({
    method: 'get',
    path: '/performance/history/{model}',
    tags: ['Performance'],
    summary: 'Test run history of one target, newest first',
    request: { params: ModelParam, query: HistoryQuery },
    responses: {
      200: jsonResponse(
        z.object({ target: z.string(), runs: z.array(RunSchema) }).openapi('PerformanceHistory'),
        'Runs',
      ),
      400: jsonResponse(AnthropicErrorBodySchema, 'Bad since'),
    },
  }),
  clear: createRoute({
    method: 'delete',
    path: '/performance/metrics/{model}',
    tags: ['Performance'],
    summary: 'Forget a target performance data and history',
    request: { params: ModelParam },
    responses: {
      200: jsonResponse(
        z.object({ target: z.string(), deleted_runs: z.number().int() }).openapi('PerformanceCleared', {
          example: { target: 'deepseek,deepseek-chat', deleted_runs: 36 },
        }),
        'Cleared',
      ),
      404: jsonResponse(AnthropicErrorBodySchema, 'No data for that target'),
    },
  }),
  health: createRoute({
    method: 'get',
    path: '/health/performance',
    tags: ['Performance'],
    summary: 'Engine state, last and next run, budget left',
    responses: { 200: jsonResponse(HealthSchema, 'Engine health') },
  }),
  prometheus: createRoute({
    method: 'get',
    path: '/metrics/performance',
    tags: ['Performance'],
    summary: 'Performance metrics in Prometheus text format',
    responses: {
      200: {
        description: 'Exposition format 0.0.4',
        content: {
          'text/plain': {
            schema: z.string().openapi({
              example:
                'switchyard_perf_ttft_ms{target="deepseek,deepseek-chat",provider="deepseek",model="deepseek-chat"} 402.7',
            }),
          },
        },
      },
    },
  }),
  exportData: createRoute({
    method: 'get',
    path: '/performance/export',
    tags: ['Performance'],
    summary: 'Back up the performance history as JSON',
    responses: { 200: jsonResponse(PerformanceExportSchema, 'Every run still in history') },
  }),
  importData: createRoute({
    method: 'post',
    path: '/performance/import',
    tags: ['Performance'],
    summary: 'Restore a backup from GET /performance/export',
    request: {
      query: z.object({ mode: z.enum(['replace', 'merge']).default('replace').openapi({ example: 'replace' }) }),
      body: { required: true, content: { 'application/json': { schema: PerformanceExportSchema } } },
    },
    responses: {
      200: jsonResponse(
        z.object({ imported_runs: z.number().int(), mode: z.string() }).openapi('PerformanceImported', {
          example: { imported_runs: 1200, mode: 'replace' },
        }),
        'Restored',
      ),
      400: jsonResponse(AnthropicErrorBodySchema, 'Not a performance backup'),
    },
  }),
}

/** Parse `since` as epoch ms or an ISO time; undefined means not given, NaN means invalid. */
function parseSince(since: string | undefined): number | undefined {
  if (since === undefined || since === '') return undefined
  return /^\d+(\.\d+)?$/.test(since) ? Number(since) : Date.parse(since)
}

/** Score each target from its active aggregate and, when wired, live-traffic stats. */
function scoreOf(
  deps: PerformanceRouteDeps,
  m: ReturnType<PerformanceStore['metrics']>[number],
): PerformanceScore | undefined {
  const passive = deps.passive?.(m.target)
  return performanceScore({ active: m, ...(passive ? { passive } : {}) }, deps.now(), {
    weights: deps.config.weights,
    thresholds: deps.config.thresholds,
    minTestCount: deps.config.minTestCount,
  })
}

/** Register the performance routes on an existing app. */
export function registerPerformance(app: OpenAPIHono, deps: PerformanceRouteDeps): void {
  const { engine, store } = deps
  app.openapi(
    routes.metrics,
    (c) => c.json({ data: store.metrics().map((m) => toWireMetrics(m, scoreOf(deps, m))) }, 200),
  )
  app.openapi(routes.startTest, async (c) => {
    const body = c.req.valid('json') ?? {}
    const issues = engine.validate(body)
    if (issues.length > 0) return c.json(errorBody(400, `Cannot start performance test: ${issues.join('; ')}`), 400)
    const id = engine.startJob({
      ...(body.models ? { models: body.models } : {}),
      ...(body.types ? { types: body.types as TestType[] } : {}),
    })
    c.header('Location', `/performance/test/${id}`)
    return c.json(toWireJob(engine.job(id)!), 202)
  })
  app.openapi(routes.job, (c) => {
    const job = engine.job(c.req.valid('param').id)
    return job ? c.json(toWireJob(job), 200) : c.json(
      errorBody(404, `No performance job "${c.req.valid('param').id}" (finished jobs are kept for a while only)`),
      404,
    )
  })
  app.openapi(routes.history, (c) => {
    const { model } = c.req.valid('param')
    const { since, limit } = c.req.valid('query')
    const from = parseSince(since)
    if (from !== undefined && Number.isNaN(from)) {
      return c.json(errorBody(400, `Cannot read since "${since}": expected an ISO time or epoch milliseconds`), 400)
    }
    return c.json({
      target: model,
      runs: store.history(model, { ...(from !== undefined ? { since: from } : {}), limit }).map(toWireRun),
    }, 200)
  })
  app.openapi(routes.clear, (c) => {
    const { model } = c.req.valid('param')
    const deleted = store.clear(model)
    return deleted > 0
      ? c.json({ target: model, deleted_runs: deleted }, 200)
      : c.json(errorBody(404, `No performance data for "${model}"`), 404)
  })
  app.openapi(routes.health, (c) => c.json(toWireHealth(engine.health()), 200))
  app.openapi(routes.prometheus, (c) => {
    const metrics = store.metrics()
    const scores = Object.fromEntries(metrics.flatMap((m) => {
      const s = scoreOf(deps, m)
      return s ? [[m.target, s.performance_score]] : []
    }))
    return c.text(renderPerformanceMetrics(metrics, engine.health(), scores), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    })
  })
  app.openapi(routes.exportData, (c) => c.json(store.exportJson(), 200))
  app.openapi(routes.importData, (c) => {
    const { mode } = c.req.valid('query')
    const res = store.importJson(c.req.valid('json'), mode)
    return res.ok ? c.json({ imported_runs: res.value.runs, mode }, 200) : c.json(errorBody(400, res.error), 400)
  })
}

/** Render a failed validation as an Anthropic-style 400, like every management route. */
function invalid(
  result: { success: boolean; error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } },
  c: Context,
) {
  if (result.success) return undefined
  const msg = (result.error?.issues ?? []).map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join(
    '; ',
  )
  return c.json(errorBody(400, `Invalid request: ${msg}`), 400)
}

/** A standalone app with the performance routes, for the lead to mount behind auth. */
export function performanceRoutes(deps: PerformanceRouteDeps): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: invalid })
  registerPerformance(app, deps)
  return app
}
