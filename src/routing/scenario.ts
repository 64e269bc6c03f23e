/**
 * CCR 1.x scenario routing (docs/protocols.md §8.4), pure: which Router target serves an
 * Anthropic-shaped request. Order:
 *   explicit `provider,model` → longContext → subagent tag → image → background → webSearch → think → default
 * A scenario whose Router key is unset falls through to the next.
 *
 * Image: CCR's image agent runs BEFORE the router and overrides everything, even an explicit
 * `/model` choice. We keep the two user pins (explicit, subagent) and longContext first (a
 * small vision model cannot take a context that needed the long-context model, so the request
 * would fail outright), then let image win over background/webSearch/think, whose models may
 * be text-only: the user configured Router.image precisely so images reach a model that sees
 * them (CCR's "answers unrelated to the image" reports, #1409).
 */
import type { RouterConfig, Scenario } from '../config/types.ts'
import { messageHasImage } from '../formats/images.ts'
import type { JsonObject } from '../formats/types.ts'
import { asksForThinking } from './features.ts'
import { parseTarget, resolveExplicit, targetKey } from './target.ts'
import type { ProviderNames } from './target.ts'

export interface ScenarioInput {
  /** The Anthropic Messages request body; never mutated. */
  readonly body: JsonObject
  /** Our estimate of the request's input tokens. */
  readonly tokenCount: number
  /**
   * The prompt of the previous answer in this session as its upstream counted it (input, cache
   * read and cache write tokens), when known (see sessionIdOf): CCR's last-usage rule.
   */
  readonly lastPromptTokens?: number
  readonly providers: ProviderNames
  /**
   * Whether the client asked for more reasoning than its default, read from its own body
   * (`asksForThinking`); read from `body` when absent (an Anthropic body is its own).
   */
  readonly thinking?: boolean
}

export interface ScenarioDecision {
  readonly scenario: Scenario
  /** `"provider,model"`. */
  readonly target: string
  /** The body to send on: the input body, or a copy with the subagent tag stripped. */
  readonly body: JsonObject
}

/** CCR's floor for the last-usage longContext rule: a short follow-up in a long session stays put. */
const LAST_USAGE_MIN_TOKENS = 20000

const TAG = /<CCR-SUBAGENT-MODEL>([\s\S]*?)<\/CCR-SUBAGENT-MODEL>/

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Longer is not a session id (Claude Code's are UUIDs): a client cannot fill the session table with large keys. */
export const MAX_SESSION_ID_CHARS = 128

const bounded = (id: string | null | undefined): string | undefined =>
  id !== undefined && id !== null && id !== '' && id.length <= MAX_SESSION_ID_CHARS ? id : undefined

/**
 * The Claude Code session a request belongs to, from `metadata.user_id`: a JSON object text with
 * `session_id` (`{"device_id":…,"account_uuid":…,"session_id":"<uuid>"}`, Claude Code 2.x), or the
 * older `user_<hash>_account__session_<uuid>` that CCR reads (the part after `_session_`).
 */
export function sessionIdOf(body: JsonObject): string | undefined {
  const userId = isObj(body.metadata) ? body.metadata.user_id : undefined
  if (typeof userId !== 'string') return undefined
  return bounded(userId.startsWith('{') ? jsonSessionId(userId) : afterSessionTag(userId))
}

/** The session a `session-id` header names: the Codex CLI sends its thread id so on every turn. */
export const headerSessionId = (value: string | null): string | undefined => bounded(value)

function jsonSessionId(userId: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(userId)
    return isObj(parsed) && typeof parsed.session_id === 'string' ? parsed.session_id : undefined
  } catch {
    return undefined
  }
}

function afterSessionTag(userId: string): string | undefined {
  const i = userId.indexOf('_session_')
  return i < 0 ? undefined : userId.slice(i + '_session_'.length)
}

/**
 * Finds the subagent tag in EVERY system block (CCR only looked at `system[1]`, which broke
 * when Claude Code moved the agent prompt to `system[2]`, #1564) and returns the tagged target
 * with a copy of the body whose tags are removed. The tag is an instruction to us, never to
 * the model, so it is stripped even when another scenario wins.
 */
export function extractSubagent(body: JsonObject): { target?: string; body: JsonObject } {
  // Untagged (nearly every request): no closure, no copy.
  return hasTag(body.system) ? stripTags(body) : { body }
}

function hasTag(system: unknown): boolean {
  if (typeof system === 'string') return TAG.test(system)
  if (!Array.isArray(system)) return false
  for (const b of system) if (isObj(b) && typeof b.text === 'string' && TAG.test(b.text)) return true
  return false
}

function stripTags(body: JsonObject): { target?: string; body: JsonObject } {
  let target: string | undefined
  const strip = (text: string): string =>
    text.replace(new RegExp(TAG.source, 'g'), (_whole, inner: string) => {
      target ??= inner.trim()
      return ''
    })
  const system = body.system
  if (typeof system === 'string') {
    const text = strip(system)
    return { target, body: { ...body, system: text } }
  }
  const blocks = (system as unknown[]).map((
    b,
  ) => (isObj(b) && typeof b.text === 'string' && TAG.test(b.text) ? { ...b, text: strip(b.text) } : b))
  return { target, body: { ...body, system: blocks } }
}

/**
 * Whether the LAST message is a user message with an image, directly or inside a tool_result.
 * `system` messages after it do not count: Claude Code 2.1 ends its messages with one (its
 * environment section), after the user's turn.
 */
export function lastUserHasImage(body: JsonObject): boolean {
  const messages = Array.isArray(body.messages) ? body.messages : []
  let i = messages.length - 1
  while (i >= 0 && isObj(messages[i]) && (messages[i] as JsonObject).role === 'system') i--
  const last: unknown = messages[i]
  return isObj(last) && last.role === 'user' && messageHasImage(last)
}

const usesWebSearch = (body: JsonObject): boolean =>
  Array.isArray(body.tools) &&
  body.tools.some((t) => isObj(t) && typeof t.type === 'string' && t.type.startsWith('web_search'))

const isBackground = (model: string): boolean => /claude/i.test(model) && /haiku/i.test(model)

/**
 * Canonical casing for a target naming a configured provider; otherwise the text as written (the
 * caller 404s). `resolveExplicit` memoises its targets, so each one's key is built once here.
 */
function canonical(target: string, providers: ProviderNames): string {
  const t = resolveExplicit(target, providers)
  if (!t) return target
  let key = keys.get(t)
  if (key === undefined) keys.set(t, key = targetKey(t))
  return key
}

const keys = new WeakMap<object, string>()

const decision = (scenario: Scenario, target: string, body: JsonObject): ScenarioDecision => ({
  scenario,
  target,
  body,
})

function isLongContext(input: ScenarioInput, threshold: number): boolean {
  const last = input.lastPromptTokens ?? 0
  return input.tokenCount > threshold || (last > threshold && input.tokenCount > LAST_USAGE_MIN_TOKENS)
}

/**
 * Picks the scenario and target for a request (CCR order, see the file comment).
 * @example chooseScenario({ body: { model: 'claude-3-5-haiku' }, tokenCount: 10, providers }, router).scenario // 'background'
 */
export function chooseScenario(input: ScenarioInput, router: RouterConfig): ScenarioDecision {
  const model = typeof input.body.model === 'string' ? input.body.model : ''
  const sub = extractSubagent(input.body)
  const body = sub.body
  if (parseTarget(model)) return decision('explicit', canonical(model, input.providers), body)
  if (router.longContext && isLongContext(input, router.longContextThreshold)) {
    return decision('longContext', router.longContext, body)
  }
  if (sub.target && parseTarget(sub.target)) return decision('subagent', canonical(sub.target, input.providers), body)
  // With forceUseImageAgent the image model only describes images (pipeline): the request routes on.
  if (router.image && !router.forceUseImageAgent && lastUserHasImage(body)) return decision('image', router.image, body)
  if (router.background && isBackground(model)) return decision('background', router.background, body)
  if (router.webSearch && usesWebSearch(body)) return decision('webSearch', router.webSearch, body)
  if (router.think && (input.thinking ?? asksForThinking(body))) return decision('think', router.think, body)
  return decision('default', router.default, body)
}
