import type { TransformerUse } from '../../config/types.ts'
import type { JsonObject, TranslateOptions, WireFormatName } from '../types.ts'
import { isObject, num, obj, str } from '../translate/json.ts'
import { capTokens, mergeUnder, withoutKey } from './body.ts'
import { getOwn } from '../../lib/own.ts'
import { tooluseRequest, tooluseResponse } from './tooluse.ts'
import { forceReasoningRequest, forceReasoningResponse } from './forcereasoning.ts'

/** What a transformer sees besides its own options. */
export interface TransformerContext {
  /** The upstream model id. */
  readonly model: string
  /** The body's wire format; `enable_thinking` is only added to OpenAI-format bodies (Anthropic rejects unknown keys). */
  readonly format?: WireFormatName
}

/** A request step; plugin steps (CCR's `async transformRequestIn`) may answer with a Promise. */
export type RequestStep = (
  body: JsonObject,
  options: Readonly<Record<string, unknown>>,
  ctx: TransformerContext,
) => JsonObject | Promise<JsonObject>

/**
 * CCR's `transformResponseOut`: the upstream's answer (JSON or an SSE stream, in the upstream's
 * own format) as a WHATWG Response, before it is translated for the client.
 */
export type ResponseStep = (
  res: Response,
  options: Readonly<Record<string, unknown>>,
  ctx: TransformerContext,
) => Response | Promise<Response>

interface Builtin {
  /** Rewrites the upstream-format body after translation; absent for response-only or marker transformers. */
  readonly request?: RequestStep
  /** Translation switches this transformer turns on. */
  readonly response?: Partial<TranslateOptions>
  /** Rewrites the upstream's answer before translation. */
  readonly responseOut?: ResponseStep
}

/** Thinking budget per OpenAI reasoning_effort (for servers that want a number). */
const BUDGET: Readonly<Record<string, number>> = { minimal: 512, low: 1024, medium: 8192, high: 16384, xhigh: 32000 }

/** CCR's `reasoning`: `enable` (default true) maps reasoning settings onto `enable_thinking` + a thinking budget. */
const reasoning: RequestStep = (body, options, ctx) => {
  const out: JsonObject = { ...body }
  const openai = ctx.format !== 'anthropic'
  if (options.enable === false) {
    delete out.reasoning_effort
    delete out.reasoning
    out.thinking = { type: 'disabled' }
    if (openai) out.enable_thinking = false
    return out
  }
  const effort = str(out.reasoning_effort) ?? str(obj(out.reasoning).effort)
  const budget = num(obj(out.thinking).budget_tokens) ?? num(obj(out.reasoning).max_tokens) ??
    (effort ? getOwn(BUDGET, effort) : undefined)
  if (budget === undefined) return out
  out.thinking = { type: 'enabled', budget_tokens: budget }
  if (openai) out.enable_thinking = true
  return out
}

const isClaude = (model: string): boolean => model.toLowerCase().includes('claude')

/** CCR's `openrouter`: cache_control only reaches Claude models; options (e.g. `provider`) merge into the body. */
const openrouter: RequestStep = (body, options, ctx) => {
  const base = isClaude(ctx.model) ? body : (withoutKey(body, 'cache_control') as JsonObject)
  return { ...base, ...options }
}

/** CCR's `sampling`: cap max_tokens, force the given sampling parameters. */
const sampling: RequestStep = (body, options) => {
  const out = capTokens(body, options.max_tokens)
  for (const k of ['temperature', 'top_p', 'top_k', 'repetition_penalty']) {
    if (options[k] !== undefined) out[k] = options[k]
  }
  return out
}

/** What the OpenAI-format body may carry to ask for reasoning (the hub's mapping, and OpenRouter's). */
const REASONING_KEYS = ['reasoning', 'reasoning_effort', 'thinking', 'enable_thinking'] as const

/**
 * CCR 2.0's `cerebras`: Cerebras takes none of the reasoning fields, so a request that asks for
 * reasoning goes without them; one that does not says `disable_reasoning: false`, as CCR sends it.
 */
const cerebras: RequestStep = (body) => {
  if (!REASONING_KEYS.some((k) => body[k] !== undefined)) return { ...body, disable_reasoning: false }
  const out = { ...body }
  for (const k of REASONING_KEYS) delete out[k]
  return out
}

const renameMaxTokens: RequestStep = (body) => {
  if (body.max_tokens === undefined) return body
  const { max_tokens, ...rest } = body
  return { ...rest, max_completion_tokens: max_tokens }
}

/** CCR built-ins, by their exact (case-sensitive) names. */
const BUILTINS: Readonly<Record<string, Builtin>> = {
  Anthropic: {},
  OpenAI: {},
  // Format markers: the provider speaks the Gemini API or the OpenAI Responses API.
  gemini: {},
  // Vertex AI (config/vertex.ts): the format and Google auth; the URL and a Claude body's fields are set per call (proxy/vertex.ts).
  'vertex-gemini': {},
  'vertex-claude': {},
  'vertex-openai': {},
  'openai-responses': {},
  deepseek: { request: (b) => capTokens(b, 8192), response: { roundTripReasoning: true } },
  openrouter: { request: openrouter },
  groq: { request: (b) => withoutKey(withoutKey(b, 'cache_control'), '$schema') as JsonObject },
  cerebras: { request: cerebras },
  // CCR 2.0's Vercel AI Gateway: cache_control only reaches Claude models (its image_url fix-up
  // is what the translators already send: data URLs with their media type).
  vercel: { request: (b, _o, ctx) => (isClaude(ctx.model) ? b : (withoutKey(b, 'cache_control') as JsonObject)) },
  maxtoken: { request: (b, o) => capTokens(b, o.max_tokens) },
  cleancache: { request: (b) => withoutKey(b, 'cache_control') as JsonObject },
  reasoning: { request: reasoning, response: { roundTripReasoning: true } },
  enhancetool: { response: { repairToolArgs: true } },
  maxcompletiontokens: { request: renameMaxTokens },
  streamoptions: {
    request: (
      b,
    ) => (b.stream === true ? { ...b, stream_options: { ...obj(b.stream_options), include_usage: true } } : b),
  },
  sampling: { request: sampling },
  customparams: { request: (b, o) => mergeUnder(b, o) },
  // Leading think tags are always parsed by the translators; the name stays valid for CCR configs.
  extrathinktag: {},
  tooluse: { request: tooluseRequest, responseOut: tooluseResponse },
  forcereasoning: {
    request: forceReasoningRequest,
    responseOut: forceReasoningResponse,
    response: { roundTripReasoning: true },
  },
}

/** Transformers loaded from `transformers: [{path}]` plugins (src/plugins/transformers.ts); a plugin overrides a built-in of the same name. */
const PLUGINS = new Map<string, Builtin>()

/** Bumped whenever a plugin is registered or removed: what a chain does may have changed (`transformerGeneration`). */
let generation = 0

/** Changes whenever the registered plugins change, so a caller may keep what it derived from a chain until then. */
export const transformerGeneration = (): number => generation

/** Registers a plugin transformer's steps under `name`, replacing any earlier one. */
export function registerTransformer(name: string, request: RequestStep, responseOut?: ResponseStep): void {
  PLUGINS.set(name, responseOut ? { request, responseOut } : { request })
  generation++
}

/** Removes a registered plugin (instance close, or a test); with `request`, only if that step is still the one registered (a reload may have replaced it). */
export function unregisterTransformer(name: string, request?: RequestStep): void {
  if (request === undefined || PLUGINS.get(name)?.request === request) PLUGINS.delete(name)
  generation++
}

const lookup = (name: string): Builtin | undefined =>
  PLUGINS.get(name) ?? (Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined)

/** Whether any transformer of `uses` rewrites the request body (a marker like `Anthropic` does not). */
export function rewritesRequests(uses: readonly TransformerUse[]): boolean {
  return uses.some((u) => lookup(u.name)?.request !== undefined)
}

/** Whether a chain runs a plugin's request step (user code, which may change the body in place). */
export function pluginRewritesRequests(uses: readonly TransformerUse[]): boolean {
  return uses.some((u) => PLUGINS.get(u.name)?.request !== undefined)
}

/** Whether `name` is a transformer we implement or a plugin registered (names are case-sensitive, as in CCR). */
export function knownTransformer(name: string): boolean {
  return PLUGINS.has(name) || Object.hasOwn(BUILTINS, name)
}

/** The names of every built-in transformer. */
export function transformerNames(): readonly string[] {
  return Object.keys(BUILTINS)
}

/**
 * Run the request side of a transformer chain, in order, on the upstream-format body.
 * Unknown names are skipped (config loading reports them). The input body is not mutated.
 * @example applyRequestTransformers({ max_tokens: 32000 }, [{ name: 'deepseek', options: {} }], { model: 'deepseek-chat' })
 * // { max_tokens: 8192 }
 */
export function applyRequestTransformers(
  body: JsonObject,
  uses: readonly TransformerUse[],
  ctx: TransformerContext,
): JsonObject {
  let out = body
  for (const use of uses) {
    const step = lookup(use.name)?.request
    const next = step ? step(out, isObject(use.options) ? use.options : {}, ctx) : out
    // Synchronous callers cannot wait for an async plugin: its result is skipped here (see the async variant).
    if (!isThenable(next)) out = next
  }
  return out
}

/** The same chain, waiting for plugin steps that answer with a Promise (what the pipeline calls). */
export async function applyRequestTransformersAsync(
  body: JsonObject,
  uses: readonly TransformerUse[],
  ctx: TransformerContext,
): Promise<JsonObject> {
  let out = body
  for (const use of uses) {
    const step = lookup(use.name)?.request
    if (step) out = await step(out, isObject(use.options) ? use.options : {}, ctx)
  }
  return out
}

/**
 * The response side of a target's chains, in CCR's order: the provider's transformers last to
 * first, then the model's last to first. Undefined when none of them has one.
 */
export function responseOutOf(
  provider: readonly TransformerUse[],
  model: readonly TransformerUse[],
  ctx: TransformerContext,
): ((res: Response) => Promise<Response>) | undefined {
  const steps = [...provider].reverse().concat([...model].reverse())
    .map((use) => ({ step: lookup(use.name)?.responseOut, options: isObject(use.options) ? use.options : {} }))
    .filter((s): s is { step: ResponseStep; options: Readonly<Record<string, unknown>> } => s.step !== undefined)
  if (steps.length === 0) return undefined
  return async (res) => {
    let out = res
    for (const s of steps) out = await s.step(out, s.options, ctx)
    return out
  }
}

/** Whether a hook answered with a Promise (plugin transformers may be async). */
export const isThenable = (v: unknown): v is Promise<unknown> =>
  typeof (v as { then?: unknown } | null)?.then === 'function'

/**
 * Translation switches turned on by a chain (spread them into the TranslateContext):
 * `enhancetool` → repairToolArgs; `deepseek` / `reasoning` → roundTripReasoning.
 */
export function responseOptions(uses: readonly TransformerUse[]): TranslateOptions {
  const opts = { repairToolArgs: false, roundTripReasoning: false, thinkingStartsOpen: false }
  for (const use of uses) {
    const r = lookup(use.name)?.response
    if (r) Object.assign(opts, Object.fromEntries(Object.entries(r).filter(([, v]) => v === true)))
  }
  return opts
}
