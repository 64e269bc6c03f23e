/**
 * Cross-field checks on the CCR file: every `"provider,model"` (Router, fallback, Presets,
 * performance.models) must name a configured provider; provider names are unique; no provider
 * at all is only a warning (CCR writes such a config on its first start). Written defensively
 * because zod runs it on partly invalid input too, so that one parse reports every problem at
 * once.
 */
import type { WireFormatName } from './types.ts'
import { isPlainObject, modelNames } from './fields.ts'
import { show } from './issues.ts'
import { compileMatcher, readRules, RULE_SCENARIOS, SCENARIO_KEYS } from './rules.ts'
import { splitTarget } from './target-syntax.ts'
import { VERTEX_TRANSFORMERS } from './vertex.ts'

export interface Finding {
  readonly severity: 'error' | 'warning'
  readonly path: readonly (string | number)[]
  readonly message: string
}

/** Scenario names a `fallback` list may be keyed by (CCR 2.0 uses the first five). */
export const FALLBACK_KEYS = [...RULE_SCENARIOS, 'explicit', 'custom'] as const

interface ProviderLike {
  readonly name: string
  readonly models: readonly string[]
}

function providersOf(file: Record<string, unknown>): { key: string; list: unknown[] } {
  if (Array.isArray(file.Providers)) return { key: 'Providers', list: file.Providers }
  if (Array.isArray(file.providers)) return { key: 'providers', list: file.providers }
  return { key: 'Providers', list: [] }
}

function known(list: unknown[]): ProviderLike[] {
  return list.filter(isPlainObject).filter((p) => typeof p.name === 'string').map((p) => ({
    name: p.name as string,
    models: modelNames(p.models),
  }))
}

function checkTarget(path: (string | number)[], value: unknown, providers: readonly ProviderLike[]): Finding[] {
  if (typeof value !== 'string' || value === '') return []
  const t = splitTarget(value)
  if (!t) return [{ severity: 'error', path, message: `expected "provider,model", got ${show(value)}` }]
  const p = providers.find((x) => x.name === t.provider)
  const names = providers.map((x) => x.name).join(', ') || 'none'
  if (!p) {
    return [{ severity: 'error', path, message: `provider ${show(t.provider)} is not in Providers (have: ${names})` }]
  }
  if (p.models.length > 0 && !p.models.includes(t.model)) {
    const msg = `model ${show(t.model)} is not in the models of provider ${show(p.name)} (have: ${
      p.models.join(', ')
    }): it is forwarded as is`
    return [{ severity: 'warning', path, message: msg }]
  }
  return []
}

/** `Router.rules`: each rule's fields, and its route targets checked like every Router target. */
function checkRules(router: unknown, providers: readonly ProviderLike[]): Finding[] {
  if (!isPlainObject(router)) return []
  const warnings: Finding[] = []
  const { problems } = readRules(router.rules, (t) => {
    const found = checkTarget([], t, providers)
    const error = found.find((f) => f.severity === 'error')
    if (!error) {
      warnings.push(
        ...found.map((f) => ({ ...f, path: ['Router', 'rules'], message: `${JSON.stringify(t)}: ${f.message}` })),
      )
    }
    return error?.message
  })
  return [...problems.map((p): Finding => ({ severity: 'error', path: p.path, message: p.message })), ...warnings]
}

/** `Keys`: unique names and keys (a shared key could not tell its teams apart), valid model patterns. */
function checkKeys(keys: unknown): Finding[] {
  if (!Array.isArray(keys)) return []
  const out: Finding[] = []
  const names = new Set<unknown>()
  const values = new Set<unknown>()
  keys.forEach((k, i) => {
    if (!isPlainObject(k)) return
    if (names.has(k.name)) {
      out.push({
        severity: 'error',
        path: ['Keys', i, 'name'],
        message: `duplicate key name ${JSON.stringify(k.name)}`,
      })
    }
    // The key itself is never echoed.
    if (values.has(k.key)) {
      out.push({
        severity: 'error',
        path: ['Keys', i, 'key'],
        message: `key ${JSON.stringify(k.name)} has the same key as an earlier entry`,
      })
    }
    names.add(k.name)
    values.add(k.key)
    const models = Array.isArray(k.allowedModels) ? k.allowedModels : []
    models.forEach((m, j) => {
      const c = typeof m === 'string' ? compileMatcher(m) : undefined
      if (typeof c === 'string') {
        out.push({
          severity: 'error',
          path: ['Keys', i, 'allowedModels', j],
          message: `key ${JSON.stringify(k.name)}: ${c}`,
        })
      }
    })
  })
  return out
}

function checkProviders(key: string, list: unknown[]): Finding[] {
  if (list.length === 0) {
    // CCR writes `{"PORT":3456,"Providers":[],"Router":{}}` on its first start, and its users add
    // providers from the UI: the service must start for that (every inference request is refused).
    return [{
      severity: 'warning',
      path: ['Providers'],
      message:
        "no providers yet: every inference request is refused until one is added (the dashboard's Config view can)",
    }]
  }
  const out: Finding[] = []
  const seen = new Set<string>()
  list.forEach((p, i) => {
    if (!isPlainObject(p)) return
    if (typeof p.name === 'string' && seen.has(p.name)) {
      out.push({ severity: 'error', path: [key, i, 'name'], message: `duplicate provider name ${show(p.name)}` })
    }
    if (typeof p.name === 'string') seen.add(p.name)
    const formats = formatsNamedBy(p.transformer)
    if (formats.length > 1 && p.protocol === undefined) {
      out.push({
        severity: 'error',
        path: [key, i, 'transformer', 'use'],
        message: `names ${formats.length} wire formats (${formats.join(', ')}): keep one, or set "protocol"`,
      })
    }
    if ((p.api_key === undefined || p.api_key === '') && !onVertex(p.transformer)) {
      const msg = `empty: provider "${
        String(p.name)
      }" is kept (CCR would silently drop it), but requests to it carry no key`
      out.push({ severity: 'warning', path: [key, i, 'api_key'], message: msg })
    }
  })
  return out
}

/** The transformer names in a provider's `transformer.use` (written defensively: input may be partly invalid). */
function useNames(transformer: unknown): string[] {
  const use = isPlainObject(transformer) && Array.isArray(transformer.use) ? transformer.use : []
  return use.map((u) =>
    typeof u === 'string'
      ? u
      : Array.isArray(u) && typeof u[0] === 'string'
      ? u[0]
      : isPlainObject(u) && typeof u.name === 'string'
      ? u.name
      : ''
  )
}

/** Format transformer names in a provider's `transformer.use`. */
function formatsNamedBy(transformer: unknown): WireFormatName[] {
  return [
    ...new Set(
      useNames(transformer).map((n) => FORMAT_TRANSFORMERS[n.toLowerCase()]).filter((f): f is WireFormatName =>
        f !== undefined
      ),
    ),
  ]
}

/** Whether a provider is on Vertex AI: it authenticates with Google's credentials, not `api_key`. */
const onVertex = (transformer: unknown): boolean =>
  useNames(transformer).some((n) => VERTEX_TRANSFORMERS[n.toLowerCase()] !== undefined)

/** Transformer names that name a provider's wire format (CCR's names, matched case-insensitively). */
export const FORMAT_TRANSFORMERS: Readonly<Record<string, WireFormatName>> = {
  anthropic: 'anthropic',
  gemini: 'gemini',
  'vertex-gemini': 'gemini',
  'vertex-claude': 'anthropic',
  'vertex-openai': 'openai',
  'openai-responses': 'responses',
  responses: 'responses',
}

function checkRouterLike(base: (string | number)[], router: unknown, providers: readonly ProviderLike[]): Finding[] {
  if (!isPlainObject(router)) return []
  return SCENARIO_KEYS.flatMap((k) => checkTarget([...base, k], router[k], providers))
}

function checkDefault(router: unknown, providers: readonly ProviderLike[]): Finding[] {
  const d = isPlainObject(router) ? router.default : undefined
  if (typeof d === 'string' && d !== '') return []
  const first = providers[0]
  if (first && first.models[0]) {
    return [{
      severity: 'warning',
      path: ['Router', 'default'],
      message: `not set: using "${first.name},${first.models[0]}" (the first model of the first provider)`,
    }]
  }
  if (providers.length === 0) return []
  return [{
    severity: 'error',
    path: ['Router', 'default'],
    message: 'is required: no provider lists a model to default to',
  }]
}

function checkFallback(fallback: unknown, providers: readonly ProviderLike[]): Finding[] {
  if (!isPlainObject(fallback)) return []
  return Object.entries(fallback).flatMap(([k, list]): Finding[] => {
    if (!(FALLBACK_KEYS as readonly string[]).includes(k)) {
      return [{
        severity: 'error',
        path: ['fallback', k],
        message: `unknown scenario: expected one of ${FALLBACK_KEYS.join(', ')}`,
      }]
    }
    return Array.isArray(list) ? list.flatMap((t, i) => checkTarget(['fallback', k, i], t, providers)) : []
  })
}

function checkPresets(presets: unknown, providers: readonly ProviderLike[]): Finding[] {
  if (!isPlainObject(presets)) return []
  return Object.entries(presets).flatMap(([name, p]) => {
    if (!isPlainObject(p)) return []
    return [
      ...checkTarget(['Presets', name, 'route'], p.route, providers),
      ...checkRouterLike(['Presets', name], p, providers),
      ...checkRouterLike(['Presets', name, 'Router'], p.Router, providers),
    ]
  })
}

/** Every cross-field finding for a (possibly partly invalid) parsed config file. */
export function checkFile(file: Record<string, unknown>): Finding[] {
  const { key, list } = providersOf(file)
  const providers = known(list)
  const out: Finding[] = []
  if (Array.isArray(file.Providers) && Array.isArray(file.providers)) {
    out.push({ severity: 'error', path: ['providers'], message: 'both Providers and providers are set: keep one' })
  }
  out.push(
    ...checkProviders(key, list),
    ...checkDefault(file.Router, providers),
    ...checkRouterLike(['Router'], file.Router, providers),
  )
  out.push(
    ...checkFallback(file.fallback, providers),
    ...checkPresets(file.Presets, providers),
    ...checkRules(file.Router, providers),
    ...checkKeys(file.Keys),
  )
  const perf = isPlainObject(file.performance) && Array.isArray(file.performance.models) ? file.performance.models : []
  out.push(...perf.flatMap((t, i) => checkTarget(['performance', 'models', i], t, providers)))
  // `Router.experiments[].arms[].target`: checked like every Router target.
  const exps = isPlainObject(file.Router) && Array.isArray(file.Router.experiments) ? file.Router.experiments : []
  out.push(...exps.flatMap((e, i) =>
    (isPlainObject(e) && Array.isArray(e.arms) ? e.arms : [])
      .flatMap((
        a,
        j,
      ) => (isPlainObject(a)
        ? checkTarget(['Router', 'experiments', i, 'arms', j, 'target'], a.target, providers)
        : [])
      )
  ))
  return out
}
