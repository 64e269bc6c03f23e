/**
 * Pre-request input-token estimate with cl100k_base (the encoding CCR and ccr-rust use), broken
 * down by component, memoised per content block, plus a long-context decision that skips
 * tokenizing when byte bounds already settle it. Rules are documented in docs/tokens.md.
 */
import type { JsonObject } from '../formats/types.ts'
import type { TokenCache } from './cache.ts'
import { countCl100k } from './cl100k.ts'
import { isOnePiece, pieceEnd } from './pieces.ts'
import { walkBody } from './walk.ts'
import type { TokenComponent } from './walk.ts'

export interface TokenEstimate {
  readonly total: number
  readonly messages: number
  readonly system: number
  readonly tools: number
  readonly images: number
  readonly thinking: number
}

export interface LongContextDecision {
  /** True when the estimate is strictly above the threshold (CCR's `tokenCount > threshold`). */
  readonly over: boolean
  /** The exact estimate when `exact`, else the bound that proved the decision. */
  readonly tokens: number
  readonly exact: boolean
}

/**
 * The longest cl100k_base token is 128 bytes (a run of spaces), so a text of `b` UTF-8 bytes
 * has at least `ceil(b / 128)` tokens, and at most `b` since every token is at least one byte.
 * Those are the only bounds that hold for any input; "4 bytes per token" is an average, not a bound.
 */
export const MAX_TOKEN_BYTES = 128

/**
 * cl100k_base token count of `text`, with special-token strings (e.g. "<|endoftext|>") treated
 * as plain text, in time linear in its length (long runs are cut, see pieces.ts). The counter
 * is cl100k.ts (a compact rank table), not gpt-tokenizer's.
 */
export function countText(text: string): number {
  if (text.length === 0) return 0
  if (isOnePiece(text)) return countCl100k(text)
  return countPieces(text, () => false) ?? 0
}

/** Sum of the pieces' counts, or undefined as soon as `over()` says time is up. */
function countPieces(text: string, over: () => boolean): number | undefined {
  let n = 0
  for (let start = 0; start < text.length;) {
    if (over()) return undefined
    const end = pieceEnd(text, start)
    n += countCl100k(text.slice(start, end))
    start = end
  }
  return n
}

/**
 * Bytes per token assumed for text left uncounted when the time budget runs out (the common
 * rule of thumb for English; only hostile or enormous requests ever see it).
 */
export const APPROX_BYTES_PER_TOKEN = 4

/** A time budget for one estimate: `now` is injected so this module never reads the clock. */
export interface EstimateBudget {
  readonly now: () => number
  /** Milliseconds of tokenizing allowed; past them the rest is estimated from its byte length. */
  readonly ms: number
}

/** UTF-8 length of a string without allocating (lone surrogates count 3, like TextEncoder's U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/**
 * Estimate the input tokens of a request body (Anthropic or OpenAI shape). With a `budget`, the
 * tokenizing stops when it is spent and the rest is estimated from byte lengths, so one request
 * can hold the event loop for about `budget.ms` at most.
 * @example estimateTokens({ messages: [{ role: 'user', content: 'hi' }] }).total // 7
 */
export function estimateTokens(body: JsonObject, cache?: TokenCache, budget?: EstimateBudget): TokenEstimate {
  const acc = { messages: 0, system: 0, tools: 0, images: 0, thinking: 0 }
  const counter = budget === undefined ? undefined : budgetedCounter(budget)
  const count = counter === undefined ? countText : counter.count
  walkBody(body, {
    text(component: TokenComponent, text: string): void {
      acc[component] += cache === undefined ? count(text) : cache.get(text, count)
      if (counter !== undefined && !counter.exact) cache?.forget(text)
    },
    fixed(component: TokenComponent, tokens: number): void {
      acc[component] += tokens
    },
  })
  const total = acc.messages + acc.system + acc.tools + acc.images + acc.thinking
  return { total, ...acc }
}

interface BudgetedCounter {
  readonly count: (text: string) => number
  /** Whether the last count was exact (not estimated from bytes after the budget ran out). */
  exact: boolean
}

/**
 * A counter that stops tokenizing once the budget is spent: from then on text counts
 * `ceil(bytes / APPROX_BYTES_PER_TOKEN)`, and such counts are never memoised.
 */
function budgetedCounter(budget: EstimateBudget): BudgetedCounter {
  const deadline = budget.now() + budget.ms
  let spent = false
  const over = (): boolean => spent || (spent = budget.now() > deadline)
  const c: BudgetedCounter = {
    exact: true,
    count(text: string): number {
      c.exact = true
      if (text.length === 0) return 0
      const n = over() ? undefined : isOnePiece(text) ? countCl100k(text) : countPieces(text, over)
      if (n !== undefined) return n
      c.exact = false
      return Math.ceil(utf8Length(text) / APPROX_BYTES_PER_TOKEN)
    },
  }
  return c
}

interface Bounds {
  known: number
  lower: number
  upper: number
  pending: string[]
}

function boundsOf(body: JsonObject, cache: TokenCache | undefined): Bounds {
  const b: Bounds = { known: 0, lower: 0, upper: 0, pending: [] }
  walkBody(body, {
    text(_c: TokenComponent, text: string): void {
      const hit = cache?.peek(text)
      if (hit !== undefined) b.known += hit
      else if (text.length > 0) {
        const bytes = utf8Length(text)
        b.lower += Math.ceil(bytes / MAX_TOKEN_BYTES)
        b.upper += bytes
        b.pending.push(text)
      }
    },
    fixed(_c: TokenComponent, tokens: number): void {
      b.known += tokens
    },
  })
  return b
}

/**
 * Whether the estimate exceeds `threshold`, decided from cached counts and byte bounds only:
 * `true`/`false` when certain, `undefined` when only exact counting can tell. Never tokenizes.
 */
export function exceedsThreshold(body: JsonObject, threshold: number, cache?: TokenCache): boolean | undefined {
  const b = boundsOf(body, cache)
  if (b.known + b.lower > threshold) return true
  if (b.known + b.upper <= threshold) return false
  return undefined
}

/**
 * The long-context decision: settled by bounds when they are conclusive, else by counting only
 * the blocks the cache does not know (which are then memoised).
 */
export function longContextDecision(body: JsonObject, threshold: number, cache?: TokenCache): LongContextDecision {
  const b = boundsOf(body, cache)
  const exact = b.pending.length === 0
  if (b.known + b.lower > threshold) return { over: true, tokens: b.known + b.lower, exact }
  if (b.known + b.upper <= threshold) return { over: false, tokens: b.known + b.upper, exact }
  let tokens = b.known
  for (const text of b.pending) tokens += cache === undefined ? countText(text) : cache.get(text, countText)
  return { over: tokens > threshold, tokens, exact: true }
}
