/**
 * What operators read: live routing numbers, the plan a request would get, usage and cost,
 * token drift and audits, and Prometheus metrics. Typed JSON, every route in the OpenAPI doc.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Deps } from '../deps.ts'
import type { Observability } from '../observability.ts'
import type { UsageSnapshot } from '../usage/ledger.ts'
import { CIRCUIT_STATE, CONTENT_TYPE } from '../metrics/prometheus.ts'
import { explainPlan, type RoutingParts } from '../routing/routing-engine.ts'
import { latencyReport } from '../routing/report.ts'
import { registerExplain } from './explain.ts'
import { getRoute, jsonResponse } from './openapi.ts'
import { FALLBACK_KEYS as SCENARIOS } from '../config/checks.ts' // every scenario name (a fallback list may be keyed by any)

const LatencyRowSchema = z.object({
  target: z.string(),
  rank: z.number().int(),
  score: z.number(),
  demoted: z.boolean(),
  reason: z.string().optional(),
  ewma_latency_ms: z.number().nullable(),
  ttft_ms: z.number().nullable(),
  tokens_per_sec: z.number().nullable(),
  error_rate: z.number().nullable(),
  in_flight: z.number().int(),
  breaker: z.string(),
  breaker_retry_in_ms: z.number(),
  samples: z.number().int(),
  stream_continuations: z.number().int().openapi({
    description: 'Streams of this target that broke after the commit point and were continued',
  }),
  tier: z.string().openapi({ description: 'ccr-rust: the tier (a provider,model)' }),
  ewma_seconds: z.number().openapi({ description: 'ccr-rust: EWMA latency in seconds (0 before any sample)' }),
  sample_count: z.number().int().openapi({ description: 'ccr-rust: samples' }),
}).openapi('LatencyRow')
const LatenciesSchema = z.object({ targets: z.array(LatencyRowSchema) }).openapi('Latencies', {
  example: {
    targets: [{
      target: 'deepseek,deepseek-chat',
      rank: 1,
      score: 0.82,
      demoted: false,
      ewma_latency_ms: 812,
      ttft_ms: 240,
      tokens_per_sec: 61,
      error_rate: 0,
      in_flight: 3,
      breaker: 'closed',
      breaker_retry_in_ms: 0,
      samples: 148,
      stream_continuations: 0,
    }],
  },
})
const LATENCY_FORMATS = ['switchyard', 'ccr-rust'] as const
const latenciesRoute = createRoute({
  method: 'get',
  path: '/v1/latencies',
  tags: ['Observability'],
  summary: 'Per target: EWMA latency, TTFT, tokens/s, error rate, in-flight, breaker, samples, rank',
  description:
    'Switchyard answers `{"targets": [...]}`; ccr-rust answers the bare list. The list (the same rows) is sent for `format=ccr-rust`, ' +
    "and by default to a client that sends no User-Agent and `Accept: */*` (what ccr-rust's dashboard and `status` send, unchanged); `format=switchyard` always gets the object.",
  request: {
    query: z.object({
      format: z.enum(LATENCY_FORMATS).optional().openapi({
        description:
          '`ccr-rust`: the bare list of rows; `switchyard`: `{"targets": [...]}`. Default: see the description',
        example: 'ccr-rust',
      }),
    }),
  },
  responses: {
    200: {
      description: 'The rows',
      content: { 'application/json': { schema: z.union([LatenciesSchema, z.array(LatencyRowSchema)]) } },
    },
  },
})

/**
 * Whether a `/v1/latencies` request wants ccr-rust's bare list: asked for by name, or sent the
 * way ccr-rust's tools send it (a reqwest client with its defaults: `Accept: *\/*` and no
 * User-Agent, which browsers, curl and the fetch of Bun, Deno and Node all send).
 */
export function wantsCcrRustList(
  format: (typeof LATENCY_FORMATS)[number] | undefined,
  headers: { userAgent?: string; accept?: string },
): boolean {
  if (format !== undefined) return format === 'ccr-rust'
  return headers.userAgent === undefined && headers.accept?.trim() === '*/*'
}

const PlanEntrySchema = z.object({
  target: z.string(),
  tier: z.string(),
  source: z.string(),
  score: z.number(),
  performance_score: z.number(),
  components: z.record(z.string(), z.number()),
  demoted: z.boolean(),
  reason: z.string().optional(),
  samples: z.number().int(),
  skip: z.object({ reason: z.string(), retry_in_ms: z.number() }).optional(),
}).openapi('PlanEntry')
const PlanSchema = z.object({
  scenario: z.string(),
  target: z.string(),
  kind: z.string(),
  ordering: z.string().optional(),
  targets: z.array(PlanEntrySchema),
  dropped: z.array(PlanEntrySchema),
}).openapi('RoutingPlan')
const TotalsSchema = z.object({
  requests: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheCreationTokens: z.number(),
  costUsd: z.number(),
  unknownCostRequests: z.number(),
  estimatedRequests: z.number().openapi({
    description: "Requests billed from Switchyard's token estimate: the upstream reported no usage",
  }),
  reasoningTokens: z.number().openapi({
    description:
      'Reasoning (thinking) tokens among the output tokens, as upstreams reported them (OpenAI reasoning_tokens, Gemini thoughtsTokenCount, …)',
  }),
  failures: z.record(z.string(), z.number()),
}).openapi('UsageTotals')
const TierUsageRowSchema = z.object({
  tier: z.string(),
  requests: z.number(),
  failures: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  reasoning_tokens: z.number(),
  cache_read_tokens: z.number(),
  cache_creation_tokens: z.number(),
  cost_usd: z.number(),
  avg_duration_seconds: z.number(),
  estimated_requests: z.number(),
  failure_reasons: z.record(z.string(), z.number()),
}).openapi('TierUsageRow')
const KeyTotalsSchema = z.object({
  requests: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  todayUsd: z.number(),
  budgetUsdPerDay: z.number().optional(),
  resetsAt: z.string(),
}).openapi('KeyUsage')
const UsageSchema = z.object({
  total_requests: z.number(),
  total_failures: z.number(),
  total_input_tokens: z.number(),
  total_output_tokens: z.number(),
  total_cost_usd: z.number(),
  active_streams: z.number(),
  active_requests: z.number(),
  tiers: z.array(TierUsageRowSchema).openapi({ description: 'Per tier, as ccr-rust lists them' }),
  scope: z.enum(['instance', 'fleet']).optional().openapi({
    description:
      'Fleet mode: `fleet` (the default there, `?scope=instance` for this instance alone) sums every instance over `days`',
  }),
  days: z.array(z.string()).optional(),
  today: z.object({
    day: z.string().openapi({ description: 'UTC day', example: '2026-06-01' }),
    requests: z.number(),
    cost_usd: z.number(),
  }).optional()
    .openapi({
      description:
        'Requests and cost of the current UTC day, from the stored per-day usage (fleet-wide in fleet mode), so they survive restarts',
    }),
  total: TotalsSchema,
  by_tier: z.record(z.string(), TotalsSchema),
  targets: z.record(z.string(), TotalsSchema),
  keys: z.record(z.string(), KeyTotalsSchema).optional().openapi({
    description:
      "Per named API key (Keys[].name), when Keys is configured: with `scope` `fleet`, every instance's requests, tokens and cost over `days` and today's cost (Redis's day); else this instance's",
  }),
  cache: z.object({
    hits: z.number(),
    misses: z.number(),
    stored: z.number(),
    hitRatio: z.number(),
    inputTokensSaved: z.number(),
    outputTokensSaved: z.number(),
    costSavedUsd: z.number(),
  }).optional().openapi({
    description: 'The response cache: lookups, hit ratio, and the tokens and cost the hits saved',
  }),
}).openapi('Usage')
const DriftSchema = z.object({
  tiers: z.record(
    z.string(),
    z.object({
      samples: z.number(),
      meanPct: z.number(),
      meanAbsPct: z.number(),
      p95AbsPct: z.number(),
      maxAbsPct: z.number(),
      lastPct: z.number(),
      alerts: z.object({ warning: z.number(), critical: z.number() }),
    }),
  ),
  thresholds: z.object({ warnPct: z.number(), criticalPct: z.number() }),
}).openapi('TokenDrift')
const AuditSchema = z.object({
  size: z.number().int(),
  entries: z.array(z.object({
    id: z.string(),
    at: z.number(),
    tier: z.string(),
    target: z.string(),
    estimate: z.object({
      total: z.number(),
      messages: z.number(),
      system: z.number(),
      tools: z.number(),
      images: z.number(),
      thinking: z.number(),
    }),
    reported: z.number().optional(),
    driftPct: z.number().optional(),
    level: z.string().optional(),
  })),
}).openapi('TokenAudit')

const planRoute = createRoute({
  method: 'get',
  path: '/v1/routing/plan',
  tags: ['Observability'],
  summary: 'The ordered plan and scores a request of a scenario would get now',
  request: {
    query: z.object({
      scenario: z.enum(SCENARIOS).default('default').openapi({ example: 'default' }),
      target: z.string().optional().openapi({
        description: "`provider,model` to plan for (default: the scenario's Router target)",
        example: 'deepseek,deepseek-chat',
      }),
    }),
  },
  responses: { 200: { description: 'The plan', content: { 'application/json': { schema: PlanSchema } } } },
})

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Observability'],
  summary: 'Prometheus metrics (ccr-rust names)',
  responses: {
    200: { description: 'Text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
  },
})

const nullable = (n: number | undefined) => (n === undefined ? null : n)

interface FleetKeyTotals {
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
  readonly todayUsd: number
}

/** Each configured key's figures: this instance's, or with `fleet` the fleet's (zero for a key no instance used). */
function keyUsage<T extends FleetKeyTotals>(
  local: Record<string, T>,
  fleet: Readonly<Record<string, FleetKeyTotals>> | undefined,
): Record<string, T> {
  if (!fleet) return local
  const zero = { requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, todayUsd: 0 }
  return Object.fromEntries(
    Object.entries(local).map(([name, k]) => {
      const f = fleet[name] ?? zero
      return [name, {
        ...k,
        requests: f.requests,
        inputTokens: f.inputTokens,
        outputTokens: f.outputTokens,
        costUsd: f.costUsd,
        todayUsd: f.todayUsd,
      }]
    }),
  )
}

/** What these routes read of the instance's services (the composition root's `Services` has this shape). */
export interface ObservedServices {
  readonly deps: Pick<Deps, 'config' | 'now' | 'keys' | 'cache'>
  readonly routing: RoutingParts
  readonly observability: Observability
  /** Fleet mode: the whole fleet's usage, undefined when Redis does not answer. */
  readonly fleetUsage?: () => Promise<
    (UsageSnapshot & {
      readonly days: string[]
      readonly byDay: Readonly<Record<string, { readonly requests: number; readonly costUsd: number }>>
      /** Named keys' fleet totals by name (requests, tokens, cost, today's cost). */
      readonly keys?: Readonly<Record<string, FleetKeyTotals>>
    }) | undefined
  >
  /** This instance's requests and cost on a UTC day (YYYY-MM-DD), from the stored per-day usage. */
  readonly dayUsage?: (day: string) => { readonly requests: number; readonly costUsd: number }
  /** Streams in flight, for `/v1/usage`'s `active_streams`. */
  readonly telemetry?: { activeStreams(): number }
}

const usageRoute = createRoute({
  method: 'get',
  path: '/v1/usage',
  tags: ['Observability'],
  summary:
    "Requests, tokens and cost per tier and per provider,model (persisted; fleet-wide in fleet mode); a superset of ccr-rust's shape",
  request: {
    query: z.object({
      scope: z.enum(['instance', 'fleet']).optional().openapi({
        description: 'Fleet mode: the whole fleet (the default) or this instance alone',
        example: 'instance',
      }),
    }),
  },
  responses: { 200: jsonResponse(UsageSchema, 'Usage and cost') },
})

export function registerObservability(app: OpenAPIHono, s: ObservedServices): void {
  const { config, now } = s.deps
  app.openapi(latenciesRoute, (c) => {
    const rows = latencyReport(s.routing.stats.all(now()), config.router, { now: now() }).map((r) => ({
      target: r.target,
      rank: r.rank,
      score: r.score,
      demoted: r.demoted,
      ...(r.reason ? { reason: r.reason } : {}),
      ewma_latency_ms: nullable(r.latencyMs),
      ttft_ms: nullable(r.ttftMs),
      tokens_per_sec: nullable(r.tokensPerSec),
      error_rate: nullable(r.errorRate),
      in_flight: r.inFlight,
      breaker: r.breaker,
      breaker_retry_in_ms: r.breakerRetryInMs,
      samples: r.samples,
      stream_continuations: r.continued,
      tier: r.target,
      ewma_seconds: (r.latencyMs ?? 0) / 1000,
      sample_count: r.samples,
    }))
    const list = wantsCcrRustList(c.req.valid('query').format, {
      userAgent: c.req.header('user-agent'),
      accept: c.req.header('accept'),
    })
    return list ? c.json(rows, 200) : c.json({ targets: rows }, 200)
  })
  app.openapi(planRoute, (c) => {
    const { scenario, target } = c.req.valid('query')
    const router = config.router
    const t = target ?? (router as unknown as Record<string, string | undefined>)[scenario] ?? router.default
    const plan = explainPlan(s.routing, { scenario, target: t })
    const entry = (p: (typeof plan.targets)[number]) => ({
      target: p.target,
      tier: p.tier,
      source: p.source,
      score: p.score,
      performance_score: p.performanceScore ?? p.score,
      components: { ...p.components },
      demoted: p.demoted,
      ...(p.reason ? { reason: p.reason } : {}),
      samples: p.samples,
      ...(p.skip ? { skip: { reason: p.skip.reason, retry_in_ms: p.skip.retryInMs } } : {}),
    })
    return c.json({
      scenario,
      target: t,
      kind: plan.kind,
      ...(plan.kind === 'ready' ? { ordering: plan.ordering } : {}),
      targets: plan.targets.map(entry),
      dropped: plan.kind === 'ready' ? plan.dropped.map(entry) : [],
    }, 200)
  })
  registerExplain(app, s)
  app.openapi(usageRoute, async (c) => {
    const rows = latencyReport(s.routing.stats.all(now()), config.router, { now: now() })
    // Fleet mode: the fleet's totals; Redis not answering: this instance's own, marked as such.
    const fleet = s.fleetUsage && c.req.query('scope') !== 'instance' ? await s.fleetUsage() : undefined
    // Today (UTC) from the stored per-day usage: fleet-wide in fleet mode (Redis's days), else this instance's.
    const day = new Date(now()).toISOString().slice(0, 10)
    const t = fleet ? fleet.byDay[day] : s.dayUsage?.(day)
    return c.json({
      ...(t || fleet ? { today: { day, requests: t?.requests ?? 0, cost_usd: t?.costUsd ?? 0 } } : {}),
      ...s.observability.usageReport({
        activeStreams: s.telemetry?.activeStreams() ?? 0,
        activeRequests: rows.reduce((n, r) => n + r.inFlight, 0),
      }, fleet),
      ...(fleet ? { scope: 'fleet' as const, days: fleet.days } : s.fleetUsage ? { scope: 'instance' as const } : {}),
      ...(s.deps.keys ? { keys: keyUsage(s.deps.keys.snapshot(now()), fleet?.keys) } : {}),
      ...(s.deps.cache ? { cache: s.deps.cache.stats() } : {}),
    }, 200)
  })
  app.openapi(
    getRoute('/v1/token-drift', 'Estimate vs reported input tokens, per tier', DriftSchema, 'Observability'),
    (c) => c.json({ tiers: s.observability.drift.snapshot(), thresholds: config.drift }, 200),
  )
  app.openapi(
    getRoute(
      '/v1/token-audit',
      'The last N pre-request token audits with their breakdown and drift',
      AuditSchema,
      'Management',
    ),
    (c) => {
      const entries = s.observability.audit.list()
      return c.json({ size: config.tokenAuditSize, entries }, 200)
    },
  )
  app.openapi(metricsRoute, (c) => {
    const m = s.observability.metrics
    // Routing-state gauges are read at scrape time: nothing on the hot path keeps them current.
    // Set afresh: a target the config (reloaded) no longer has leaves /metrics.
    m.circuitState.clear()
    for (const r of latencyReport(s.routing.stats.all(now()), config.router, { now: now() })) {
      m.circuitState.labels(r.target).set(CIRCUIT_STATE[r.breaker as keyof typeof CIRCUIT_STATE] ?? 0)
    }
    return c.text(m.render(), 200, { 'content-type': CONTENT_TYPE })
  })
}
