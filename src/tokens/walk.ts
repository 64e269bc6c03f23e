/**
 * Walks an Anthropic- or OpenAI-shaped request body and reports every piece of text that
 * costs input tokens, tagged with the component it belongs to. The estimator and the
 * long-context fast path share this walk, so they can never disagree on what is counted.
 */
import type { JsonObject } from '../formats/types.ts'
import { FLAT_IMAGE_TOKENS, imageTokens } from './images.ts'

export type TokenComponent = 'messages' | 'system' | 'tools' | 'images' | 'thinking'

/** Receives the pieces of a body: text to tokenize, or a fixed number of tokens. */
export interface TokenSink {
  text(component: TokenComponent, text: string): void
  fixed(component: TokenComponent, tokens: number): void
}

/** Role/turn framing per message: OpenAI documents 3 tokens per message for its chat format. */
export const MESSAGE_OVERHEAD = 3
/** Framing for the whole request (OpenAI's reply priming). */
export const REQUEST_OVERHEAD = 3

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** Report every counted piece of `body` to `sink`. */
export function walkBody(body: JsonObject, sink: TokenSink): void {
  sink.fixed('messages', REQUEST_OVERHEAD)
  // A top-level system prompt (Anthropic's shape) is framed as a turn, as the system message an
  // OpenAI body carries it in is: one prompt counts the same in either shape (framing is
  // counted under messages in both).
  const system = body['system']
  if (hasContent(system)) sink.fixed('messages', MESSAGE_OVERHEAD)
  walkContent(system, 'system', sink)
  const messages = body['messages']
  if (Array.isArray(messages)) { for (const m of messages) if (isObj(m)) walkMessage(m, sink) }
  const tools = body['tools']
  if (Array.isArray(tools)) { for (const t of tools) if (isObj(t)) walkTool(t, sink) }
}

function walkMessage(m: JsonObject, sink: TokenSink): void {
  sink.fixed('messages', MESSAGE_OVERHEAD)
  const role = m['role']
  const component: TokenComponent = role === 'system' || role === 'developer' ? 'system' : 'messages'
  walkContent(m['content'], component, sink)
  // OpenAI assistant turns: tool calls sit beside content, and DeepSeek-style reasoning text.
  const calls = m['tool_calls']
  if (Array.isArray(calls)) {
    for (const c of calls) {
      const fn = isObj(c) ? c['function'] : undefined
      if (isObj(fn)) sink.text('messages', (str(fn['name']) ?? '') + (str(fn['arguments']) ?? ''))
    }
  }
  const reasoning = str(m['reasoning_content'])
  if (reasoning !== undefined) sink.text('thinking', reasoning)
}

const hasContent = (v: unknown): boolean =>
  (typeof v === 'string' && v.length > 0) || (Array.isArray(v) && v.length > 0)

function walkContent(content: unknown, component: TokenComponent, sink: TokenSink): void {
  if (typeof content === 'string') sink.text(component, content)
  else if (Array.isArray(content)) { for (const b of content) if (isObj(b)) walkBlock(b, component, sink) }
}

function walkBlock(b: JsonObject, component: TokenComponent, sink: TokenSink): void {
  switch (b['type']) {
    case 'text':
      return sink.text(component, str(b['text']) ?? '')
    case 'thinking':
      return sink.text('thinking', str(b['thinking']) ?? '')
    case 'tool_use':
    case 'server_tool_use':
      return sink.text(component, (str(b['name']) ?? '') + JSON.stringify(b['input'] ?? {}))
    case 'tool_result':
    case 'web_search_tool_result':
      return walkToolResult(b['content'], component, sink)
    case 'image':
      return sink.fixed('images', imageOfSource(b['source']))
    case 'image_url':
      return sink.fixed('images', imageOfUrl(b['image_url']))
    case 'document':
      return walkDocument(b['source'], component, sink)
    default:
      return undefined
  }
}

function walkToolResult(content: unknown, component: TokenComponent, sink: TokenSink): void {
  if (typeof content === 'string' || Array.isArray(content)) walkContent(content, component, sink)
  else if (content !== undefined && content !== null) sink.text(component, JSON.stringify(content))
}

/** Plain-text documents are counted as text; PDFs and other binary sources are not counted. */
function walkDocument(source: unknown, component: TokenComponent, sink: TokenSink): void {
  if (isObj(source) && source['type'] === 'text') sink.text(component, str(source['data']) ?? '')
}

function imageOfSource(source: unknown): number {
  if (isObj(source) && source['type'] === 'base64') return imageTokens(str(source['data']))
  return FLAT_IMAGE_TOKENS
}

function imageOfUrl(imageUrl: unknown): number {
  const url = isObj(imageUrl) ? str(imageUrl['url']) : str(imageUrl)
  if (url === undefined || !url.startsWith('data:')) return FLAT_IMAGE_TOKENS
  const comma = url.indexOf(',')
  return comma < 0 ? FLAT_IMAGE_TOKENS : imageTokens(url.slice(comma + 1))
}

/** Tool definitions: name + description, then the JSON schema; Anthropic and OpenAI shapes. */
function walkTool(t: JsonObject, sink: TokenSink): void {
  const def = isObj(t['function']) ? t['function'] : t
  sink.text('tools', (str(def['name']) ?? '') + (str(def['description']) ?? ''))
  const schema = def['input_schema'] ?? def['parameters']
  if (schema !== undefined) sink.text('tools', JSON.stringify(schema))
}
