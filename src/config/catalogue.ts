/**
 * The shipped model capability catalogue: context window, maximum output tokens, image input,
 * tool calling, reasoning / extended thinking, prompt caching and list prices (USD per million
 * tokens, standard tier, no batch or long-context surcharge) of well-known models.
 *
 * Compiled 2026-11-30 from the vendors' published model and pricing pages (Anthropic, OpenAI,
 * Google Gemini API, DeepSeek); it covers models announced up to late 2025. A field left out
 * is not known with confidence and stays unknown: it is never assumed. Anything newer, or any correction, goes in config as a
 * `Providers[].models` object (docs/routing-rules.md), which overrides this table.
 *
 * Keys are canonical ids: lower case, no vendor prefix, no date or `-latest` suffix
 * (`canonicalModelId` below normalises `anthropic/claude-sonnet-4-5-20250929` to `claude-sonnet-4-5`).
 */
import type { ModelCapabilities } from './types.ts'

type Row = ModelCapabilities

const claude = (
  contextWindow: number,
  maxOutputTokens: number,
  inputPerMillion: number,
  outputPerMillion: number,
  reasoning: boolean,
): Row => ({
  contextWindow,
  maxOutputTokens,
  vision: true,
  tools: true,
  reasoning,
  promptCaching: true,
  inputPerMillion,
  outputPerMillion,
})

const GPT41_CONTEXT = 1_047_576
const GEMINI_CONTEXT = 1_048_576

export const CATALOGUE_COMPILED = '2026-11-30'

export const CATALOGUE: Readonly<Record<string, Row>> = {
  // Anthropic (docs.anthropic.com "Models overview" and pricing).
  'claude-opus-4-5': claude(200_000, 64_000, 5, 25, true),
  'claude-opus-4-1': claude(200_000, 32_000, 15, 75, true),
  'claude-opus-4': claude(200_000, 32_000, 15, 75, true),
  'claude-sonnet-4-5': claude(200_000, 64_000, 3, 15, true),
  'claude-sonnet-4': claude(200_000, 64_000, 3, 15, true),
  'claude-haiku-4-5': claude(200_000, 64_000, 1, 5, true),
  'claude-3-7-sonnet': claude(200_000, 64_000, 3, 15, true),
  'claude-3-5-sonnet': claude(200_000, 8_192, 3, 15, false),
  // Launched text-only; image input status differs between sources: left unknown.
  'claude-3-5-haiku': {
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 0.8,
    outputPerMillion: 4,
  },
  'claude-3-opus': claude(200_000, 4_096, 15, 75, false),
  'claude-3-haiku': claude(200_000, 4_096, 0.25, 1.25, false),

  // OpenAI (platform.openai.com model pages and pricing).
  'gpt-5': {
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 1.25,
    outputPerMillion: 10,
  },
  'gpt-5-mini': {
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 0.25,
    outputPerMillion: 2,
  },
  'gpt-5-nano': {
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 0.05,
    outputPerMillion: 0.4,
  },
  'gpt-4.1': {
    contextWindow: GPT41_CONTEXT,
    maxOutputTokens: 32_768,
    vision: true,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 2,
    outputPerMillion: 8,
  },
  'gpt-4.1-mini': {
    contextWindow: GPT41_CONTEXT,
    maxOutputTokens: 32_768,
    vision: true,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 0.4,
    outputPerMillion: 1.6,
  },
  'gpt-4.1-nano': {
    contextWindow: GPT41_CONTEXT,
    maxOutputTokens: 32_768,
    vision: true,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 0.1,
    outputPerMillion: 0.4,
  },
  'gpt-4o': {
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    vision: true,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 2.5,
    outputPerMillion: 10,
  },
  'gpt-4o-mini': {
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    vision: true,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 0.15,
    outputPerMillion: 0.6,
  },
  'gpt-4-turbo': {
    contextWindow: 128_000,
    maxOutputTokens: 4_096,
    vision: true,
    tools: true,
    reasoning: false,
    inputPerMillion: 10,
    outputPerMillion: 30,
  },
  'gpt-3.5-turbo': {
    contextWindow: 16_385,
    maxOutputTokens: 4_096,
    vision: false,
    tools: true,
    reasoning: false,
    inputPerMillion: 0.5,
    outputPerMillion: 1.5,
  },
  'o3': {
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 2,
    outputPerMillion: 8,
  },
  'o3-mini': {
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    vision: false,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 1.1,
    outputPerMillion: 4.4,
  },
  'o4-mini': {
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 1.1,
    outputPerMillion: 4.4,
  },
  'o1': {
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 15,
    outputPerMillion: 60,
  },

  // Google Gemini API (ai.google.dev models and pricing; prices for prompts up to 200k tokens).
  'gemini-2.5-pro': {
    contextWindow: GEMINI_CONTEXT,
    maxOutputTokens: 65_536,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 1.25,
    outputPerMillion: 10,
  },
  'gemini-2.5-flash': {
    contextWindow: GEMINI_CONTEXT,
    maxOutputTokens: 65_536,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 0.3,
    outputPerMillion: 2.5,
  },
  'gemini-2.5-flash-lite': {
    contextWindow: GEMINI_CONTEXT,
    maxOutputTokens: 65_536,
    vision: true,
    tools: true,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 0.1,
    outputPerMillion: 0.4,
  },
  'gemini-2.0-flash': {
    contextWindow: GEMINI_CONTEXT,
    maxOutputTokens: 8_192,
    vision: true,
    tools: true,
    reasoning: false,
    inputPerMillion: 0.1,
    outputPerMillion: 0.4,
  },
  'gemini-1.5-pro': { contextWindow: 2_097_152, maxOutputTokens: 8_192, vision: true, tools: true, reasoning: false },
  'gemini-1.5-flash': {
    contextWindow: GEMINI_CONTEXT,
    maxOutputTokens: 8_192,
    vision: true,
    tools: true,
    reasoning: false,
  },

  // DeepSeek API (api-docs.deepseek.com, V3.2 pricing; cache-miss input price).
  'deepseek-chat': {
    contextWindow: 128_000,
    maxOutputTokens: 8_192,
    vision: false,
    tools: true,
    reasoning: false,
    promptCaching: true,
    inputPerMillion: 0.28,
    outputPerMillion: 0.42,
  },
  'deepseek-reasoner': {
    contextWindow: 128_000,
    maxOutputTokens: 65_536,
    vision: false,
    reasoning: true,
    promptCaching: true,
    inputPerMillion: 0.28,
    outputPerMillion: 0.42,
  },
}

const DATE_OR_TAG =
  /-(\d{8}|\d{3}|\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{4}|latest|v\d+(:\d+)?|preview(-[\w-]*)?|exp(-[\w-]*)?)$/

/**
 * The catalogue key of a model id: lower case, without a vendor prefix (`anthropic/`,
 * `us.anthropic.`, `models/`) and without date, version or `-latest` / `-preview` tails.
 * @example canonicalModelId('anthropic/claude-sonnet-4-5-20250929') // 'claude-sonnet-4-5'
 */
export function canonicalModelId(model: string): string {
  let id = model.trim().toLowerCase()
  id = id.slice(id.lastIndexOf('/') + 1).replace(/^(?:[a-z]{2}\.)?anthropic\./, '').replace(/@.*$/, '')
  for (let prev = ''; prev !== id;) {
    prev = id
    id = id.replace(DATE_OR_TAG, '')
  }
  return id
}

const memo = new Map<string, ModelCapabilities | undefined>()

/** The shipped capabilities of a model id, or undefined when the catalogue does not know it. */
export function catalogueEntry(model: string): ModelCapabilities | undefined {
  if (memo.has(model)) return memo.get(model)
  const row = CATALOGUE[canonicalModelId(model)]
  // Model ids come from clients (`provider,anything`): keep the memo bounded.
  if (memo.size >= 1_024) memo.clear()
  memo.set(model, row)
  return row
}
