/** Ids and names that must survive a trip between the formats. */

const TOOL_ID_OK = /^[a-zA-Z0-9_-]+$/
/** OpenAI and Anthropic both cap function/tool names at 64 characters. */
export const MAX_TOOL_NAME = 64

/**
 * FNV-1a 32-bit hash as 8 hex digits: deterministic, dependency-free, good enough to keep
 * shortened names and sanitized ids apart (not a security primitive).
 * @example fnv1a('abc') // '1a47e90b'
 */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(16).padStart(8, '0')
}

/**
 * Make a tool id acceptable to Anthropic (`^[a-zA-Z0-9_-]+$`). Valid ids are kept; others get
 * their bad characters replaced plus a hash suffix, so `a:b` and `a.b` stay distinct. The same
 * function is applied to tool_use ids and tool_result ids, so pairs still match.
 * @example sanitizeToolId('functions.Bash:0') // 'functions_Bash_0_…'
 */
export function sanitizeToolId(id: string): string {
  if (TOOL_ID_OK.test(id)) return id
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_')}_${fnv1a(id)}`
}

/**
 * Shorten a tool name over 64 chars (long MCP names) to 55 chars + `_` + an 8-digit hash.
 * @example shortToolName('a'.repeat(70)).length // 64
 */
export function shortToolName(name: string): string {
  return name.length <= MAX_TOOL_NAME ? name : `${name.slice(0, 55)}_${fnv1a(name)}`
}

/** Record `short → original` for every name that had to be shortened. */
export function noteToolName(map: Record<string, string>, name: string): string {
  const short = shortToolName(name)
  if (short !== name) map[short] = name
  return short
}

/** Restore a shortened tool name with the map built while translating the request. */
export function restoreToolName(names: Readonly<Record<string, string>> | undefined, name: string): string {
  return names?.[name] ?? name
}

/** A stable id for our synthesized messages, derived from the request id. */
export function mintId(prefix: string, requestId: string): string {
  const clean = requestId.replace(/[^a-zA-Z0-9_-]/g, '')
  return `${prefix}${clean.length > 0 ? clean : fnv1a(requestId)}`
}

/** Signature we put on thinking blocks that came from an OpenAI upstream (recognisable, never sent to Anthropic). */
export const SYNTHETIC_SIGNATURE_PREFIX = 'switchyard:'

/** A synthetic thinking signature for the given thinking text. */
export function syntheticSignature(thinking: string): string {
  return `${SYNTHETIC_SIGNATURE_PREFIX}${fnv1a(thinking)}`
}
