/**
 * Standardised prompt sets shipped with the project. The text is fixed so results from
 * different days and different targets compare: the same input size and the same task.
 * Each size asks for an answer of a known rough length; `max_tokens` caps it anyway.
 */
import type { JsonObject } from '../formats/types.ts'

export type PromptSize = 'minimal' | 'short' | 'medium' | 'long'

export interface PromptSpec {
  readonly size: PromptSize
  readonly system: string
  readonly user: string
  /** The output length the prompt asks for; the engine caps it with maxTokensPerTest. */
  readonly maxTokens: number
}

const SYSTEM = 'You are a benchmark target. Answer exactly as instructed, without preamble.'

// A fixed paragraph repeated to build larger inputs deterministically (no randomness, no dates).
const PARAGRAPH = 'Switchyard routes each request to one of several upstream language models. It measures ' +
  'how long each upstream takes to send its first token, how fast it streams the rest, and ' +
  'how often it fails, then prefers the targets that are fast and reliable right now. '

const LONG_CONTEXT = Array.from({ length: 24 }, (_, i) => `Section ${i + 1}. ${PARAGRAPH}`).join('\n')

/** The shipped prompt set, by size. */
export const PROMPTS: Readonly<Record<PromptSize, PromptSpec>> = {
  minimal: { size: 'minimal', system: SYSTEM, user: 'Reply with the single word: ok', maxTokens: 8 },
  short: { size: 'short', system: SYSTEM, user: 'Name three primary colours, comma separated.', maxTokens: 32 },
  medium: {
    size: 'medium',
    system: SYSTEM,
    user:
      `${PARAGRAPH}\nWrite a numbered list of ten practical tips for running such a router in production, one sentence each.`,
    maxTokens: 400,
  },
  long: {
    size: 'long',
    system: SYSTEM,
    user: `${LONG_CONTEXT}\nSummarise the document above in about three hundred words.`,
    maxTokens: 600,
  },
}

/** A rough input size in tokens (4 bytes ≈ 1 token), used to reserve budget before sending. */
export function estimatePromptTokens(spec: PromptSpec): number {
  return Math.ceil(new TextEncoder().encode(spec.system + spec.user).length / 4) + 8
}

/**
 * The Anthropic Messages body for a prompt, with `max_tokens` capped at `cap`.
 * @example probeBody(PROMPTS.short, { model: 'p,m', stream: true, cap: 16 }).max_tokens // 16
 */
export function probeBody(spec: PromptSpec, opts: { model: string; stream: boolean; cap: number }): JsonObject {
  return {
    model: opts.model,
    max_tokens: Math.max(1, Math.min(spec.maxTokens, opts.cap)),
    stream: opts.stream,
    temperature: 0,
    system: spec.system,
    messages: [{ role: 'user', content: spec.user }],
    metadata: { user_id: 'switchyard-perf-probe' },
  }
}
