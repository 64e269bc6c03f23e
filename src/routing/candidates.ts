/**
 * Which targets a routed request may use, in config order: the scenario's target, then its
 * CCR `fallback` list, then (unless `Router.fallbackToOtherTiers` is false) the other distinct
 * Router targets as tiers. Pure: config in, list out.
 */
import type { RouterConfig, Scenario } from '../config/types.ts'
import { splitTarget } from '../config/target-syntax.ts'

export interface Candidate {
  /** `"provider,model"`. */
  readonly target: string
  /** `tier-N` (index in the Router's distinct targets), `fallback-N`, or `explicit` for a target outside the Router. */
  readonly tier: string
  readonly source: 'primary' | 'fallback' | 'tier'
  /**
   * The client named this target itself (`provider,model`, a subagent tag or the custom
   * router): measurements may reorder what comes after it, never put another model first. Only
   * the first candidate, the primary, is ever pinned (`buildCandidates`; `planRoute` relies on it).
   */
  readonly pinned?: boolean
}

/**
 * Scenarios in which the client chose the model, so the primary target stays first. A
 * routing rule's first target is the operator's deliberate choice and stays first too.
 */
const CLIENT_CHOSEN: ReadonlySet<Scenario> = new Set(['explicit', 'subagent', 'custom', 'rule'])

/** The Router's distinct targets in tier order: default, background, think, longContext, webSearch, image. */
export function tierTargets(cfg: RouterConfig): readonly string[] {
  const all = [cfg.default, cfg.background, cfg.think, cfg.longContext, cfg.webSearch, cfg.image]
  return [...new Set(all.filter((t): t is string => typeof t === 'string' && t.length > 0))]
}

/** The tier label of a target: `tier-N` when it is a Router target, else `explicit`. */
export function tierOf(target: string, cfg: RouterConfig): string {
  const i = tierTargets(cfg).indexOf(target)
  return i >= 0 ? `tier-${i}` : 'explicit'
}

/** CCR v2 types custom-router and explicit picks as `default` for its fallback lookup. */
function fallbackList(scenario: Scenario, cfg: RouterConfig): readonly string[] {
  const own = cfg.fallback[scenario]
  if (own) return own
  return scenario === 'explicit' || scenario === 'custom' || scenario === 'subagent' ? cfg.fallback.default ?? [] : []
}

/**
 * The candidates for a request routed to `scenarioTarget` by `scenario`, deduplicated (first
 * occurrence wins).
 * @example buildCandidates('a,x', 'default', cfg) // [{ target: 'a,x', tier: 'tier-0', source: 'primary' }, …]
 */
export function buildCandidates(scenarioTarget: string, scenario: Scenario, cfg: RouterConfig): Candidate[] {
  const primary: Candidate = { target: scenarioTarget, tier: tierOf(scenarioTarget, cfg), source: 'primary' }
  const out: Candidate[] = [CLIENT_CHOSEN.has(scenario) ? { ...primary, pinned: true } : primary]
  const seen = new Set([scenarioTarget])
  const add = (c: Candidate) => {
    if (seen.has(c.target) || c.target.length === 0) return
    seen.add(c.target)
    out.push(c)
  }
  fallbackList(scenario, cfg).forEach((target, i) => add({ target, tier: `fallback-${i}`, source: 'fallback' }))
  if (cfg.fallbackToOtherTiers !== false) {
    tierTargets(cfg).forEach((target, i) => add({ target, tier: `tier-${i}`, source: 'tier' }))
  }
  return out
}

/** The provider part of `"provider,model"` (CCR splits at the first comma; model ids may hold commas). */
export function providerOf(target: string): string {
  let provider = providerMemo.get(target)
  if (provider === undefined) {
    provider = splitTarget(target)?.provider ?? target
    // Targets come from clients, so the memo is bounded (a plan asks for each candidate's provider per request).
    if (providerMemo.size >= MAX_PROVIDER_MEMO) providerMemo.clear()
    providerMemo.set(target, provider)
  }
  return provider
}

const providerMemo = new Map<string, string>()
const MAX_PROVIDER_MEMO = 1_024
