/**
 * Declarative routing rules (`Router.rules`), pure: the request's facts and `now` in, the first
 * rule whose conditions all hold out, with the reasons. No match falls through to CCR's
 * scenarios (routing/scenario.ts). The custom router and an explicit `provider,model` are
 * decided before this runs. Rules are compiled and validated at load by config/rules.ts.
 */
import type { RouterConfig, RoutingRule, Scenario, TextMatcher } from '../config/types.ts'

/** What the rules may look at, taken from the normalised request (any client format). */
export interface RuleInput {
  /** The model the client asked for (`body.model`), or `''`. */
  readonly model: string
  /** The CCR scenario the request would get without rules. */
  readonly scenario: Scenario
  readonly inputTokens: number
  readonly hasTools: boolean
  readonly hasImages: boolean
  readonly thinking: boolean
  readonly stream: boolean
  /** A request header by lower-case name (the user agent is `user-agent`). */
  readonly header: (name: string) => string | undefined
  /** The name of the API key the request authenticated with, when it used a named key. */
  readonly apiKey?: string
  /** Epoch milliseconds, for `timeUtc`. */
  readonly now: number
}

export type RuleCheck =
  | { readonly rule: string; readonly matched: true; readonly reasons: readonly string[] }
  | { readonly rule: string; readonly matched: false; readonly failed: string }

const q = JSON.stringify
const describe = (m: TextMatcher) => `${m.kind} ${m.source}`
const hhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`

/** Whether `minuteOfDay` is in [from, to), wrapping past midnight when from > to. */
export function inRange(minuteOfDay: number, fromMin: number, toMin: number): boolean {
  return fromMin < toMin ? minuteOfDay >= fromMin && minuteOfDay < toMin : minuteOfDay >= fromMin || minuteOfDay < toMin
}

/** Every condition of `rule` against `input`: the reasons it holds, or the first one that does not. */
export function checkRule(rule: RoutingRule, input: RuleInput): RuleCheck {
  const w = rule.when
  const reasons: string[] = []
  const fail = (failed: string): RuleCheck => ({ rule: rule.name, matched: false, failed })
  if (w.model) {
    if (!w.model.re.test(input.model)) return fail(`model ${q(input.model)} does not match ${describe(w.model)}`)
    reasons.push(`model ${q(input.model)} matches ${describe(w.model)}`)
  }
  if (w.scenario) {
    if (!w.scenario.includes(input.scenario)) {
      return fail(`scenario ${input.scenario} is not ${w.scenario.join(' or ')}`)
    }
    reasons.push(`scenario ${input.scenario}`)
  }
  if (w.inputTokens) {
    const { min, max } = w.inputTokens
    if (min !== undefined && input.inputTokens < min) {
      return fail(`~${input.inputTokens} input tokens is under min ${min}`)
    }
    if (max !== undefined && input.inputTokens > max) {
      return fail(`~${input.inputTokens} input tokens is over max ${max}`)
    }
    reasons.push(`~${input.inputTokens} input tokens within [${min ?? 0}, ${max ?? '∞'}]`)
  }
  for (
    const [key, label] of [['hasTools', 'tools'], ['hasImages', 'images'], ['thinking', 'thinking'], [
      'stream',
      'stream',
    ]] as const
  ) {
    const want = w[key]
    if (want === undefined) continue
    if (input[key] !== want) return fail(`${label} is ${input[key]}, rule wants ${want}`)
    reasons.push(`${label}=${want}`)
  }
  for (const h of w.header ?? []) {
    const v = input.header(h.name)
    if (v === undefined) return fail(`header ${h.name} is absent`)
    if (!h.value.re.test(v)) return fail(`header ${h.name} does not match ${describe(h.value)}`)
    reasons.push(`header ${h.name} matches ${describe(h.value)}`)
  }
  if (w.apiKey) {
    if (input.apiKey === undefined) return fail('the request used no named API key')
    if (!w.apiKey.re.test(input.apiKey)) return fail(`API key ${q(input.apiKey)} does not match ${describe(w.apiKey)}`)
    reasons.push(`API key ${q(input.apiKey)}`)
  }
  if (w.timeUtc) {
    const d = new Date(input.now)
    const minute = d.getUTCHours() * 60 + d.getUTCMinutes()
    const hit = w.timeUtc.find((r) => inRange(minute, r.fromMin, r.toMin))
    if (!hit) return fail(`${hhmm(minute)} UTC is outside ${w.timeUtc.map((r) => r.source).join(', ')}`)
    reasons.push(`${hhmm(minute)} UTC is within ${hit.source}`)
  }
  if (reasons.length === 0) reasons.push('no conditions: matches every request')
  return { rule: rule.name, matched: true, reasons }
}

/**
 * The first rule that matches, in order, or undefined (then CCR's scenarios decide).
 * @example matchRule(rules, input)?.rule.name // 'ci-cheap'
 */
export function matchRule(
  rules: readonly RoutingRule[] | undefined,
  input: RuleInput,
): { rule: RoutingRule; reasons: readonly string[] } | undefined {
  for (const rule of rules ?? []) {
    const c = checkRule(rule, input)
    if (c.matched) return { rule, reasons: c.reasons }
  }
  return undefined
}

/** Every rule checked in order (for `GET /v1/routing/explain`): which one wins and why the others did not. */
export function explainRules(
  rules: readonly RoutingRule[] | undefined,
  input: RuleInput,
): { winner?: string; checks: readonly RuleCheck[] } {
  const checks = (rules ?? []).map((r) => checkRule(r, input))
  const winner = checks.find((c) => c.matched)?.rule
  return winner === undefined ? { checks } : { winner, checks }
}

const derived = new WeakMap<RoutingRule, WeakMap<RouterConfig, RouterConfig>>()

/**
 * The Router a matched rule plans with: its route's first target is the primary, the rest its
 * fallback list (scenario `rule`), and its optimisation or weights replace the Router's. Built
 * once per rule and Router, so the planner's memo keyed by Router keeps working.
 */
export function routerForRule(main: RouterConfig, rule: RoutingRule): RouterConfig {
  let byMain = derived.get(rule)
  if (!byMain) derived.set(rule, byMain = new WeakMap())
  let r = byMain.get(main)
  if (!r) {
    r = {
      ...main,
      fallback: { ...main.fallback, rule: rule.route.slice(1) },
      ...(rule.weights ? { weights: rule.weights, optimization: rule.optimization ?? 'balanced' } : {}),
      ...(rule.optimization ? { optimization: rule.optimization } : {}),
    }
    byMain.set(main, r)
  }
  return r
}
