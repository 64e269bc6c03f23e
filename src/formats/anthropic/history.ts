import type { JsonObject } from '../types.ts'
import { SYNTHETIC_SIGNATURE_PREFIX } from '../translate/ids.ts'
import { arr, isObject, obj, str } from '../translate/json.ts'

function isSynthetic(block: unknown): boolean {
  const b = obj(block)
  return b.type === 'thinking' && (str(b.signature) ?? '').startsWith(SYNTHETIC_SIGNATURE_PREFIX)
}

/**
 * Remove thinking blocks that carry our synthetic signatures (made when an OpenAI upstream
 * answered an earlier turn) before an Anthropic request goes to an Anthropic upstream, which
 * rejects foreign signatures with a 400 (docs/protocols.md §4.5). When the last assistant turn then
 * has tool_use but no thinking block, thinking is switched off: Anthropic requires that turn to
 * start with one. Returns the body itself when nothing needed changing.
 */
export function stripSyntheticThinking(body: JsonObject): JsonObject {
  const messages = arr(body.messages)
  if (!messages.some((m) => arr(obj(m).content).some(isSynthetic))) return body
  const cleaned = messages.map((m) => {
    if (!isObject(m) || !Array.isArray(m.content)) return m
    return { ...m, content: m.content.filter((b) => !isSynthetic(b)) }
  })
  const out: JsonObject = { ...body, messages: cleaned }
  const lastAssistant = [...cleaned].reverse().find((m) => obj(m).role === 'assistant')
  const blocks = arr(obj(lastAssistant).content)
  const needsThinking = blocks.some((b) => obj(b).type === 'tool_use')
  const startsWithThinking = ['thinking', 'redacted_thinking'].includes(str(obj(blocks[0]).type) ?? '')
  if (obj(body.thinking).type === 'enabled' && needsThinking && !startsWithThinking) delete out.thinking
  return out
}
