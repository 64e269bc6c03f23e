/**
 * The facts about a request that rules and capability filters look at, read from any client
 * format's body: Anthropic Messages, OpenAI Chat Completions, and the Responses and Gemini
 * shapes (`input`, `contents`). Pure and shallow: it never walks more than the messages' parts.
 */
import type { JsonObject } from '../formats/types.ts'
import { imagePlaces, messageHasImage } from '../formats/images.ts'

export interface RequestFeatures {
  /** Declares tools the model may call (web search included). */
  readonly hasTools: boolean
  /** Any message carries an image. */
  readonly hasImages: boolean
  /** Every image is in a turn before the last user turn (a text-only model can take it without them). */
  readonly imagesOnlyEarlier?: boolean
  /** Asks for more reasoning than its client's default (`asksForThinking`). */
  readonly thinking: boolean
  readonly stream: boolean
  /** The client's output cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`, Gemini `maxOutputTokens`). */
  readonly maxOutputTokens?: number
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

const messagesHaveImage = (list: unknown): boolean => Array.isArray(list) && list.some(messageHasImage)

/** Reasoning efforts above the agents' default (`medium`: Claude Code 2.x, the Codex CLI). */
const HIGH_EFFORTS: ReadonlySet<unknown> = new Set(['high', 'xhigh', 'max'])
/** A Gemini thinking budget that asks for more than the Gemini CLI's default 8,192 (the hub's budget for `high`). */
const HIGH_GEMINI_BUDGET = 16_384

/**
 * Whether a request, in its client's own format, asks for more reasoning than its client sends
 * by default: CCR's think scenario and the rules' `thinking`. The agents now send some thinking
 * setting on every request (Claude Code 2.x `thinking: {type: "adaptive"}` with
 * `output_config.effort: "medium"`, the Codex CLI `reasoning.effort: "medium"`, the Gemini CLI a
 * `thinkingBudget` of 8,192 or Gemini 3's default level), so "any thinking field" would be every
 * request. Asking is: Anthropic `thinking.type: "enabled"` (a budget, as Claude Code 1.x asked
 * when told to think) or `adaptive` at effort `high`, `xhigh` or `max`; an OpenAI or Responses
 * effort of `high` or `xhigh`, or OpenRouter's `reasoning.enabled` / `max_tokens` without one;
 * a Gemini `thinkingBudget` of 16,384 or more.
 */
export function asksForThinking(body: JsonObject): boolean {
  const t = body.thinking
  if (isObj(t)) {
    if (t.type === 'enabled') return true
    return t.type === 'adaptive' && isObj(body.output_config) && HIGH_EFFORTS.has(body.output_config.effort)
  }
  if (t !== undefined && t !== null) return t !== false
  if (body.reasoning_effort !== undefined) return HIGH_EFFORTS.has(body.reasoning_effort)
  if (isObj(body.reasoning)) {
    const r = body.reasoning
    if (r.enabled === false) return false
    if (r.effort !== undefined) return HIGH_EFFORTS.has(r.effort)
    return r.enabled === true || (typeof r.max_tokens === 'number' && r.max_tokens > 0)
  }
  const gen = isObj(body.generationConfig) ? body.generationConfig : undefined
  const tc = gen && isObj(gen.thinkingConfig) ? gen.thinkingConfig : undefined
  return typeof tc?.thinkingBudget === 'number' && tc.thinkingBudget >= HIGH_GEMINI_BUDGET
}

function maxOutputOf(body: JsonObject): number | undefined {
  const gen = isObj(body.generationConfig) ? body.generationConfig : undefined
  for (const v of [body.max_tokens, body.max_completion_tokens, body.max_output_tokens, gen?.maxOutputTokens]) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v
  }
  return undefined
}

/**
 * `thinking` is read from the client's own body where `body` is a translation of it (the
 * hub's thinking budget does not say whether the client asked for more than its default).
 * @example requestFeatures({ model: 'x', messages: [], tools: [{ name: 't' }] }).hasTools // true
 */
export function requestFeatures(body: JsonObject, thinking = asksForThinking(body)): RequestFeatures {
  const tools = Array.isArray(body.tools) ? body.tools : Array.isArray(body.functions) ? body.functions : []
  const max = maxOutputOf(body)
  const hasImages = messagesHaveImage(body.messages) || messagesHaveImage(body.input) ||
    messagesHaveImage(body.contents)
  return {
    hasTools: tools.length > 0,
    hasImages,
    ...(hasImages && !imagePlaces(body).last ? { imagesOnlyEarlier: true } : {}),
    thinking,
    stream: body.stream === true,
    ...(max === undefined ? {} : { maxOutputTokens: max }),
  }
}
