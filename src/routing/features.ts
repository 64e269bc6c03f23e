/**
 * The facts about a request that rules and capability filters look at, read from any client
 * format's body: Anthropic Messages, OpenAI Chat Completions, and the Responses and Gemini
 * shapes (`input`, `contents`). Pure and shallow: it never walks more than the messages' parts.
 */
import type { JsonObject } from '../formats/types.ts'

export interface RequestFeatures {
  /** Declares tools the model may call (web search included). */
  readonly hasTools: boolean
  /** Any message carries an image. */
  readonly hasImages: boolean
  /** Asks for extended thinking / reasoning. */
  readonly thinking: boolean
  readonly stream: boolean
  /** The client's output cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`, Gemini `maxOutputTokens`). */
  readonly maxOutputTokens?: number
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const IMAGE_TYPES = new Set(['image', 'image_url', 'input_image'])

function partIsImage(p: unknown): boolean {
  if (!isObj(p)) return false
  if (typeof p.type === 'string' && IMAGE_TYPES.has(p.type)) return true
  // Gemini parts: { inlineData: { mimeType: 'image/png' } } or { fileData: { mimeType } }.
  const data = isObj(p.inlineData) ? p.inlineData : isObj(p.fileData) ? p.fileData : undefined
  if (data && typeof data.mimeType === 'string' && data.mimeType.startsWith('image/')) return true
  // Anthropic tool results may carry images.
  return p.type === 'tool_result' && Array.isArray(p.content) && p.content.some(partIsImage)
}

function messagesHaveImage(list: unknown): boolean {
  if (!Array.isArray(list)) return false
  return list.some((m) => {
    if (!isObj(m)) return false
    if (partIsImage(m)) return true
    const parts = Array.isArray(m.content) ? m.content : Array.isArray(m.parts) ? m.parts : []
    return parts.some(partIsImage)
  })
}

function wantsThinking(body: JsonObject): boolean {
  const t = body.thinking
  if (t !== undefined && t !== null && t !== false) return !(isObj(t) && t.type === 'disabled')
  if (typeof body.reasoning_effort === 'string' && body.reasoning_effort !== 'none') return true
  if (isObj(body.reasoning) && (body.reasoning.effort === undefined || body.reasoning.effort !== 'none')) {
    return body.reasoning.enabled !== false
  }
  const gen = isObj(body.generationConfig) ? body.generationConfig : undefined
  const tc = gen && isObj(gen.thinkingConfig) ? gen.thinkingConfig : undefined
  return tc !== undefined && tc.thinkingBudget !== 0
}

function maxOutputOf(body: JsonObject): number | undefined {
  const gen = isObj(body.generationConfig) ? body.generationConfig : undefined
  for (const v of [body.max_tokens, body.max_completion_tokens, body.max_output_tokens, gen?.maxOutputTokens]) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v
  }
  return undefined
}

/**
 * @example requestFeatures({ model: 'x', messages: [], tools: [{ name: 't' }] }).hasTools // true
 */
export function requestFeatures(body: JsonObject): RequestFeatures {
  const tools = Array.isArray(body.tools) ? body.tools : Array.isArray(body.functions) ? body.functions : []
  const max = maxOutputOf(body)
  return {
    hasTools: tools.length > 0,
    hasImages: messagesHaveImage(body.messages) || messagesHaveImage(body.input) || messagesHaveImage(body.contents),
    thinking: wantsThinking(body),
    stream: body.stream === true,
    ...(max === undefined ? {} : { maxOutputTokens: max }),
  }
}
