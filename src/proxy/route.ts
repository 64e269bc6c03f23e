/**
 * Which scenario a request is, and the ordered plan of targets that may serve it: the one place
 * a route is decided. A custom router's pick (CUSTOM_ROUTER_PATH, `deps.customRouter`, async
 * user code) is asked first; CCR's scenario order lives in routing/scenario.ts, this only
 * gathers its inputs.
 */
import type { Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import { err, ok, type Result } from '../lib/result.ts'
import { chooseScenario, extractSubagent, sessionIdOf } from '../routing/scenario.ts'
import { resolveExplicit, unknownProviderMessage } from '../routing/target.ts'
import type { RequestContext } from './context.ts'
import type { ClientRequest, RouteDecision } from './types.ts'

export async function decideRoute(ctx: RequestContext): Promise<Result<RouteDecision, ProxyError>> {
  const { req, deps } = ctx
  const { config } = deps
  const router = req.preset === undefined ? config.router : config.presets[req.preset]?.router
  if (!router) return err({ kind: 'not_found', message: `Preset "${req.preset}" is not configured (have: ${Object.keys(config.presets).join(', ') || 'none'})` })
  const custom = await customDecision(req, deps)
  if (custom) return ok(custom)
  const model = typeof req.body.model === 'string' ? req.body.model : ''
  if (model.includes(',') && !resolveExplicit(model, config.providers)) {
    const provider = model.slice(0, model.indexOf(','))
    return err({ kind: 'not_found', message: unknownProviderMessage(provider, config.providers) })
  }
  const body = req.format === 'openai' ? withUniqueProvider(req.body, deps) : req.body
  const estimatedInputTokens = deps.tokens.estimate(body, req.format)
  const sessionId = sessionIdOf(body)
  const decision = chooseScenario(
    { body, tokenCount: estimatedInputTokens, lastUsageInputTokens: sessionId ? deps.sessions.get(sessionId) : undefined, providers: config.providers },
    router,
  )
  const plan = deps.routing.plan(decision.scenario, decision.target, req.preset, estimatedInputTokens)
  if (plan.length === 0) return err({ kind: 'no_upstream', message: `Cannot route request: no configured target serves "${decision.target}"` })
  return ok({ scenario: decision.scenario, body: decision.body, plan, estimatedInputTokens })
}

/**
 * The custom router's pick as a decision, or undefined to use the built-in rules (also when
 * no configured target serves the pick). The subagent tag is stripped here too: it is an
 * instruction to the proxy, never to the model.
 */
async function customDecision(req: ClientRequest, deps: Deps): Promise<RouteDecision | undefined> {
  if (!deps.customRouter) return undefined
  const pick = await deps.customRouter.route({
    body: req.body, format: req.format, tokenCount: deps.tokens.estimate(req.body, req.format), sessionId: sessionIdOf(req.body), headers: req.headers,
    ...(req.preset === undefined ? {} : { preset: req.preset }),
  })
  if (!pick) return undefined
  const body = extractSubagent(pick.body).body
  const estimatedInputTokens = deps.tokens.estimate(body, req.format)
  const plan = deps.routing.plan('custom', pick.target, req.preset, estimatedInputTokens)
  if (plan.length === 0) return undefined
  return { scenario: 'custom', body, plan, estimatedInputTokens }
}

/** On /v1/chat/completions a bare model id that exactly one provider lists routes there. */
function withUniqueProvider(body: RouteDecisionBody, deps: Deps): RouteDecisionBody {
  const model = body.model
  if (typeof model !== 'string' || model.includes(',')) return body
  const owners = deps.config.providers.filter((p) => p.models.includes(model))
  return owners.length === 1 ? { ...body, model: `${owners[0]!.name},${model}` } : body
}

type RouteDecisionBody = ClientRequest['body']
