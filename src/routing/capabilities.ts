/**
 * Model capabilities applied to a plan, pure: which targets can serve a request (images need
 * vision, tools need tool calling, the prompt plus its output room must fit the context
 * window), and the output cap a target allows. Capabilities come from config overrides over
 * the shipped catalogue (config/catalogue.ts). What neither knows stays unknown and never
 * filters a target out.
 */
import { catalogueEntry } from '../config/catalogue.ts'
import type { ModelCapabilities, ProviderConfig } from '../config/types.ts'
import type { JsonObject } from '../formats/types.ts'

export type Capability = 'vision' | 'tools' | 'context'

/** What a request needs from the model that serves it. */
export interface Needs {
  readonly hasImages: boolean
  /**
   * Every image is in an earlier turn: a model without vision serves it with them replaced by
   * text (`formats/images.ts`, done by the attempt), rather than being skipped.
   */
  readonly imagesOnlyEarlier?: boolean
  readonly hasTools: boolean
  /** Our estimate of the prompt's tokens. */
  readonly inputTokens: number
  /** The client's output cap, when it set one. */
  readonly maxOutputTokens?: number
}

export interface Skip {
  readonly target: string
  readonly capability: Capability
  /** e.g. `no vision`, `context 128000 < 150000 + 4096`. */
  readonly why: string
}

const memo = new WeakMap<ProviderConfig, Map<string, ModelCapabilities>>()

/**
 * The capabilities of `model` on `provider`: the provider's config entry field by field over
 * the catalogue's row; `{}` (all unknown) for a model neither knows.
 */
export function capabilitiesOf(
  provider: Pick<ProviderConfig, 'modelCapabilities'> & object,
  model: string,
): ModelCapabilities {
  let byModel = memo.get(provider as ProviderConfig)
  if (!byModel) memo.set(provider as ProviderConfig, byModel = new Map())
  let caps = byModel.get(model)
  if (!caps) {
    caps = { ...catalogueEntry(model), ...provider.modelCapabilities?.[model] }
    if (byModel.size >= 1_024) byModel.clear()
    byModel.set(model, caps)
  }
  return caps
}

/** The output room a target must leave: the client's cap, itself capped at the model's limit. */
function outputRoom(needs: Needs, caps: ModelCapabilities): number {
  const asked = needs.maxOutputTokens ?? 0
  return caps.maxOutputTokens === undefined ? asked : Math.min(asked, caps.maxOutputTokens)
}

/** Why this target cannot serve the request, or undefined when it can (or we do not know). */
export function cannotServe(target: string, caps: ModelCapabilities, needs: Needs): Skip | undefined {
  if (needs.hasImages && !needs.imagesOnlyEarlier && caps.vision === false) {
    return { target, capability: 'vision', why: 'no vision' }
  }
  if (needs.hasTools && caps.tools === false) return { target, capability: 'tools', why: 'no tool calling' }
  if (caps.contextWindow !== undefined) {
    const room = outputRoom(needs, caps)
    if (needs.inputTokens + room > caps.contextWindow) {
      return { target, capability: 'context', why: `context ${caps.contextWindow} < ~${needs.inputTokens} + ${room}` }
    }
  }
  return undefined
}

/** Whether every target of `plan` can serve the request (the usual case: nothing to split, nothing built). */
export function servesAll(
  plan: readonly { readonly key: string; readonly provider: ProviderConfig; readonly model: string }[],
  needs: Needs,
): boolean {
  for (const t of plan) if (cannotServe(t.key, capabilitiesOf(t.provider, t.model), needs)) return false
  return true
}

/**
 * Splits a plan into the targets that can serve the request and those skipped, with why.
 * When a target was skipped for its context window and `longContext` (the Router's long-context
 * target) can serve, it moves first: long-context routing by the real windows, not only by
 * `longContextThreshold`.
 */
export function filterByCapabilities<
  T extends { readonly key: string; readonly provider: ProviderConfig; readonly model: string },
>(
  plan: readonly T[],
  needs: Needs,
  longContext?: string,
): { kept: T[]; skipped: Skip[] } {
  const kept: T[] = []
  const skipped: Skip[] = []
  for (const t of plan) {
    const s = cannotServe(t.key, capabilitiesOf(t.provider, t.model), needs)
    if (s) skipped.push(s)
    else kept.push(t)
  }
  const lc = longContext === undefined ? -1 : kept.findIndex((t) => t.key === longContext)
  if (lc > 0 && skipped.some((s) => s.capability === 'context')) kept.unshift(...kept.splice(lc, 1))
  return { kept, skipped }
}

const CAPABILITY_TEXT: Record<Capability, string> = {
  vision: 'vision (the request has images)',
  tools: 'tool calling (the request declares tools)',
  context: 'a larger context window',
}

/** The 400 message when no target can serve: names each missing capability and the targets lacking it. */
export function noTargetMessage(skipped: readonly Skip[]): { message: string; param: Capability } {
  const byCap = new Map<Capability, string[]>()
  for (const s of skipped) byCap.set(s.capability, [...(byCap.get(s.capability) ?? []), `${s.target} (${s.why})`])
  const parts = [...byCap].map(([cap, list]) => `needs ${CAPABILITY_TEXT[cap]}: ${list.join(', ')}`)
  return {
    message: `No configured target can serve this request: ${parts.join('; ')}`,
    param: skipped[0]?.capability ?? 'context',
  }
}

const OUTPUT_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const

/**
 * The upstream body with its output cap lowered to `limit` (any wire format's field, Gemini's
 * `generationConfig.maxOutputTokens` included); the same object when nothing is over it.
 */
export function capOutputTokens(body: JsonObject, limit: number | undefined): JsonObject {
  if (limit === undefined) return body
  let out = body
  for (const f of OUTPUT_FIELDS) {
    const v = out[f]
    if (typeof v === 'number' && v > limit) out = { ...out, [f]: limit }
  }
  const gen = out.generationConfig
  if (typeof gen === 'object' && gen !== null && !Array.isArray(gen)) {
    const v = (gen as JsonObject).maxOutputTokens
    if (typeof v === 'number' && v > limit) out = { ...out, generationConfig: { ...gen, maxOutputTokens: limit } }
  }
  return out
}
