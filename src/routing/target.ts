/**
 * `"provider,model"` targets: parsing, keys, and CCR's explicit-model resolution
 * (docs/protocols.md §8.4). Pure.
 */
import { splitTarget } from '../config/target-syntax.ts'
import type { ProviderConfig } from '../config/types.ts'

export interface Target {
  readonly provider: string
  readonly model: string
}

/** The provider facts target resolution needs. */
export type ProviderNames = readonly Pick<ProviderConfig, 'name' | 'models'>[]

/**
 * Splits at the FIRST comma, as CCR's engine does, so model ids may contain commas.
 * Undefined when there is no comma or either half is empty.
 * @example parseTarget('openrouter,a,b') // { provider: 'openrouter', model: 'a,b' }
 */
export function parseTarget(s: string): Target | undefined {
  return splitTarget(s)
}

/** The canonical `"provider,model"` string for a target (the key stats and plans use). */
export function targetKey(t: Target): string {
  return `${t.provider},${t.model}`
}

/**
 * Resolves a client's `model` when it is an explicit `provider,model` (Claude Code's
 * `/model provider,model`). Provider and model match case-insensitively and come back in the
 * configured casing; a model the provider does not list still routes (CCR forwards it).
 * Undefined when `model` has no comma or names no configured provider: use
 * `unknownProviderMessage` for the 404.
 */
export function resolveExplicit(model: string, providers: ProviderNames): Target | undefined {
  // Asked twice per request with the same text (route.ts, then the scenario): memoised per
  // provider list, which is the config's own array; bounded, since `model` comes from clients.
  let byModel = resolvedMemo.get(providers)
  if (!byModel) resolvedMemo.set(providers, byModel = new Map())
  let hit = byModel.get(model)
  if (hit === undefined) {
    if (byModel.size >= MAX_RESOLVED) byModel.clear()
    hit = resolve(model, providers) ?? null
    byModel.set(model, hit)
  }
  return hit ?? undefined
}

const resolvedMemo = new WeakMap<ProviderNames, Map<string, Target | null>>()
const MAX_RESOLVED = 1_024

function resolve(model: string, providers: ProviderNames): Target | undefined {
  const t = parseTarget(model)
  if (!t) return undefined
  const p = providers.find((x) => x.name.toLowerCase() === t.provider.toLowerCase())
  if (!p) return undefined
  const m = p.models.find((x) => x.toLowerCase() === t.model.toLowerCase())
  return { provider: p.name, model: m ?? t.model }
}

/** The 404 message for an explicit target whose provider is not configured, listing those that are. */
export function unknownProviderMessage(provider: string, providers: ProviderNames): string {
  const names = providers.map((p) => `"${p.name}"`).join(', ') || 'none'
  return `Provider "${provider}" is not configured: configured providers are ${names}`
}
