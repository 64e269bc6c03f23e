/**
 * Images in a request, in any wire format: Anthropic `image` blocks (also inside a
 * `tool_result`), OpenAI `image_url` parts, Responses `input_image` parts and Gemini
 * `inlineData` / `fileData` parts with an image MIME type. One test for all of them
 * (`isImagePart`), and the one rewrite a text-only model needs: the images of earlier turns
 * replaced by a line of text.
 *
 * Why that rewrite: an agent's conversation keeps every image it was ever shown. The turn that
 * brought one goes to `Router.image` (the image scenario); every later turn still carries it,
 * and a text-only default model refuses the whole request (or is skipped, and nothing else
 * serves), so one pasted screenshot ended the session. The image model's answer about it is in
 * the history as text, which is what CCR's image agent gives a text-only model too.
 */
import type { WireFormatName } from '../config/types.ts'
import type { JsonObject } from './types.ts'
import { isObject } from './translate/json.ts'

const IMAGE_TYPES = new Set(['image', 'image_url', 'input_image'])

/** What stands where an image was, for a model that cannot see it. */
export const IMAGE_OMITTED = '[image omitted: this model does not take images; an earlier answer may describe it]'

/** Whether `p` is an image part in some wire format, or a tool result carrying one. */
export function isImagePart(p: unknown): boolean {
  if (!isObject(p)) return false
  if (typeof p.type === 'string' && IMAGE_TYPES.has(p.type)) return true
  const data = isObject(p.inlineData) ? p.inlineData : isObject(p.fileData) ? p.fileData : undefined
  if (data && typeof data.mimeType === 'string' && data.mimeType.startsWith('image/')) return true
  return p.type === 'tool_result' && Array.isArray(p.content) && p.content.some(isImagePart)
}

/** The parts of one message or item (`content` or Gemini's `parts`); none when it has no list. */
const partsOf = (m: JsonObject): readonly unknown[] =>
  Array.isArray(m.content) ? m.content : Array.isArray(m.parts) ? m.parts : []

/** Whether a message (or a Responses item) carries an image. */
export function messageHasImage(m: unknown): boolean {
  return isObject(m) && (isImagePart(m) || partsOf(m).some(isImagePart))
}

/** The conversation of a body: `messages`, a Responses `input` list, or Gemini `contents`. */
function turnsOf(body: JsonObject): { key: 'messages' | 'input' | 'contents'; list: readonly unknown[] } | undefined {
  for (const key of ['messages', 'input', 'contents'] as const) {
    const list = body[key]
    if (Array.isArray(list)) return { key, list }
  }
  return undefined
}

/** Where the last user turn is (-1 when there is none). */
const lastUserAt = (list: readonly unknown[]): number => list.findLastIndex((m) => isObject(m) && m.role === 'user')

/** Where a request's images are: in the last user turn, and before it. */
export function imagePlaces(body: JsonObject): { readonly last: boolean; readonly earlier: boolean } {
  const turns = turnsOf(body)
  if (!turns) return { last: false, earlier: false }
  const at = lastUserAt(turns.list)
  let earlier = false
  for (let i = 0; i < turns.list.length && !earlier; i++) if (i !== at && messageHasImage(turns.list[i])) earlier = true
  return { last: at >= 0 && messageHasImage(turns.list[at]), earlier }
}

/** A text part of `format` saying what was there. */
function textPart(format: WireFormatName): JsonObject {
  if (format === 'gemini') return { text: IMAGE_OMITTED }
  return { type: format === 'responses' ? 'input_text' : 'text', text: IMAGE_OMITTED }
}

function replaceIn(parts: readonly unknown[], format: WireFormatName): unknown[] {
  return parts.map((p) => {
    if (!isImagePart(p)) return p
    if (isObject(p) && p.type === 'tool_result' && Array.isArray(p.content)) {
      // Anthropic tool results hold their own blocks: text is what they take.
      return { ...p, content: p.content.map((c) => (isImagePart(c) ? textPart('anthropic') : c)) }
    }
    return textPart(format)
  })
}

/**
 * `body` (in `format`) with the images of every turn but the last user turn replaced by
 * `IMAGE_OMITTED` as text; the same object when there is none to replace. The last user turn
 * is left as sent: a model that cannot see the image the user just gave it is no target for it.
 */
export function withoutEarlierImages(body: JsonObject, format: WireFormatName): JsonObject {
  const turns = turnsOf(body)
  if (!turns) return body
  const at = lastUserAt(turns.list)
  let changed = false
  const list = turns.list.map((m, i) => {
    if (i === at || !isObject(m) || !messageHasImage(m)) return m
    changed = true
    if (Array.isArray(m.content)) return { ...m, content: replaceIn(m.content, format) }
    if (Array.isArray(m.parts)) return { ...m, parts: replaceIn(m.parts, format) }
    // A Responses item that is itself an image part.
    return { role: 'user', content: [textPart(format)] }
  })
  return changed ? { ...body, [turns.key]: list } : body
}
