import type { JsonObject, TranslateContext } from '../types.ts'
import { noteToolName } from './ids.ts'
import { arr, copyKeys, isObject, num, obj, str } from './json.ts'

/** Anthropic thinking budget → OpenAI reasoning_effort buckets (litellm's thresholds). */
export function effortOfBudget(budget: number): 'low' | 'medium' | 'high' {
  return budget >= 4096 ? 'high' : budget >= 2048 ? 'medium' : 'low'
}

/** thinking `enabled` maps by budget; `adaptive` follows output_config.effort (OpenAI tops out at `high`). */
function reasoningEffortOf(thinking: JsonObject, effort: string | undefined): string | undefined {
  if (thinking.type === 'enabled') return effortOfBudget(num(thinking.budget_tokens) ?? 0)
  if (thinking.type !== 'adaptive') return undefined
  return effort === 'low' || effort === 'medium' ? effort : 'high'
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  return arr(content).map((b) => (obj(b).type === 'text' ? str(obj(b).text) ?? '' : '')).filter((t) => t).join('\n')
}

function imagePart(source: JsonObject): JsonObject | undefined {
  if (source.type === 'base64') {
    return {
      type: 'image_url',
      image_url: { url: `data:${str(source.media_type) ?? 'image/png'};base64,${str(source.data) ?? ''}` },
    }
  }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: str(source.url) ?? '' } }
  return undefined // file ids cannot be translated
}

function documentPart(b: JsonObject): JsonObject | undefined {
  const source = obj(b.source)
  const title = str(b.title)
  if (source.type === 'base64' && str(source.media_type) === 'application/pdf') {
    return {
      type: 'file',
      file: { filename: title ?? 'document.pdf', file_data: `data:application/pdf;base64,${str(source.data) ?? ''}` },
    }
  }
  const text = documentText(b)
  return text === undefined ? undefined : { type: 'text', text }
}

/**
 * A document given as text (`source.type` `text`, or `content` blocks) as one text, its title
 * first; undefined for a document given as bytes, a URL or a file id. Every format takes it as text.
 */
export function documentText(b: JsonObject): string | undefined {
  const source = obj(b.source)
  const title = str(b.title)
  const body = source.type === 'text'
    ? str(source.data)
    : source.type === 'content'
    ? textOf(source.content)
    : undefined
  if (body === undefined) return undefined
  return title ? `${title}\n\n${body}` : body
}

/** One user-side content block as an OpenAI part (undefined: nothing translatable). */
function userPart(block: unknown): JsonObject | undefined {
  const b = obj(block)
  if (b.type === 'text') return str(b.text) ? { type: 'text', text: b.text } : undefined
  if (b.type === 'image') return imagePart(obj(b.source))
  if (b.type === 'document') return documentPart(b)
  return undefined
}

/** Parts → OpenAI content: a plain string when it is all text (widest server support). */
function contentOf(parts: readonly JsonObject[]): string | JsonObject[] {
  return parts.every((p) => p.type === 'text') ? parts.map((p) => str(p.text) ?? '').join('\n') : [...parts]
}

/**
 * A user turn: tool results become `tool` messages first (text only, as Chat takes them), then
 * the images and files from them in a user message, then the user's own parts.
 */
function userMessages(content: readonly unknown[]): JsonObject[] {
  const out: JsonObject[] = []
  const toolMedia: JsonObject[] = []
  const own: JsonObject[] = []
  for (const raw of content) {
    const b = obj(raw)
    if (b.type !== 'tool_result') {
      const part = userPart(b)
      if (part) own.push(part)
      continue
    }
    const inner = typeof b.content === 'string' ? [{ type: 'text', text: b.content }] : arr(b.content)
    for (const p of inner) {
      const type = obj(p).type
      if (type === 'image' || type === 'document') toolMedia.push(...[userPart(p)].filter(isObject))
    }
    const text = textOf(inner)
    out.push({
      role: 'tool',
      tool_call_id: str(b.tool_use_id) ?? '',
      content: b.is_error === true ? `[tool error] ${text}` : text,
    })
  }
  if (toolMedia.length > 0) out.push({ role: 'user', content: toolMedia })
  if (own.length > 0) out.push({ role: 'user', content: contentOf(own) })
  return out
}

function assistantMessage(
  content: readonly unknown[],
  names: Record<string, string>,
  ctx: TranslateContext,
): JsonObject {
  const texts: string[] = []
  const thinking: string[] = []
  const calls: JsonObject[] = []
  for (const raw of content) {
    const b = obj(raw)
    if (b.type === 'text' && str(b.text)) texts.push(b.text as string)
    else if (b.type === 'thinking' && str(b.thinking)) thinking.push(b.thinking as string)
    else if (b.type === 'tool_use') {
      const name = noteToolName(names, str(b.name) ?? '')
      calls.push({
        id: str(b.id) ?? '',
        type: 'function',
        function: { name, arguments: JSON.stringify(b.input ?? {}) },
      })
    }
  }
  const msg: JsonObject = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('\n') : calls.length > 0 ? null : '',
  }
  if (calls.length > 0) msg.tool_calls = calls
  if (ctx.roundTripReasoning && thinking.length > 0) msg.reasoning_content = thinking.join('\n')
  return msg
}

function messagesOf(body: JsonObject, names: Record<string, string>, ctx: TranslateContext): JsonObject[] {
  const out: JsonObject[] = []
  const system = textOf(body.system)
  if (system) out.push({ role: 'system', content: system })
  for (const raw of arr(body.messages)) {
    const m = obj(raw)
    if (typeof m.content === 'string') {
      out.push({ role: m.role === 'assistant' ? 'assistant' : 'user', content: m.content })
    } else if (m.role === 'assistant') out.push(assistantMessage(arr(m.content), names, ctx))
    else out.push(...userMessages(arr(m.content)))
  }
  return out
}

function toolsOf(body: JsonObject, names: Record<string, string>): JsonObject[] {
  const out: JsonObject[] = []
  for (const raw of arr(body.tools)) {
    const t = obj(raw)
    // Versioned server tools (web_search_…, bash_…) have no input_schema and no OpenAI equivalent.
    if (t.input_schema === undefined && t.type !== undefined && t.type !== 'custom') continue
    const fn: JsonObject = {
      name: noteToolName(names, str(t.name) ?? ''),
      parameters: t.input_schema ?? { type: 'object', properties: {} },
    }
    if (str(t.description)) fn.description = t.description
    out.push({ type: 'function', function: fn })
  }
  return out
}

function toolChoiceOf(choice: JsonObject, names: Record<string, string>): unknown {
  switch (choice.type) {
    case 'any':
      return 'required'
    case 'none':
      return 'none'
    case 'tool':
      return { type: 'function', function: { name: noteToolName(names, str(choice.name) ?? '') } }
    default:
      return 'auto'
  }
}

/**
 * Anthropic Messages request → OpenAI Chat Completions request (docs/protocols.md §4.1). Fills
 * `names` with every tool name that had to be shortened, for restoring names in responses.
 */
export function anthropicToOpenAIRequest(
  body: JsonObject,
  ctx: TranslateContext,
  names: Record<string, string>,
): JsonObject {
  const out: JsonObject = { model: ctx.upstreamModel, messages: messagesOf(body, names, ctx) }
  copyKeys(body, out, ['max_tokens', 'temperature', 'top_p'])
  const stops = arr(body.stop_sequences).filter((s) => typeof s === 'string')
  if (stops.length > 0) out.stop = stops.slice(0, 4)
  if (body.stream === true) {
    out.stream = true
    out.stream_options = { include_usage: true } // so the Anthropic usage can be filled in
  }
  const tools = toolsOf(body, names)
  if (tools.length > 0) {
    out.tools = tools
    const choice = obj(body.tool_choice)
    if (isObject(body.tool_choice)) out.tool_choice = toolChoiceOf(choice, names)
    if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false
  }
  const user = str(obj(body.metadata).user_id)
  if (user) out.user = user
  const effort = reasoningEffortOf(obj(body.thinking), str(obj(body.output_config).effort))
  if (effort) out.reasoning_effort = effort
  const format = obj(obj(body.output_config).format)
  if (format.type === 'json_schema' && isObject(format.schema)) {
    out.response_format = {
      type: 'json_schema',
      json_schema: { name: 'structured_output', schema: format.schema, strict: false },
    }
  }
  return out
}
