/**
 * Which scenario a request is, and the ordered plan of targets that may serve it: the one place
 * a route is decided. A custom router's pick (CUSTOM_ROUTER_PATH, `deps.customRouter`, async
 * user code) is asked first, then an explicit `provider,model`, then `Router.rules`
 * (routing/rules.ts), then CCR's scenario order (routing/scenario.ts); this only gathers their
 * inputs. Last, targets the client's key may not use or whose model cannot serve the request
 * are dropped (routing/capabilities.ts).
 */
import type { CustomRouter, Deps } from '../deps.ts'
import type { ProxyError } from '../errors.ts'
import { err, ok, type Result } from '../lib/result.ts'
import { filterByCapabilities, noTargetMessage, servesAll } from '../routing/capabilities.ts'
import { asksForThinking, type RequestFeatures, requestFeatures } from '../routing/features.ts'
import { matchRule, routerForRule, type RuleInput } from '../routing/rules.ts'
import { chooseScenario, extractSubagent, headerSessionId, sessionIdOf } from '../routing/scenario.ts'
import type { RouterConfig, Scenario } from '../config/types.ts'
import { resolveExplicit, unknownProviderMessage } from '../routing/target.ts'
import { hubView } from '../formats/index.ts'
import type { RequestContext } from './context.ts'
import type { ClientRequest, RouteDecision, TokenEstimate } from './types.ts'

export async function decideRoute(ctx: RequestContext): Promise<Result<RouteDecision, ProxyError>> {
  const { req, deps } = ctx
  const { config } = deps
  const configured = req.preset === undefined ? config.router : config.presets[req.preset]?.router
  if (!configured) {
    return err({
      kind: 'not_found',
      message: `Preset "${req.preset}" is not configured (have: ${Object.keys(config.presets).join(', ') || 'none'})`,
    })
  }
  // The custom router is shown the client body's estimate; the built-in rules reuse it when it
  // declines and they route the same body. No custom router (the usual case): no async call.
  const shown = deps.customRouter ? deps.tokens.breakdown(req.body) : undefined
  const custom = deps.customRouter && shown
    ? await customDecision(req, deps, { router: deps.customRouter, shown })
    : undefined
  if (custom) return servable(ctx, custom, { features: requestFeatures(custom.body), router: configured })
  const model = typeof req.body.model === 'string' ? req.body.model : ''
  if (model.includes(',') && !resolveExplicit(model, config.providers)) {
    const provider = model.slice(0, model.indexOf(','))
    return err({ kind: 'not_found', message: unknownProviderMessage(provider, config.providers) })
  }
  const body = req.format === 'anthropic' ? req.body : withUniqueProvider(req.body, deps)
  // The request's one token estimate: routing reads its total, the token audit its breakdown (context.ts).
  const tokens = shown && body === req.body ? shown : deps.tokens.breakdown(body)
  const estimatedInputTokens = tokens.total
  // Scenarios read the request as the hub sees it (web search, images, the subagent tag; thinking below).
  const view = hubView(req.format, body)
  const claudeSession = sessionIdOf(view)
  const sessionId = claudeSession ?? headerSessionId(req.headers.get('session-id'))
  // CCR's project and session Router files, found by Claude Code's transcripts (a preset's requests keep the preset's Router).
  const router = claudeSession !== undefined && req.preset === undefined && deps.projectRouters
    ? (await deps.projectRouters.routerFor(claudeSession)) ?? configured
    : configured
  // Read from the client's own body: a translated one carries a thinking budget for any effort.
  const thinking = asksForThinking(body)
  const decision = chooseScenario(
    {
      body: view,
      thinking,
      tokenCount: estimatedInputTokens,
      lastPromptTokens: sessionId ? deps.sessions.get(sessionId) : undefined,
      providers: config.providers,
    },
    router,
  )
  const features = requestFeatures(decision.body, thinking)
  // Only a `provider,model` the client wrote itself comes before the rules (not a bare OpenAI model id resolved to its one provider).
  const hit = model.includes(',') ? undefined : matchRule(
    router.rules,
    ruleInputOf(req, { scenario: decision.scenario, inputTokens: estimatedInputTokens, features, now: deps.now() }),
  )
  // With no rule, a routing experiment on this scenario (main Router only) picks the session's arm.
  // A target arm's target is planned like a client-chosen one (kept first, `fallback.default`
  // after it), so measurements cannot move the arm's traffic elsewhere; a strategy arm plans the
  // scenario's own target with its Router. The trace keeps the real scenario.
  const arm = hit || req.preset !== undefined
    ? undefined
    : deps.experiments?.pick({ scenario: decision.scenario, random: deps.random, ...(sessionId ? { sessionId } : {}) })
  const target = hit ? hit.rule.route[0]! : arm?.target ?? decision.target
  const plan = hit
    ? deps.routing.plan('rule', target, req.preset, estimatedInputTokens, routerForRule(router, hit.rule))
    : deps.routing.plan(
      arm?.target ? 'explicit' : decision.scenario,
      target,
      req.preset,
      estimatedInputTokens,
      arm?.router,
    )
  if (plan.length === 0) return err({ kind: 'no_upstream', message: unroutable(target, deps.config.providers.length) })
  const scenario: Scenario = hit ? 'rule' : decision.scenario
  // The body goes on in the client's format; only the hub's own (Anthropic) body can take the stripped copy.
  const sent = view === body ? decision.body : body
  // `rule` and `experiment` stay undefined when unused (`routed` skips them): no spreads per request.
  return servable(ctx, {
    scenario,
    body: sent,
    plan,
    tokens,
    rule: hit?.rule.name,
    experiment: arm ? `${arm.experiment}/${arm.arm}` : undefined,
    sessionId,
  }, { features, router })
}

/** Why a request found no target: a config with no providers yet (as CCR first writes it) says so. */
function unroutable(target: string, providers: number): string {
  if (providers === 0) {
    return "No providers are configured yet: add one to the config file (the dashboard's Config view can), and the service reloads"
  }
  if (target === '') return 'No Router.default is configured: set one in the config file'
  return `Cannot route request: no configured target serves "${target}"`
}

/** What the rules look at, from the request as routed (any client format). */
function ruleInputOf(
  req: ClientRequest,
  r: { scenario: Scenario; inputTokens: number; features: RequestFeatures; now: number },
): RuleInput {
  const f = r.features
  return {
    model: typeof req.body.model === 'string' ? req.body.model : '',
    scenario: r.scenario,
    inputTokens: r.inputTokens,
    hasTools: f.hasTools,
    hasImages: f.hasImages,
    thinking: f.thinking,
    stream: f.stream,
    header: (name) => req.headers.get(name) ?? undefined,
    ...(req.apiKeyName === undefined ? {} : { apiKey: req.apiKeyName }),
    now: r.now,
  }
}

/**
 * The decision with the targets the client's key may not use dropped (403 when none is left,
 * or when the client named one itself), then those that cannot serve the request (400 naming
 * what is missing).
 */
function servable(
  ctx: RequestContext,
  d: RouteDecision,
  by: { features: RequestFeatures; router: RouterConfig },
): Result<RouteDecision, ProxyError> {
  const { req, deps } = ctx
  if (deps.keys && req.apiKeyName !== undefined) {
    const name = req.apiKeyName
    const allowed = d.plan.filter((t) => deps.keys!.allows(name, t.key))
    const first = d.plan[0]
    if (allowed.length === 0 || (first && d.scenario === 'explicit' && !allowed.includes(first))) {
      return err({
        kind: 'forbidden',
        message: `API key "${name}" may not use ${first?.key ?? 'this model'} (allowed: ${
          deps.keys.allowedList(name)
        })`,
      })
    }
    d = allowed.length === d.plan.length ? d : { ...d, plan: allowed }
  }
  const f = by.features
  // forceUseImageAgent: the images will be text (their descriptions), so no target needs vision.
  const asText = f.hasImages && by.router.forceUseImageAgent === true && !req.describesImage
  if (asText) d = { ...d, allImagesAsText: true }
  else if (f.imagesOnlyEarlier) d = { ...d, imagesOnlyEarlier: true }
  const needs = {
    hasImages: f.hasImages && !asText,
    ...(f.imagesOnlyEarlier ? { imagesOnlyEarlier: true } : {}),
    hasTools: f.hasTools,
    inputTokens: d.tokens.total,
    maxOutputTokens: f.maxOutputTokens,
  }
  if (servesAll(d.plan, needs)) return ok(d)
  const { kept, skipped } = filterByCapabilities(d.plan, needs, by.router.longContext)
  if (skipped.length === 0) return ok(d)
  if (kept.length === 0) return err({ kind: 'invalid_request', ...noTargetMessage(skipped) })
  return ok({ ...d, plan: kept, skipped })
}

/**
 * The custom router's pick as a decision, or undefined to use the built-in rules (also when
 * no configured target serves the pick). The subagent tag is stripped here too: it is an
 * instruction to the proxy, never to the model.
 */
async function customDecision(
  req: ClientRequest,
  deps: Deps,
  { router, shown }: { router: CustomRouter; shown: TokenEstimate },
): Promise<RouteDecision | undefined> {
  // CCR routers read Anthropic- or OpenAI-shaped bodies: Responses and Gemini requests are shown as the hub sees them.
  const view = hubView(req.format, req.body)
  const sessionId = sessionIdOf(view) ?? headerSessionId(req.headers.get('session-id'))
  const pick = await router.route({
    body: view,
    format: view === req.body ? req.format : 'anthropic',
    tokenCount: shown.total,
    sessionId,
    headers: req.headers,
    ...(req.preset === undefined ? {} : { preset: req.preset }),
  })
  if (!pick) return undefined
  // A router may rewrite the body it was shown; a hub view is not what goes upstream, so the client's body does.
  const body = view === req.body ? extractSubagent(pick.body).body : req.body
  const tokens = body === req.body ? shown : deps.tokens.breakdown(body)
  const plan = deps.routing.plan('custom', pick.target, req.preset, tokens.total)
  if (plan.length === 0) return undefined
  return { scenario: 'custom', body, plan, tokens, sessionId }
}

/** On the OpenAI, Responses and Gemini routes a bare model id that exactly one provider lists routes there. */
function withUniqueProvider(body: RouteDecisionBody, deps: Deps): RouteDecisionBody {
  const model = body.model
  if (typeof model !== 'string' || model.includes(',')) return body
  const owners = deps.config.providers.filter((p) => p.models.includes(model))
  return owners.length === 1 ? { ...body, model: `${owners[0]!.name},${model}` } : body
}

type RouteDecisionBody = ClientRequest['body']
