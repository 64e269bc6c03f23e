/**
 * Request features one format has and the other cannot express. Dropping them silently would
 * hand the client a different answer than it asked for (one choice instead of n, a prompt
 * without its audio, its file or its image), so such a request is refused for that target
 * instead — another target in the plan that speaks the client's format may still serve it.
 */
import type { JsonObject, WireFormatName } from './types.ts'

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

type Rec = Record<string, unknown>
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : [])

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

/** `data:<mime>;base64,…` → its mime; undefined for any other URL. */
function dataUrlMime(url: unknown): string | undefined {
  if (typeof url !== 'string' || !url.startsWith('data:')) return undefined
  const end = url.indexOf(';')
  return end > 5 ? url.slice(5, end) : undefined
}

/** An Anthropic image or document block (also inside a tool result). */
function anthropicBlock(b: Rec, path: string, out: MediaInput[]): void {
  if (b.type === 'tool_result') {
    list(b.content).forEach((c, i) => isRec(c) && anthropicBlock(c, `${path}.content.${i}`, out))
    return
  }
  if (b.type !== 'image' && b.type !== 'document') return
  const source = isRec(b.source) ? b.source : {}
  const mime = typeof source.media_type === 'string' ? source.media_type : undefined
  const kind = b.type === 'image' ? 'image' : fileKind(mime)
  if (source.type === 'base64') out.push({ kind, by: 'data', mime, path })
  else if (source.type === 'url') out.push({ kind, by: 'url', path })
  else if (source.type === 'file') out.push({ kind, by: 'id', path })
}

/** An OpenAI Chat content part. */
function chatPart(p: Rec, path: string, out: MediaInput[]): void {
  if (p.type === 'image_url') {
    const url = isRec(p.image_url) ? p.image_url.url : undefined
    const mime = dataUrlMime(url)
    out.push({ kind: 'image', by: mime ? 'data' : 'url', mime, path })
  } else if (p.type === 'file') {
    const file = isRec(p.file) ? p.file : {}
    const mime = dataUrlMime(file.file_data)
    if (mime) out.push({ kind: kindOfMime(mime, 'document'), by: 'data', mime, path })
    else if (typeof file.file_id === 'string') out.push({ kind: 'document', by: 'id', path })
  } else if (p.type === 'input_audio') out.push({ kind: 'audio', by: 'data', path })
}

/** A Responses input part (message content, or a function call's output parts). */
function responsesPart(p: Rec, path: string, out: MediaInput[]): void {
  if (p.type === 'input_image') {
    const url = isRec(p.image_url) ? p.image_url.url : p.image_url
    const mime = dataUrlMime(url)
    if (typeof url === 'string' && url !== '') out.push({ kind: 'image', by: mime ? 'data' : 'url', mime, path })
    else if (typeof p.file_id === 'string') out.push({ kind: 'image', by: 'id', path })
  } else if (p.type === 'input_file') {
    const mime = dataUrlMime(p.file_data)
    if (mime) out.push({ kind: fileKind(mime), by: 'data', mime, path })
    else if (typeof p.file_url === 'string') out.push({ kind: 'document', by: 'url', path })
    else if (typeof p.file_id === 'string') out.push({ kind: 'document', by: 'id', path })
  }
}

/** A Gemini part: inline bytes or a file URI, of any media type (also inside a function response). */
function geminiPart(p: Rec, path: string, out: MediaInput[]): void {
  if (isRec(p.functionResponse)) {
    list(p.functionResponse.parts).forEach((q, i) =>
      isRec(q) && geminiPart(q, `${path}.functionResponse.parts.${i}`, out)
    )
  }
  const inline = isRec(p.inlineData) ? p.inlineData : undefined
  if (inline && typeof inline.data === 'string' && inline.data !== '') {
    const mime = typeof inline.mimeType === 'string' ? inline.mimeType : undefined
    out.push({ kind: kindOfMime(mime, 'document'), by: 'data', mime, path: `${path}.inlineData` })
  }
  const file = isRec(p.fileData) ? p.fileData : undefined
  if (file && typeof file.fileUri === 'string' && file.fileUri !== '') {
    const mime = typeof file.mimeType === 'string' ? file.mimeType : undefined
    out.push({ kind: kindOfMime(mime, 'image'), by: 'url', mime, path: `${path}.fileData` })
  }
}

/** Every non-text input of `body` (in the `format` it is written in), with its path. */
export function mediaInputs(format: WireFormatName, body: JsonObject): MediaInput[] {
  const out: MediaInput[] = []
  if (format === 'anthropic' || format === 'openai') {
    list(body.messages).forEach((m, i) => {
      if (!isRec(m)) return
      list(m.content).forEach((b, j) => {
        if (!isRec(b)) return
        if (format === 'anthropic') anthropicBlock(b, `messages.${i}.content.${j}`, out)
        else chatPart(b, `messages.${i}.content.${j}`, out)
      })
    })
  } else if (format === 'responses') {
    list(body.input).forEach((item, i) => {
      if (!isRec(item)) return
      const parts = item.type === 'function_call_output' ? item.output : item.content
      const key = item.type === 'function_call_output' ? 'output' : 'content'
      list(parts).forEach((p, j) => isRec(p) && responsesPart(p, `input.${i}.${key}.${j}`, out))
    })
  } else {
    list(body.contents).forEach((c, i) => {
      if (!isRec(c)) return
      list(c.parts).forEach((p, j) => isRec(p) && geminiPart(p, `contents.${i}.parts.${j}`, out))
    })
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
  const tools = list(body.tools)
  for (let index = 0; index < tools.length; index++) {
    const t = tools[index]
    const type = isRec(t) ? t.type : undefined
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
