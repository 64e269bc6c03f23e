/**
 * The wire shapes of the performance API (snake_case JSON, ISO timestamps) with their zod
 * schemas and examples for the OpenAPI document, and the converters from internal records.
 */
import { z } from '@hono/zod-openapi'
import type { TargetMetrics } from './aggregate.ts'
import type { EngineHealth, JobView } from './engine.ts'
import type { PerformanceScore } from './score.ts'
import { TEST_TYPES } from './types.ts'
import type { Distribution, RunRecord, TestResult } from './types.ts'

const iso = (ms: number): string => new Date(ms).toISOString()
const T = '2026-06-01T12:00:00.000Z'

export const TestTypeSchema = z.enum(TEST_TYPES as unknown as [string, ...string[]]).openapi({ example: 'latency' })

export const MetricsSchema = z.object({
  target: z.string(),
  provider: z.string(),
  model: z.string(),
  avg_latency_ms: z.number().nullable(),
  p95_latency_ms: z.number().nullable(),
  p99_latency_ms: z.number().nullable(),
  avg_ttft_ms: z.number().nullable(),
  p95_ttft_ms: z.number().nullable(),
  tokens_per_sec: z.number().nullable(),
  success_rate: z.number(),
  error_rate: z.number(),
  last_tested: z.string(),
  test_count: z.number().int(),
  performance_score: z.number().nullable(),
  demoted: z.boolean(),
  demoted_reasons: z.array(z.string()),
}).openapi('PerformanceMetrics', {
  example: {
    target: 'deepseek,deepseek-chat',
    provider: 'deepseek',
    model: 'deepseek-chat',
    avg_latency_ms: 812.4,
    p95_latency_ms: 1210,
    p99_latency_ms: 1388,
    avg_ttft_ms: 402.7,
    p95_ttft_ms: 610,
    tokens_per_sec: 41.3,
    success_rate: 1,
    error_rate: 0,
    last_tested: T,
    test_count: 36,
    performance_score: 0.61,
    demoted: false,
    demoted_reasons: [],
  },
})

export const DistributionSchema = z.object({
  count: z.number().int(),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
}).openapi('Distribution', { example: { count: 3, mean: 412.3, min: 388, max: 451, p50: 398, p95: 451, p99: 451 } })

export const RunSchema = z.object({
  target: z.string(),
  type: TestTypeSchema,
  at: z.string(),
  ok: z.boolean(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  ttft_ms: z.number().nullable(),
  total_ms: z.number(),
  output_tokens: z.number(),
  input_tokens: z.number().nullable(),
  tokens_per_sec: z.number().nullable(),
}).openapi('PerformanceRun', {
  example: {
    target: 'deepseek,deepseek-chat',
    type: 'latency',
    at: T,
    ok: true,
    status: 200,
    error: null,
    ttft_ms: 388,
    total_ms: 790,
    output_tokens: 18,
    input_tokens: 41,
    tokens_per_sec: 42.3,
  },
})

export const TestResultSchema = z.object({
  target: z.string(),
  type: TestTypeSchema,
  started_at: z.string(),
  finished_at: z.string(),
  runs: z.number().int(),
  success_rate: z.number(),
  latency_ms: DistributionSchema.nullable(),
  ttft_ms: DistributionSchema.nullable(),
  tokens_per_sec: DistributionSchema.nullable(),
  stopped_reason: z.string().nullable(),
}).openapi('PerformanceTestResult', {
  example: {
    target: 'deepseek,deepseek-chat',
    type: 'latency',
    started_at: T,
    finished_at: '2026-06-01T12:00:02.400Z',
    runs: 3,
    success_rate: 1,
    latency_ms: { count: 3, mean: 790, min: 760, max: 830, p50: 781, p95: 830, p99: 830 },
    ttft_ms: { count: 3, mean: 402.7, min: 388, max: 421, p50: 399, p95: 421, p99: 421 },
    tokens_per_sec: null,
    stopped_reason: null,
  },
})

export const JobSchema = z.object({
  id: z.string(),
  status: z.enum(['running', 'done', 'stopped']),
  trigger: z.enum(['manual', 'schedule']),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  models: z.array(z.string()),
  types: z.array(TestTypeSchema),
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  results: z.array(TestResultSchema),
}).openapi('PerformanceJob', {
  example: {
    id: 'perf_mbx1_1',
    status: 'running',
    trigger: 'manual',
    created_at: T,
    finished_at: null,
    models: ['deepseek,deepseek-chat'],
    types: ['latency', 'throughput'],
    progress: { done: 1, total: 2 },
    results: [],
  },
})

export const HealthSchema = z.object({
  state: z.enum(['disabled', 'idle', 'running', 'stopped']),
  enabled: z.boolean(),
  last_run: z.string().nullable(),
  last_job_id: z.string().nullable(),
  next_run: z.string().nullable(),
  running_jobs: z.number().int(),
  in_flight_requests: z.number().int(),
  budget: z.object({
    day: z.string(),
    limit: z.number(),
    used: z.number(),
    reserved: z.number(),
    remaining: z.number(),
  }),
}).openapi('PerformanceHealth', {
  example: {
    state: 'idle',
    enabled: true,
    last_run: T,
    last_job_id: 'perf_mbx1_1',
    next_run: '2026-06-01T13:00:00.000Z',
    running_jobs: 0,
    in_flight_requests: 0,
    budget: { day: '2026-06-01', limit: 200000, used: 5120, reserved: 0, remaining: 194880 },
  },
})

const dist = (d: Distribution | undefined): z.infer<typeof DistributionSchema> | null => (d ? { ...d } : null)

/** A target's aggregate plus its score, as served. */
export function toWireMetrics(m: TargetMetrics, score?: PerformanceScore): z.infer<typeof MetricsSchema> {
  return {
    target: m.target,
    provider: m.provider,
    model: m.model,
    avg_latency_ms: m.avgLatencyMs ?? null,
    p95_latency_ms: m.p95LatencyMs ?? null,
    p99_latency_ms: m.p99LatencyMs ?? null,
    avg_ttft_ms: m.avgTtftMs ?? null,
    p95_ttft_ms: m.p95TtftMs ?? null,
    tokens_per_sec: m.tokensPerSec ?? null,
    success_rate: m.successRate,
    error_rate: m.errorRate,
    last_tested: iso(m.lastTested),
    test_count: m.testCount,
    performance_score: score?.performance_score ?? null,
    demoted: score?.demoted ?? false,
    demoted_reasons: [...(score?.reasons ?? [])],
  }
}

/** One history entry, as served. */
export function toWireRun(r: RunRecord): z.infer<typeof RunSchema> {
  return {
    target: r.target,
    type: r.type,
    at: iso(r.at),
    ok: r.ok,
    status: r.status ?? null,
    error: r.error ?? null,
    ttft_ms: r.ttftMs ?? null,
    total_ms: r.totalMs,
    output_tokens: r.outputTokens,
    input_tokens: r.inputTokens ?? null,
    tokens_per_sec: r.tokensPerSec ?? null,
  }
}

function toWireResult(r: TestResult): z.infer<typeof TestResultSchema> {
  return {
    target: r.target,
    type: r.type,
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    runs: r.runs.length,
    success_rate: r.successRate,
    latency_ms: dist(r.latencyMs),
    ttft_ms: dist(r.ttftMs),
    tokens_per_sec: dist(r.tokensPerSec),
    stopped_reason: r.stoppedReason ?? null,
  }
}

/** A job's status and results, as served. */
export function toWireJob(j: JobView): z.infer<typeof JobSchema> {
  return {
    id: j.id,
    status: j.status,
    trigger: j.trigger,
    created_at: iso(j.createdAt),
    finished_at: j.finishedAt === undefined ? null : iso(j.finishedAt),
    models: [...j.models],
    types: [...j.types],
    progress: { ...j.progress },
    results: j.results.map(toWireResult),
  }
}

/** Engine health, as served at GET /health/performance. */
export function toWireHealth(h: EngineHealth): z.infer<typeof HealthSchema> {
  return {
    state: h.state,
    enabled: h.enabled,
    last_run: h.lastRunAt === undefined ? null : iso(h.lastRunAt),
    last_job_id: h.lastJobId ?? null,
    next_run: h.nextRunAt === undefined ? null : iso(h.nextRunAt),
    running_jobs: h.runningJobs,
    in_flight_requests: h.inFlightRequests,
    budget: { ...h.budget },
  }
}
