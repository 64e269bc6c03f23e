/**
 * `system` messages inside an Anthropic `messages` list. Claude Code 2.1 ends its messages with
 * one (its environment section) after the user's turn. The other formats have one system prompt,
 * ahead of the conversation (OpenAI's `system` message first, Responses' `instructions`, Gemini's
 * `systemInstruction`); a translator that made it a user message put it after the user's
 * question, where a model takes it for the question. Folded into the system prompt instead,
 * after what the top-level `system` says.
 */
import type { JsonObject } from '../types.ts'
import { arr, isObject } from '../translate/json.ts'

const isSystem = (m: unknown): boolean => isObject(m) && m.role === 'system'

/** A text or a list of blocks as blocks. */
const blocksOf = (v: unknown): readonly unknown[] =>
  typeof v === 'string' ? (v === '' ? [] : [{ type: 'text', text: v }]) : arr(v)

/** `body` with its `system`-role messages moved to the end of `system`; the same object when it has none. */
export function foldSystemMessages(body: JsonObject): JsonObject {
  const messages = arr(body.messages)
  if (!messages.some(isSystem)) return body
  const folded: unknown[] = []
  const kept: unknown[] = []
  for (const m of messages) {
    if (isSystem(m)) folded.push(...blocksOf((m as JsonObject).content))
    else kept.push(m)
  }
  return { ...body, system: [...blocksOf(body.system), ...folded], messages: kept } as JsonObject
}
