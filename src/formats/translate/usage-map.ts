import type { JsonObject, Usage } from '../types.ts'
import { num, obj } from './json.ts'

/** Usage from an Anthropic `usage` object (fields missing → 0). Undefined when it is not an object. */
export function usageOfAnthropic(u: unknown): Usage | undefined {
  if (typeof u !== 'object' || u === null) return undefined
  const o = obj(u)
  return withReasoning({
    inputTokens: num(o.input_tokens) ?? 0,
    outputTokens: num(o.output_tokens) ?? 0,
    cacheReadTokens: num(o.cache_read_input_tokens) ?? 0,
    cacheCreationTokens: num(o.cache_creation_input_tokens) ?? 0,
  }, num(obj(o.output_tokens_details).thinking_tokens))
}

/** `u` with its reasoning-token count when one above zero is known (`Usage.reasoningTokens`). */
export function withReasoning(u: Usage, reasoningTokens: number | undefined): Usage {
  return reasoningTokens !== undefined && reasoningTokens > 0 ? { ...u, reasoningTokens } : u
}

/** The hub's usage extension for a reasoning-token count: `output_tokens_details.thinking_tokens`. */
export function withThinkingTokens(usage: JsonObject, n: number | undefined): JsonObject {
  return n === undefined ? usage : { ...usage, output_tokens_details: { thinking_tokens: n } }
}

/**
 * Usage from an OpenAI `usage` object (§4.5): prompt_tokens includes cached tokens, so the
 * cached and cache-write counts are taken out of input. DeepSeek's prompt_cache_hit_tokens is read too.
 * OpenAI-compatible servers that name usage the Anthropic way (`input_tokens`, `output_tokens`,
 * `cache_read_input_tokens`, `cache_creation_input_tokens`, as ccr-rust reads them too) are
 * read with Anthropic's meaning when the OpenAI names are absent.
 * @example usageOfOpenAI({ prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 4 } })
 * // { inputTokens: 6, outputTokens: 2, cacheReadTokens: 4, cacheCreationTokens: 0 }
 */
export function usageOfOpenAI(u: unknown): Usage | undefined {
  if (typeof u !== 'object' || u === null) return undefined
  const o = obj(u)
  const prompt = num(o.prompt_tokens)
  const outputTokens = num(o.completion_tokens) ?? num(o.output_tokens) ?? 0
  const reasoning = num(obj(o.completion_tokens_details).reasoning_tokens)
  if (prompt === undefined && num(o.input_tokens) !== undefined) {
    return withReasoning({ ...usageOfAnthropic(o)!, outputTokens }, reasoning)
  }
  const details = obj(o.prompt_tokens_details)
  const cacheRead = num(details.cached_tokens) ?? num(o.prompt_cache_hit_tokens) ?? 0
  const cacheWrite = num(details.cache_write_tokens) ?? 0
  return withReasoning({
    inputTokens: Math.max((prompt ?? 0) - cacheRead - cacheWrite, 0),
    outputTokens,
    cacheReadTokens: cacheRead,
    cacheCreationTokens: cacheWrite,
  }, reasoning)
}

/** Anthropic `usage` body for a Usage. */
export function anthropicUsageBody(u: Usage): JsonObject {
  return {
    input_tokens: u.inputTokens,
    cache_creation_input_tokens: u.cacheCreationTokens,
    cache_read_input_tokens: u.cacheReadTokens,
    output_tokens: u.outputTokens,
  }
}

/** OpenAI `usage` body for a Usage; `reasoningTokens` comes from Anthropic's thinking_tokens when known. */
export function openaiUsageBody(u: Usage, reasoningTokens = u.reasoningTokens ?? 0): JsonObject {
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, cache_write_tokens: u.cacheCreationTokens },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  }
}

/**
 * Apply a message_delta `usage`: it is cumulative and may update input/cache counts, so the
 * fields it carries replace the previous ones.
 */
export function mergeAnthropicUsage(prev: Usage | undefined, u: JsonObject): Usage {
  const base = prev ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }
  return withReasoning({
    inputTokens: num(u.input_tokens) ?? base.inputTokens,
    outputTokens: num(u.output_tokens) ?? base.outputTokens,
    cacheReadTokens: num(u.cache_read_input_tokens) ?? base.cacheReadTokens,
    cacheCreationTokens: num(u.cache_creation_input_tokens) ?? base.cacheCreationTokens,
  }, num(obj(u.output_tokens_details).thinking_tokens) ?? base.reasoningTokens)
}
