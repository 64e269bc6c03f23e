/**
 * Context compaction of the Responses API for upstreams that do not have it. A client (the Codex
 * CLI, when its provider is OpenAI's) asks for it by ending `input` with a
 * `{"type": "compaction_trigger"}` item and expects exactly one `compaction` output item, whose
 * opaque `encrypted_content` it sends back in place of the conversation from then on. Only
 * OpenAI can read its own; for any other upstream Switchyard asks the model for a summary, hands
 * it back as a `compaction` item carrying that summary (`switchyard:compaction:<base64>`), and
 * turns such an item into a plain message before any upstream sees it.
 */
import type { JsonObject } from '../types.ts'
import { SYNTHETIC_SIGNATURE_PREFIX } from '../translate/ids.ts'
import { isObject, str } from '../translate/json.ts'
import { base64ToUtf8, utf8ToBase64 } from '../hub/events.ts'

const PREFIX = `${SYNTHETIC_SIGNATURE_PREFIX}compaction:`

/** What the model is asked, in place of the trigger, when the upstream cannot compact. */
export const COMPACTION_INSTRUCTION = [
  'The conversation above is about to be replaced by a summary, because the context window is nearly full.',
  'Write that summary now, for yourself to continue the work from it with nothing else at hand:',
  '- the goal and every requirement or preference the user stated;',
  '- what has been done so far, with the files, commands and results that matter;',
  '- decisions taken and why, and approaches that failed;',
  '- the exact state of the work in progress and the next steps.',
  'Keep names, paths, identifiers and numbers exact. Answer with the summary only, and call no tool.',
].join('\n')

/** How a kept summary is introduced when it comes back as a message. */
const SUMMARY_INTRO = 'A summary of the earlier part of this conversation, which it replaces:\n\n'

export const isCompactionTrigger = (item: unknown): boolean => isObject(item) && item.type === 'compaction_trigger'

/** The `compaction` output item that carries `summary`. */
export function compactionItem(id: string, summary: string): JsonObject {
  return { id, type: 'compaction', encrypted_content: PREFIX + utf8ToBase64(summary) }
}

/** The summary a `compaction` item of Switchyard's carries, or undefined for any other item. */
export function summaryOf(item: unknown): string | undefined {
  if (!isObject(item) || item.type !== 'compaction') return undefined
  const content = str(item.encrypted_content)
  if (content === undefined || !content.startsWith(PREFIX)) return undefined
  try {
    return base64ToUtf8(content.slice(PREFIX.length))
  } catch {
    return undefined
  }
}

/**
 * `input` with each of Switchyard's `compaction` items as the user message holding its summary;
 * the same array when it has none (an OpenAI one stays: only OpenAI can read it).
 */
export function expandCompactions(input: unknown): unknown {
  if (!Array.isArray(input) || !input.some((item) => summaryOf(item) !== undefined)) return input
  return input.map((item) => {
    const summary = summaryOf(item)
    if (summary === undefined) return item
    return { type: 'message', role: 'user', content: [{ type: 'input_text', text: SUMMARY_INTRO + summary }] }
  })
}
