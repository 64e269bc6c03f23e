/**
 * Request features one format has and the other cannot express. Dropping them silently would
 * hand the client a different answer than it asked for (one choice instead of n, a prompt
 * without its audio, its file or its image), so such a request is refused for that target
 * instead — another target in the plan that speaks the client's format may still serve it.
 */
import type { JsonObject, WireFormatName } from './types.ts'
import { arr, dataUrlSource, isObject, obj, str } from './translate/json.ts'

export interface Unsupported {
  readonly param: string
  readonly message: string
}

/**
 * A non-text input of a request: what it is, how it is given (inline data, a URL, or a file id
 * that only the provider that issued it can resolve) and where it is in the client's body.
 */
export interface MediaInput {
  readonly kind: 'image' | 'document' | 'audio' | 'video'
  readonly by: 'data' | 'url' | 'id'
  readonly mime?: string
  readonly path: string
}

const UPSTREAM_NAMES: Readonly<Record<WireFormatName, string>> = {
  anthropic: 'an Anthropic Messages upstream',
  openai: 'an OpenAI Chat Completions upstream',
  responses: 'an OpenAI Responses upstream',
  gemini: 'a Gemini upstream',
}

/**
 * Whether a `client` request translated for `upstream` keeps `m` (the translators' own coverage,
 * checked against them by the law in unsupported.test.ts). A file id never crosses formats: it
 * names a file stored with the provider that issued it.
 */
export function carries(client: WireFormatName, upstream: WireFormatName, m: MediaInput): boolean {
  if (m.by === 'id') return false
  // The hub has no audio block: a Chat `input_audio` part reaches no other format.
  if (client === 'openai' && m.kind === 'audio') return false
  if (upstream === 'gemini') return true
  if (m.kind === 'audio' || m.kind === 'video') return false
  if (upstream === 'openai' && m.kind === 'document') return m.by === 'data' && m.mime === 'application/pdf'
  return true
}

function kindOfMime(mime: string | undefined, fallback: MediaInput['kind']): MediaInput['kind'] {
  if (mime === undefined) return fallback
  if (mime.startsWith('image/')) return 'image'
  if (mime.startsWith('audio/')) return 'audio'
  if (mime.startsWith('video/')) return 'video'
  return 'document'
}

/** A file block's kind: a document (whatever its type, as the translators carry it) unless it is sound or film. */
function fileKind(mime: string | undefined): MediaInput['kind'] {
  const kind = kindOfMime(mime, 'document')
  return kind === 'audio' || kind === 'video' ? kind : 'document'
}

/** A data URL's mime type, read by the parser the translators use; undefined for any other URL. */
const dataUrlMime = (url: unknown): string | undefined => {
  const source = typeof url === 'string' ? dataUrlSource(url) : undefined
  return source ? str(source.media_type) : undefined
}

/** What one part is, before the caller gives it its path (built only for a part that is media). */
type Found = Omit<MediaInput, 'path'>

/** An Anthropic image or document block. */
function anthropicMedia(b: JsonObject): Found | undefined {
  if (b.type !== 'image' && b.type !== 'document') return undefined
  const source = obj(b.source)
  const mime = str(source.media_type)
  const kind = b.type === 'image' ? 'image' : fileKind(mime)
  if (source.type === 'base64') return { kind, by: 'data', mime }
  if (source.type === 'url') return { kind, by: 'url' }
  return source.type === 'file' ? { kind, by: 'id' } : undefined
}

/** An OpenAI Chat content part. */
function chatMedia(p: JsonObject): Found | undefined {
  if (p.type === 'image_url') {
    const mime = dataUrlMime(obj(p.image_url).url)
    return { kind: 'image', by: mime ? 'data' : 'url', mime }
  }
  if (p.type === 'file') {
    const file = obj(p.file)
    const mime = dataUrlMime(file.file_data)
    if (mime) return { kind: kindOfMime(mime, 'document'), by: 'data', mime }
    return typeof file.file_id === 'string' ? { kind: 'document', by: 'id' } : undefined
  }
  return p.type === 'input_audio' ? { kind: 'audio', by: 'data' } : undefined
}

/** A Responses input part (message content, or a function call's output parts). */
function responsesMedia(p: JsonObject): Found | undefined {
  if (p.type === 'input_image') {
    const url = isObject(p.image_url) ? p.image_url.url : p.image_url
    const mime = dataUrlMime(url)
    if (typeof url === 'string' && url !== '') return { kind: 'image', by: mime ? 'data' : 'url', mime }
    return typeof p.file_id === 'string' ? { kind: 'image', by: 'id' } : undefined
  }
  if (p.type !== 'input_file') return undefined
  const mime = dataUrlMime(p.file_data)
  if (mime) return { kind: fileKind(mime), by: 'data', mime }
  if (typeof p.file_url === 'string') return { kind: 'document', by: 'url' }
  return typeof p.file_id === 'string' ? { kind: 'document', by: 'id' } : undefined
}

/** A Gemini part's inline bytes and file URI, of any media type, at `path`. */
function geminiMedia(p: JsonObject, path: string, out: MediaInput[]): void {
  const inline = obj(p.inlineData)
  if (str(inline.data)) {
    const mime = str(inline.mimeType)
    out.push({ kind: kindOfMime(mime, 'document'), by: 'data', mime, path: `${path}.inlineData` })
  }
  const file = obj(p.fileData)
  if (str(file.fileUri)) {
    const mime = str(file.mimeType)
    out.push({ kind: kindOfMime(mime, 'image'), by: 'url', mime, path: `${path}.fileData` })
  }
}

const hasGeminiMedia = (p: JsonObject) => p.inlineData !== undefined || p.fileData !== undefined

/**
 * Every non-text input of `body` (in the `format` it is written in), with its path: messages and
 * tool results. Plain loops, and a path string only for a part that is media: this reads every
 * part of a translated request (hundreds of messages for a coding agent's conversation).
 */
export function mediaInputs(format: WireFormatName, body: JsonObject): MediaInput[] {
  const out: MediaInput[] = []
  if (format === 'anthropic' || format === 'openai') {
    const messages = arr(body.messages)
    for (let i = 0; i < messages.length; i++) {
      const content = arr(obj(messages[i]).content)
      for (let j = 0; j < content.length; j++) {
        const b = content[j]
        if (!isObject(b)) continue
        if (format === 'anthropic' && b.type === 'tool_result') {
          const inner = arr(b.content)
          for (let k = 0; k < inner.length; k++) {
            const c = inner[k]
            const f = isObject(c) ? anthropicMedia(c) : undefined
            if (f) out.push({ ...f, path: `messages.${i}.content.${j}.content.${k}` })
          }
          continue
        }
        const f = format === 'anthropic' ? anthropicMedia(b) : chatMedia(b)
        if (f) out.push({ ...f, path: `messages.${i}.content.${j}` })
      }
    }
  } else if (format === 'responses') {
    const input = arr(body.input)
    for (let i = 0; i < input.length; i++) {
      const item = obj(input[i])
      const key = item.type === 'function_call_output' ? 'output' : 'content'
      const parts = arr(item[key])
      for (let j = 0; j < parts.length; j++) {
        const p = parts[j]
        const f = isObject(p) ? responsesMedia(p) : undefined
        if (f) out.push({ ...f, path: `input.${i}.${key}.${j}` })
      }
    }
  } else {
    const contents = arr(body.contents)
    for (let i = 0; i < contents.length; i++) {
      const parts = arr(obj(contents[i]).parts)
      for (let j = 0; j < parts.length; j++) {
        const p = parts[j]
        if (!isObject(p)) continue
        // Gemini 3's multimodal function responses carry the tool's media in their own parts.
        const inner = isObject(p.functionResponse) ? arr(p.functionResponse.parts) : []
        for (let k = 0; k < inner.length; k++) {
          const q = inner[k]
          if (isObject(q) && hasGeminiMedia(q)) {
            geminiMedia(q, `contents.${i}.parts.${j}.functionResponse.parts.${k}`, out)
          }
        }
        if (hasGeminiMedia(p)) geminiMedia(p, `contents.${i}.parts.${j}`, out)
      }
    }
  }
  return out
}

/** What a part is, for the refusal: `an inline image (image/png)`, `a document given by URL`. */
function described(m: MediaInput): string {
  if (m.by === 'id') return `a file id (${m.kind}), which names a file stored with the provider that issued it,`
  const what = m.mime ? `${m.kind} (${m.mime})` : m.kind
  return m.by === 'url' ? `a ${what} given by URL` : `an inline ${what}`
}

/**
 * Anthropic's own tools the client runs (`bash_…`, `text_editor_…`, `computer_…`, `memory_…`)
 * and its server-run code execution: they have no schema to translate, so another format's
 * model would never see them. Web search is carried (a search tool or the webSearch scenario).
 */
const ANTHROPIC_DEFINED_TOOL = /^(bash|text_editor|computer|memory|code_execution)_\d/

/** A tool of the client's list that no translation keeps: its index and what it is. */
function untranslatableTool(client: WireFormatName, body: JsonObject): { index: number; what: string } | undefined {
  if (client !== 'anthropic' && client !== 'openai') return undefined
  const tools = arr(body.tools)
  for (let index = 0; index < tools.length; index++) {
    const t = tools[index]
    const type = isObject(t) ? t.type : undefined
    // Chat: only function tools translate (a custom free-form tool would be left out).
    if (client === 'openai' && type !== 'function') {
      return {
        index,
        what: typeof type === 'string' ? `a ${JSON.stringify(type)} tool` : 'a tool without type "function"',
      }
    }
    if (client === 'anthropic' && typeof type === 'string' && ANTHROPIC_DEFINED_TOOL.test(type)) {
      return { index, what: `Anthropic's built-in ${type} tool` }
    }
  }
  return undefined
}

/** What in `body` (client format) the upstream format cannot carry, if anything. */
export function unsupportedFeature(
  client: WireFormatName,
  upstream: WireFormatName,
  body: JsonObject,
): Unsupported | undefined {
  if (client === upstream) return undefined
  if (client === 'gemini') {
    const count = (body.generationConfig as { candidateCount?: unknown } | undefined)?.candidateCount
    if (typeof count === 'number' && count > 1) {
      return {
        param: 'generationConfig.candidateCount',
        message: `generationConfig.candidateCount: ${count} candidates can only be served by a Gemini upstream`,
      }
    }
  }
  if (client === 'openai' && typeof body.n === 'number' && body.n > 1) {
    return {
      param: 'n',
      message: `n: ${body.n} choices cannot be served by ${UPSTREAM_NAMES[upstream]} (it returns one)`,
    }
  }
  if (client === 'responses') {
    // Left unresolved by the route (not in the store): only the provider that issued the id can look it up.
    const input = arr(body.input)
    for (let i = 0; i < input.length; i++) {
      const item = obj(input[i])
      if (item.type === 'compaction') {
        // Switchyard's own were turned into messages by the route: this one is another provider's.
        const param = `input.${i}`
        return {
          param,
          message:
            `${param}: a compaction item from another provider, whose encrypted_content only that provider can read, cannot be sent to ${
              UPSTREAM_NAMES[upstream]
            }`,
        }
      }
      if (item.type !== 'item_reference') continue
      const param = `input.${i}`
      const id = typeof item.id === 'string' ? ` '${item.id}'` : ''
      return {
        param,
        message:
          `${param}: the item_reference${id} names an item that is not in this Switchyard's store (expired, evicted or never kept), so it cannot be sent to ${
            UPSTREAM_NAMES[upstream]
          }`,
      }
    }
  }
  const tool = untranslatableTool(client, body)
  if (tool) {
    const param = `tools.${tool.index}`
    return { param, message: `${param}: ${tool.what} cannot be sent to ${UPSTREAM_NAMES[upstream]}` }
  }
  for (const m of mediaInputs(client, body)) {
    if (!carries(client, upstream, m)) {
      return { param: m.path, message: `${m.path}: ${described(m)} cannot be sent to ${UPSTREAM_NAMES[upstream]}` }
    }
  }
  return undefined
}
