/**
 * OpenAI Responses API requests ⇄ hub (Anthropic-shaped) requests.
 * In: `input` items (messages of every role, function_call / function_call_output, custom tool
 * calls, reasoning items), `instructions`, tools (function, custom, web_search), tool_choice,
 * parallel_tool_calls, reasoning, text.format, max_output_tokens and sampling.
 * Out: the same, for a Responses upstream.
 */
import type { JsonObject, TranslateContext } from '../types.ts'
import { systemText, unwrapSignature } from '../hub/events.ts'
import { noteToolName, sanitizeToolId, syntheticSignature } from '../translate/ids.ts'
import { arr, copyKeys, dataUrlSource, isObject, num, obj, str } from '../translate/json.ts'
import { DEFAULT_MAX_TOKENS } from '../translate/openai-to-anthropic-request.ts'
import { documentText, effortOfBudget } from '../translate/anthropic-to-openai-request.ts'
import { parseToolArgs } from '../translate/tool-args.ts'
import { COMPACTION_INSTRUCTION } from './compaction.ts'

/** reasoning.effort → hub thinking budget (≥1024, as Anthropic requires). */
const EFFORT_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 1024,
  medium: 4096,
  high: 16384,
  xhigh: 32000,
}

/** What a custom (freeform) tool's single string argument is called in the hub. */
export const CUSTOM_INPUT = 'input'

/** What the request translation learned that the response translation needs. */
export interface RequestMemo {
  /** Upstream (shortened) tool name → client name. */
  readonly names: Record<string, string>
  /** Names of the client's `custom` tools: their calls go back as custom_tool_call items. */
  readonly custom: Set<string>
  /** The client asked for compaction (`compaction_trigger`): the answer goes back as one `compaction` item. */
  compaction?: boolean
}

type Turn = { role: 'user' | 'assistant'; blocks: JsonObject[] }

function push(turns: Turn[], role: Turn['role'], blocks: JsonObject[]): void {
  if (blocks.length === 0) return
  const last = turns[turns.length - 1]
  if (last && last.role === role) last.blocks.push(...blocks)
  else turns.push({ role, blocks })
}

/** One input content part as a hub block. */
function partBlock(raw: unknown): JsonObject | undefined {
  const p = obj(raw)
  switch (p.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return str(p.text) ? { type: 'text', text: p.text } : undefined
    case 'refusal':
      return str(p.refusal) ? { type: 'text', text: p.refusal } : undefined
    case 'input_image': {
      const url = str(p.image_url) ?? str(obj(p.image_url).url) ?? ''
      if (!url) return undefined
      return { type: 'image', source: dataUrlSource(url) ?? { type: 'url', url } }
    }
    case 'input_file': {
      const data = str(p.file_data) ?? ''
      const source = dataUrlSource(data)
      if (source) return { type: 'document', source, ...(str(p.filename) ? { title: p.filename } : {}) }
      const url = str(p.file_url)
      return url ? { type: 'document', source: { type: 'url', url } } : undefined
    }
    default:
      return undefined
  }
}

function contentBlocks(content: unknown): JsonObject[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  return arr(content).map(partBlock).filter(isObject)
}

/** A function_call_output's `output` (string or content parts) as tool_result content. */
function outputContent(output: unknown): string | JsonObject[] {
  if (typeof output === 'string') return output
  const blocks = contentBlocks(output)
  return blocks.every((b) => b.type === 'text') ? blocks.map((b) => str(b.text) ?? '').join('\n') : blocks
}

function reasoningBlock(item: JsonObject): JsonObject | undefined {
  const summary = arr(item.summary).map((s) => str(obj(s).text) ?? '').filter((t) => t)
  const content = arr(item.content).map((s) => str(obj(s).text) ?? '').filter((t) => t)
  const text = (content.length > 0 ? content : summary).join('\n\n')
  const enc = str(item.encrypted_content)
  if (enc === undefined && !text) return undefined
  // Our own output carries the hub signature as encrypted_content; anything else is not Anthropic's.
  return { type: 'thinking', thinking: text, signature: enc ?? syntheticSignature(text) }
}

function turnsOf(input: unknown, system: string[], memo: RequestMemo): Turn[] {
  const turns: Turn[] = []
  if (typeof input === 'string') {
    push(turns, 'user', contentBlocks(input))
    return turns
  }
  for (const raw of arr(input)) {
    const item = obj(raw)
    const type = str(item.type) ?? 'message'
    if (type === 'message') {
      if (item.role === 'system' || item.role === 'developer') {
        const text = contentBlocks(item.content).map((b) => str(b.text) ?? '').filter((t) => t).join('\n')
        if (text) system.push(text)
      } else push(turns, item.role === 'assistant' ? 'assistant' : 'user', contentBlocks(item.content))
    } else if (type === 'function_call') {
      const id = sanitizeToolId(str(item.call_id) ?? str(item.id) ?? 'call')
      push(turns, 'assistant', [{
        type: 'tool_use',
        id,
        name: noteToolName(memo.names, str(item.name) ?? ''),
        input: parseToolArgs(item.arguments),
      }])
    } else if (type === 'custom_tool_call') {
      const id = sanitizeToolId(str(item.call_id) ?? str(item.id) ?? 'call')
      push(turns, 'assistant', [{
        type: 'tool_use',
        id,
        name: noteToolName(memo.names, str(item.name) ?? ''),
        input: { [CUSTOM_INPUT]: str(item.input) ?? '' },
      }])
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      push(turns, 'user', [{
        type: 'tool_result',
        tool_use_id: sanitizeToolId(str(item.call_id) ?? ''),
        content: outputContent(item.output),
      }])
    } else if (type === 'reasoning') {
      const block = reasoningBlock(item)
      if (block) push(turns, 'assistant', [block])
    } else if (type === 'compaction_trigger') {
      memo.compaction = true
      push(turns, 'user', [{ type: 'text', text: COMPACTION_INSTRUCTION }])
    }
    // Computer/file-search calls and other hosted-tool items have no hub equivalent. An item_reference
    // or a compaction item never gets here: the route resolves references from the store and turns
    // Switchyard's compaction items into messages, and the target check refuses the rest.
  }
  for (const t of turns) {
    if (t.role === 'user') {
      t.blocks.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'))
    }
  }
  return turns
}

function customSchema(t: JsonObject): JsonObject {
  const format = obj(t.format)
  const grammar = format.type === 'grammar'
    ? ` It must follow this ${str(format.syntax) ?? ''} grammar:\n${str(format.definition) ?? ''}`
    : ''
  return {
    type: 'object',
    properties: {
      [CUSTOM_INPUT]: { type: 'string', description: `The raw input of this tool, as free text.${grammar}` },
    },
    required: [CUSTOM_INPUT],
  }
}

/** Tools: function and custom tools as hub tools; web_search as the hub's web search tool; the rest dropped. */
function toolsOf(tools: readonly unknown[], memo: RequestMemo, dropped: string[]): JsonObject[] {
  const out: JsonObject[] = []
  for (const raw of tools) {
    const t = obj(raw)
    const name = str(t.name) ?? ''
    if (t.type === 'function') {
      out.push({
        name: noteToolName(memo.names, name),
        ...(str(t.description) ? { description: t.description } : {}),
        input_schema: isObject(t.parameters) ? t.parameters : { type: 'object', properties: {} },
      })
    } else if (t.type === 'custom') {
      memo.custom.add(name)
      out.push({
        name: noteToolName(memo.names, name),
        ...(str(t.description) ? { description: t.description } : {}),
        input_schema: customSchema(t),
      })
    } else if (str(t.type)?.startsWith('web_search')) out.push({ type: 'web_search_20250305', name: 'web_search' })
    else dropped.push(str(t.type) ?? 'unknown')
  }
  return out
}

function toolChoiceOf(choice: unknown, memo: RequestMemo, parallel: unknown): JsonObject | undefined {
  let out: JsonObject | undefined
  if (choice === 'auto') out = { type: 'auto' }
  else if (choice === 'required') out = { type: 'any' }
  else if (choice === 'none') out = { type: 'none' }
  else if (isObject(choice) && (choice.type === 'function' || choice.type === 'custom') && str(choice.name)) {
    out = { type: 'tool', name: noteToolName(memo.names, choice.name as string) }
  } else if (isObject(choice) && choice.type === 'allowed_tools') {
    out = { type: choice.mode === 'required' ? 'any' : 'auto' }
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true }
  return out
}

/** Tool types in a Responses request that have no hub equivalent (dropped unless the upstream speaks Responses). */
export function untranslatableTools(body: JsonObject): string[] {
  const dropped: string[] = []
  toolsOf(arr(body.tools), { names: {}, custom: new Set() }, dropped)
  return [...new Set(dropped)]
}

/**
 * A Responses request as a hub request. `dropped` collects tool types with no hub equivalent
 * (the caller logs them). `previous` is the conversation a `previous_response_id` stood for.
 */
export function responsesToHub(body: JsonObject, memo: RequestMemo, dropped: string[] = []): JsonObject {
  const system: string[] = []
  if (str(body.instructions)) system.push(body.instructions as string)
  const turns = turnsOf(body.input, system, memo)
  const out: JsonObject = {
    model: body.model,
    max_tokens: num(body.max_output_tokens) ?? DEFAULT_MAX_TOKENS,
    messages: turns.map((t) => ({ role: t.role, content: t.blocks })),
  }
  if (system.length > 0) out.system = system.join('\n\n')
  copyKeys(body, out, ['temperature', 'top_p', 'stream'])
  const tools = toolsOf(arr(body.tools), memo, dropped)
  if (tools.length > 0) {
    out.tools = tools
    const choice = memo.compaction ? { type: 'none' } : toolChoiceOf(body.tool_choice, memo, body.parallel_tool_calls)
    if (choice) out.tool_choice = choice
  }
  const effort = str(obj(body.reasoning).effort)
  const budget = effort && effort !== 'none' ? EFFORT_BUDGETS[effort] : undefined
  if (budget !== undefined) {
    out.thinking = { type: 'enabled', budget_tokens: budget }
    if ((out.max_tokens as number) <= budget) out.max_tokens = budget + DEFAULT_MAX_TOKENS
  }
  const format = obj(obj(body.text).format)
  if (format.type === 'json_schema' && isObject(format.schema)) {
    out.output_config = { format: { type: 'json_schema', schema: format.schema } }
  }
  const user = str(body.safety_identifier) ?? str(body.user)
  if (user) out.metadata = { user_id: user }
  return out
}

// ---------------------------------------------------------------------------------------------
// hub → Responses (a Responses upstream)

function inputPart(b: JsonObject): JsonObject | undefined {
  if (b.type === 'text') return { type: 'input_text', text: str(b.text) ?? '' }
  const source = obj(b.source)
  if (b.type === 'image') {
    if (source.type === 'base64') {
      return {
        type: 'input_image',
        image_url: `data:${str(source.media_type) ?? 'image/png'};base64,${str(source.data) ?? ''}`,
      }
    }
    if (source.type === 'url') return { type: 'input_image', image_url: str(source.url) ?? '' }
  }
  if (b.type === 'document' && source.type === 'base64') {
    return {
      type: 'input_file',
      filename: str(b.title) ?? 'document.pdf',
      file_data: `data:${str(source.media_type) ?? 'application/pdf'};base64,${str(source.data) ?? ''}`,
    }
  }
  if (b.type === 'document' && source.type === 'url') {
    return { type: 'input_file', ...(str(b.title) ? { filename: b.title } : {}), file_url: str(source.url) ?? '' }
  }
  const text = b.type === 'document' ? documentText(b) : undefined
  return text === undefined ? undefined : { type: 'input_text', text }
}

function toolResultOutput(content: unknown): string | JsonObject[] {
  if (typeof content === 'string') return content
  const parts = arr(content).map((b) => inputPart(obj(b))).filter(isObject)
  return parts.every((p) => p.type === 'input_text') ? parts.map((p) => str(p.text) ?? '').join('\n') : parts
}

function itemsOf(messages: readonly unknown[], names: Record<string, string>): JsonObject[] {
  const items: JsonObject[] = []
  for (const raw of messages) {
    const m = obj(raw)
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : arr(m.content).map(obj)
    if (m.role === 'assistant') {
      let texts: JsonObject[] = []
      const flush = () => {
        if (texts.length > 0) items.push({ type: 'message', role: 'assistant', content: texts })
        texts = []
      }
      for (const b of blocks) {
        if (b.type === 'text' && str(b.text)) texts.push({ type: 'output_text', text: b.text })
        else if (b.type === 'tool_use') {
          flush()
          items.push({
            type: 'function_call',
            call_id: str(b.id) ?? '',
            name: noteToolName(names, str(b.name) ?? ''),
            arguments: JSON.stringify(b.input ?? {}),
          })
        } else if (b.type === 'thinking') {
          const enc = unwrapSignature('responses', b.signature)
          // Only reasoning this upstream produced can go back to it (it verifies encrypted_content).
          if (enc !== undefined) {
            flush()
            items.push({ type: 'reasoning', summary: [], encrypted_content: enc })
          }
        }
      }
      flush()
      continue
    }
    const parts: JsonObject[] = []
    for (const b of blocks) {
      if (b.type === 'tool_result') {
        items.push({
          type: 'function_call_output',
          call_id: str(b.tool_use_id) ?? '',
          output: b.is_error === true
            ? `[tool error] ${systemText(b.content) || str(b.content) || ''}`
            : toolResultOutput(b.content),
        })
      } else {
        const p = inputPart(b)
        if (p) parts.push(p)
      }
    }
    if (parts.length > 0) items.push({ type: 'message', role: 'user', content: parts })
  }
  return items
}

function upstreamToolChoice(choice: JsonObject, names: Record<string, string>): unknown {
  switch (choice.type) {
    case 'any':
      return 'required'
    case 'none':
      return 'none'
    case 'tool':
      return { type: 'function', name: noteToolName(names, str(choice.name) ?? '') }
    default:
      return 'auto'
  }
}

/** A hub request as a Responses request (Responses upstream). */
export function hubToResponses(hub: JsonObject, ctx: TranslateContext, names: Record<string, string>): JsonObject {
  const out: JsonObject = { model: ctx.upstreamModel, input: itemsOf(arr(hub.messages), names), store: false }
  const system = systemText(hub.system)
  if (system) out.instructions = system
  if (num(hub.max_tokens) !== undefined) out.max_output_tokens = hub.max_tokens
  copyKeys(hub, out, ['temperature', 'top_p'])
  if (hub.stream === true) out.stream = true
  const tools: JsonObject[] = []
  for (const raw of arr(hub.tools)) {
    const t = obj(raw)
    if (str(t.type)?.startsWith('web_search')) tools.push({ type: 'web_search' })
    else if (t.input_schema !== undefined || t.type === undefined || t.type === 'custom') {
      tools.push({
        type: 'function',
        name: noteToolName(names, str(t.name) ?? ''),
        ...(str(t.description) ? { description: t.description } : {}),
        parameters: t.input_schema ?? { type: 'object', properties: {} },
        strict: false,
      })
    }
  }
  if (tools.length > 0) {
    out.tools = tools
    const choice = obj(hub.tool_choice)
    if (isObject(hub.tool_choice)) out.tool_choice = upstreamToolChoice(choice, names)
    if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false
  }
  const thinking = obj(hub.thinking)
  if (thinking.type === 'enabled') {
    out.reasoning = { effort: effortOfBudget(num(thinking.budget_tokens) ?? 0), summary: 'auto' }
    out.include = ['reasoning.encrypted_content']
  }
  const format = obj(obj(hub.output_config).format)
  if (format.type === 'json_schema' && isObject(format.schema)) {
    out.text = { format: { type: 'json_schema', name: 'structured_output', schema: format.schema, strict: false } }
  }
  const user = str(obj(hub.metadata).user_id)
  if (user) out.safety_identifier = user
  return out
}
