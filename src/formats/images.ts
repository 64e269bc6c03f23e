/**
 * Images in a request, in any wire format: Anthropic `image` blocks (also inside a
 * `tool_result`), OpenAI `image_url` parts, Responses `input_image` parts and Gemini
 * `inlineData` / `fileData` parts with an image MIME type. One test for all of them
 * (`isImagePart`), and the one rewrite a text-only model needs: the images of earlier turns
 * replaced by text (`imagesAsText`).
 *
 * Why that rewrite: an agent's conversation keeps every image it was ever shown. The turn that
 * brought one goes to `Router.image` (the image scenario); every later turn still carries it,
 * and a text-only default model refuses the whole request (or is skipped, and nothing else
 * serves), so one pasted screenshot ended the session. With `Router.image` set, the text is
 * that model's description of the image (proxy/image-descriptions.ts), so the text-only model
 * can still answer about it, as CCR's image agent lets it.
 */
import type { WireFormatName } from '../config/types.ts'
import type { JsonObject } from './types.ts'
import { dataUrlSource, isObject } from './translate/json.ts'

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

/**
 * What an image part shows, the same in every format: its base64 bytes with their media type,
 * or its address (an `https:` URL, a Gemini `fileUri`). Undefined for anything else (a file id).
 */
export type ImageSource =
  | { readonly kind: 'base64'; readonly mediaType: string; readonly data: string }
  | { readonly kind: 'url'; readonly url: string }

function fromUrl(url: unknown): ImageSource | undefined {
  if (typeof url !== 'string' || url === '') return undefined
  const d = dataUrlSource(url)
  return d ? { kind: 'base64', mediaType: String(d.media_type), data: String(d.data) } : { kind: 'url', url }
}

/** The source of one image part (not a tool result: its images are parts of their own). */
export function imageSource(p: unknown): ImageSource | undefined {
  if (!isObject(p)) return undefined
  if (p.type === 'image' && isObject(p.source)) {
    const s = p.source
    if (s.type === 'base64' && typeof s.data === 'string') {
      return { kind: 'base64', mediaType: typeof s.media_type === 'string' ? s.media_type : 'image/png', data: s.data }
    }
    return s.type === 'url' ? fromUrl(s.url) : undefined
  }
  if (p.type === 'image_url') return fromUrl(isObject(p.image_url) ? p.image_url.url : p.image_url)
  if (p.type === 'input_image') return fromUrl(p.image_url)
  if (isObject(p.inlineData) && typeof p.inlineData.data === 'string') {
    const mediaType = typeof p.inlineData.mimeType === 'string' ? p.inlineData.mimeType : 'image/png'
    return { kind: 'base64', mediaType, data: p.inlineData.data }
  }
  return isObject(p.fileData) ? fromUrl(p.fileData.fileUri) : undefined
}

/** The one string that tells images apart: the bytes, or the address. */
export const imageKey = (s: ImageSource): string => s.kind === 'base64' ? s.data : s.url

/** `s` as an Anthropic image block (what an image model is asked with, whatever the client sent). */
export function anthropicImageBlock(s: ImageSource): JsonObject {
  return s.kind === 'base64'
    ? { type: 'image', source: { type: 'base64', media_type: s.mediaType, data: s.data } }
    : { type: 'image', source: { type: 'url', url: s.url } }
}

/**
 * The sources of the images in every turn but the last user turn (`earlier`), in that turn
 * alone (`last`), or in every turn (`all`), tool results' included, in order.
 */
export function imageSourcesOf(body: JsonObject, which: 'earlier' | 'last' | 'all'): ImageSource[] {
  const turns = turnsOf(body)
  if (!turns) return []
  const at = lastUserAt(turns.list)
  const out: ImageSource[] = []
  const visit = (p: unknown): void => {
    if (isObject(p) && p.type === 'tool_result' && Array.isArray(p.content)) return p.content.forEach(visit)
    const s = isImagePart(p) ? imageSource(p) : undefined
    if (s) out.push(s)
  }
  turns.list.forEach((m, i) => {
    if ((which !== 'all' && (i === at) !== (which === 'last')) || !isObject(m)) return
    if (isImagePart(m)) visit(m)
    else partsOf(m).forEach(visit)
  })
  return out
}

/** What stands for an image a model cannot see: a description of it when there is one. */
export type ImageText = (s: ImageSource | undefined) => string | undefined

const textFor = (p: unknown, describe: ImageText | undefined): string => describe?.(imageSource(p)) ?? IMAGE_OMITTED

/** A text part of `format` saying what was there. */
function textPart(format: WireFormatName, text: string): JsonObject {
  if (format === 'gemini') return { text }
  return { type: format === 'responses' ? 'input_text' : 'text', text }
}

function replaceIn(parts: readonly unknown[], format: WireFormatName, describe: ImageText | undefined): unknown[] {
  return parts.map((p) => {
    if (!isImagePart(p)) return p
    if (isObject(p) && p.type === 'tool_result' && Array.isArray(p.content)) {
      // Anthropic tool results hold their own blocks: text is what they take.
      return {
        ...p,
        content: p.content.map((c) => (isImagePart(c) ? textPart('anthropic', textFor(c, describe)) : c)),
      }
    }
    return textPart(format, textFor(p, describe))
  })
}

/**
 * `body` (in `format`) with the images of every turn but the last user turn (of every turn, with
 * `lastTurnToo`) replaced by text: what `describe` says of each (the image model's description,
 * proxy/image-descriptions.ts), else `IMAGE_OMITTED`; the same object when there is none to
 * replace. The last user turn is otherwise left as sent: a model that cannot see the image the
 * user just gave it is no target for it.
 */
export function imagesAsText(
  body: JsonObject,
  format: WireFormatName,
  opts: { readonly describe?: ImageText; readonly lastTurnToo?: boolean } = {},
): JsonObject {
  const turns = turnsOf(body)
  if (!turns) return body
  const at = opts.lastTurnToo ? -1 : lastUserAt(turns.list)
  const { describe } = opts
  let changed = false
  const list = turns.list.map((m, i) => {
    if (i === at || !isObject(m) || !messageHasImage(m)) return m
    changed = true
    if (Array.isArray(m.content)) return { ...m, content: replaceIn(m.content, format, describe) }
    if (Array.isArray(m.parts)) return { ...m, parts: replaceIn(m.parts, format, describe) }
    // A Responses item that is itself an image part.
    return { role: 'user', content: [textPart(format, textFor(m, describe))] }
  })
  return changed ? { ...body, [turns.key]: list } : body
}
