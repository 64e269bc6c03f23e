/**
 * `GET /v1/routing/explain`: which routing rule a sample request would match and why the
 * others did not, then the plan it would get and which targets the capability filter would
 * skip. Nothing is sent upstream, so a rule can be tried before traffic hits it.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Scenario } from '../config/types.ts'
import { RULE_SCENARIOS } from '../config/rules.ts'
import type { Deps } from '../deps.ts'
import { explainPlan, type RoutingParts } from '../routing/routing-engine.ts'
import { cannotServe, capabilitiesOf } from '../routing/capabilities.ts'
import { explainRules, routerForRule } from '../routing/rules.ts'
import { jsonResponse } from './openapi.ts'

const flag = z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1')

const ExplainQuery = z.object({
  model: z.string().default('').openapi({
    description: 'The model the client would ask for',
    example: 'claude-sonnet-4-5',
  }),
  scenario: z.enum(RULE_SCENARIOS).default('default').openapi({
    description: 'The CCR scenario the request would get without rules',
    example: 'default',
  }),
  input_tokens: z.coerce.number().int().min(0).default(0).openapi({
    description: 'Estimated input tokens',
    example: 12000,
  }),
  max_tokens: z.coerce.number().int().min(0).optional().openapi({
    description: "The client's output cap",
    example: 4096,
  }),
  tools: flag.openapi({ description: 'The request declares tools', example: 'true' }),
  images: flag.openapi({ description: 'The request carries images' }),
  thinking: flag.openapi({ description: 'The request asks for thinking' }),
  stream: flag.openapi({ description: 'The request streams' }),
  key: z.string().optional().openapi({
    description: 'The API key name (Keys[].name) it would use',
    example: 'ci-agents',
  }),
  header: z.union([z.string(), z.array(z.string())]).optional().openapi({
    description: 'A request header as `name: value` (repeatable)',
    example: 'x-switchyard-tag: ci',
  }),
  at: z.string().datetime({ offset: true }).optional().openapi({
    description: 'When (ISO 8601), for timeUtc conditions; default now',
    example: '2026-11-30T22:30:00Z',
  }),
})

const CheckSchema = z.object({
  rule: z.string(),
  matched: z.boolean(),
  reasons: z.array(z.string()).optional(),
  failed: z.string().optional(),
})
const ExplainSchema = z.object({
  rule: z.string().nullable(),
  decided_by: z.string(),
  target: z.string(),
  checks: z.array(CheckSchema),
  plan: z.array(z.string()),
  skipped: z.array(
    z.object({
      target: z.string(),
      capability: z.string().openapi({
        description: "`vision`, `tools`, `context`, or `key` (not in the key's allowedModels)",
      }),
      why: z.string(),
    }),
  ),
}).openapi('RoutingExplain', {
  example: {
    rule: 'ci-cheap',
    decided_by: 'rule',
    target: 'deepseek,deepseek-chat',
    checks: [{ rule: 'ci-cheap', matched: true, reasons: ['header x-switchyard-tag matches exact ci', 'tools=true'] }],
    plan: ['deepseek,deepseek-chat', 'anthropic,claude-sonnet-4-5'],
    skipped: [],
  },
})

const explainRoute = createRoute({
  method: 'get',
  path: '/v1/routing/explain',
  tags: ['Observability'],
  summary: 'Which routing rule a sample request would match, why, and the plan it would get',
  request: { query: ExplainQuery },
  responses: {
    200: jsonResponse(ExplainSchema, 'The rule checks in order, the winner, and the plan after the capability filter'),
  },
})

export function registerExplain(
  app: OpenAPIHono,
  s: { readonly deps: Pick<Deps, 'config' | 'now' | 'keys'>; readonly routing: RoutingParts },
): void {
  const { config, now } = s.deps
  app.openapi(explainRoute, (c) => {
    const q = c.req.valid('query')
    const headers = new Headers()
    for (const h of typeof q.header === 'string' ? [q.header] : q.header ?? []) {
      const i = h.indexOf(':')
      if (i > 0) headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim())
    }
    const router = config.router
    const input = {
      model: q.model,
      scenario: q.scenario as Scenario,
      inputTokens: q.input_tokens,
      hasTools: q.tools,
      hasImages: q.images,
      thinking: q.thinking,
      stream: q.stream,
      header: (name: string) => headers.get(name) ?? undefined,
      ...(q.key === undefined ? {} : { apiKey: q.key }),
      now: q.at === undefined ? now() : Date.parse(q.at),
    }
    const { winner, checks } = explainRules(router.rules, input)
    const rule = router.rules?.find((r) => r.name === winner)
    const target = rule
      ? rule.route[0]!
      : (router as unknown as Record<string, string | undefined>)[q.scenario] ?? router.default
    const plan = rule
      ? explainPlan(s.routing, {
        scenario: 'rule',
        target,
        estimatedTokens: q.input_tokens,
        router: routerForRule(router, rule),
      })
      : explainPlan(s.routing, { scenario: q.scenario as Scenario, target, estimatedTokens: q.input_tokens })
    const needs = {
      hasImages: q.images,
      hasTools: q.tools,
      inputTokens: q.input_tokens,
      ...(q.max_tokens === undefined ? {} : { maxOutputTokens: q.max_tokens }),
    }
    const providers = new Map(config.providers.map((p) => [p.name, p]))
    const skipped = plan.targets.flatMap((p) => {
      if (s.deps.keys && !s.deps.keys.allows(q.key, p.target)) {
        return [{ target: p.target, capability: 'key', why: `key ${JSON.stringify(q.key)} may not use it` }]
      }
      const provider = providers.get(p.provider)
      const skip = provider &&
        cannotServe(p.target, capabilitiesOf(provider, p.target.slice(p.target.indexOf(',') + 1)), needs)
      return skip ? [skip] : []
    })
    return c.json({
      rule: winner ?? null,
      decided_by: winner === undefined ? `scenario ${q.scenario} (no rule matched)` : 'rule',
      target,
      checks: checks.map((
        k,
      ) => (k.matched
        ? { rule: k.rule, matched: true, reasons: [...k.reasons] }
        : { rule: k.rule, matched: false, failed: k.failed })
      ),
      plan: plan.targets.map((p) => p.target).filter((t) => !skipped.some((k) => k.target === t)),
      skipped,
    }, 200)
  })
}
