import type { JsonObject, TranslateContext } from '../types.ts'
import { noteToolName, sanitizeToolId } from './ids.ts'
import { arr, dataUrlSource, isObject, num, obj, str } from './json.ts'
import { parseToolArgs } from './tool-args.ts'

/** Anthropic requires max_tokens; this is what an OpenAI client that sent none gets. */
export const DEFAULT_MAX_TOKENS = 8192

/** reasoning_effort → thinking budget (≥1024 as Anthropic requires). */
const BUDGETS: Readonly<Record<string, number>> = { low: 1024, medium: 4096, high: 16384, xhigh: 32000 }

type Turn = { role: 'user' | 'assistant'; blocks: JsonObject[] }

function dataUrlBlock(url: string): JsonObject | undefined {
  const source = dataUrlSource(url)
  if (!source) return undefined
  return source.media_type === 'application/pdf' ? { type: 'document', source } : { type: 'image', source }
}

function partBlock(part: unknown): JsonObject | undefined {
  const p = obj(part)
  if (p.type === 'text') return str(p.text) ? { type: 'text', text: p.text } : undefined
  if (p.type === 'image_url') {
    const url = str(obj(p.image_url).url) ?? ''
    return url.startsWith('data:') ? dataUrlBlock(url) : { type: 'image', source: { type: 'url', url } }
  }
  if (p.type === 'file') return dataUrlBlock(str(obj(p.file).file_data) ?? '')
  return undefined // input_audio and file ids have no Anthropic equivalent
}

function contentBlocks(content: unknown): JsonObject[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  return arr(content).map(partBlock).filter(isObject)
}

function textOf(content: unknown): string {
  return contentBlocks(content).map((b) => str(b.text) ?? '').filter((t) => t).join('\n')
}

function assistantBlocks(m: JsonObject, names: Record<string, string>, ctx: TranslateContext): JsonObject[] {
  const firstCall = str(obj(arr(m.tool_calls)[0]).id)
  // Thinking an Anthropic upstream produced for this turn, remembered because the client drops it.
  const remembered = firstCall ? ctx.thinkingLookup?.(firstCall) ?? [] : []
  const blocks = [...remembered, ...contentBlocks(m.content).filter((b) => b.type === 'text')]
  if (str(m.refusal)) blocks.push({ type: 'text', text: m.refusal })
  for (const raw of arr(m.tool_calls)) {
    const c = obj(raw)
    const fn = obj(c.function)
    blocks.push({
      type: 'tool_use',
      id: sanitizeToolId(str(c.id) ?? `call_${blocks.length}`),
      name: noteToolName(names, str(fn.name) ?? ''),
      input: parseToolArgs(fn.arguments),
    })
  }
  return blocks
}

/** Push blocks as a turn, merging with the previous turn of the same role (Anthropic alternates roles). */
function pushTurn(turns: Turn[], role: Turn['role'], blocks: JsonObject[]): void {
  if (blocks.length === 0) return
  const last = turns[turns.length - 1]
  if (last && last.role === role) last.blocks.push(...blocks)
  else turns.push({ role, blocks })
}

function turnsOf(
  messages: readonly unknown[],
  system: JsonObject[],
  names: Record<string, string>,
  ctx: TranslateContext,
): Turn[] {
  const turns: Turn[] = []
  for (const raw of messages) {
    const m = obj(raw)
    if (m.role === 'system' || m.role === 'developer') {
      const text = textOf(m.content)
      if (text) system.push({ type: 'text', text })
    } else if (m.role === 'assistant') pushTurn(turns, 'assistant', assistantBlocks(m, names, ctx))
    else if (m.role === 'tool') {
      const id = sanitizeToolId(str(m.tool_call_id) ?? '')
      pushTurn(turns, 'user', [{ type: 'tool_result', tool_use_id: id, content: textOf(m.content) }])
    } else pushTurn(turns, 'user', contentBlocks(m.content))
  }
  // Inside a user turn every tool_result must come before other blocks.
  for (const t of turns) {
    if (t.role === 'user') {
      t.blocks.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'))
    }
  }
  return turns
}

function toolsOf(tools: readonly unknown[], names: Record<string, string>): JsonObject[] {
  const out: JsonObject[] = []
  for (const raw of tools) {
    const t = obj(raw)
    if (t.type !== 'function') continue
    const fn = obj(t.function)
    const tool: JsonObject = {
      name: noteToolName(names, str(fn.name) ?? ''),
      input_schema: isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
    }
    if (str(fn.description)) tool.description = fn.description
    out.push(tool)
  }
  return out
}

function toolChoiceOf(choice: unknown, names: Record<string, string>): JsonObject | undefined {
  if (choice === 'auto') return { type: 'auto' }
  if (choice === 'required') return { type: 'any' }
  if (choice === 'none') return { type: 'none' }
  const name = str(obj(obj(choice).function).name)
  return name ? { type: 'tool', name: noteToolName(names, name) } : undefined
}

/** Whether thinking can be sent: a tool loop in flight needs its last assistant turn to start with thinking (else 400). */
export function thinkingAllowed(
  turns: readonly { readonly role: string; readonly blocks: readonly JsonObject[] }[],
  toolChoice: JsonObject | undefined,
): boolean {
  const lastAssistant = [...turns].reverse().find((t) => t.role === 'assistant')
  const inToolLoop = lastAssistant?.blocks.some((b) => b.type === 'tool_use') ?? false
  const startsWithThinking = ['thinking', 'redacted_thinking'].includes(str(lastAssistant?.blocks[0]?.type) ?? '')
  return (!inToolLoop || startsWithThinking) &&
    (toolChoice === undefined || toolChoice.type === 'auto' || toolChoice.type === 'none')
}

function applyThinking(body: JsonObject, out: JsonObject, turns: readonly Turn[]): void {
  const budget = BUDGETS[str(body.reasoning_effort) ?? '']
  if (budget === undefined || !thinkingAllowed(turns, obj(out).tool_choice as JsonObject | undefined)) return
  out.thinking = { type: 'enabled', budget_tokens: budget }
  if ((out.max_tokens as number) <= budget) out.max_tokens = budget + DEFAULT_MAX_TOKENS
  delete out.temperature // thinking requires the default temperature
}

function applySampling(body: JsonObject, out: JsonObject): void {
  const t = num(body.temperature)
  if (t !== undefined) out.temperature = Math.min(Math.max(t, 0), 1)
  if (num(body.top_p) !== undefined) out.top_p = body.top_p
  const stop = typeof body.stop === 'string' ? [body.stop] : arr(body.stop).filter((s) => typeof s === 'string')
  if (stop.length > 0) out.stop_sequences = stop
}

/** Legacy `functions` / `function_call` are the same thing under older names. */
function legacyTools(body: JsonObject): { tools: readonly unknown[]; choice: unknown } {
  if (body.tools !== undefined || body.functions === undefined) {
    return { tools: arr(body.tools), choice: body.tool_choice }
  }
  const fc = body.function_call
  const choice = typeof fc === 'string'
    ? (fc === 'none' ? 'none' : 'auto')
    : fc === undefined
    ? undefined
    : { type: 'function', function: obj(fc) }
  return { tools: arr(body.functions).map((f) => ({ type: 'function', function: f })), choice }
}

/**
 * `tool_choice: {type: "allowed_tools"}` limits the model to a subset: Anthropic has no such
 * choice, so the other tools are left out and the mode becomes auto or any.
 */
function allowedTools(
  legacy: { tools: readonly unknown[]; choice: unknown },
): { tools: readonly unknown[]; choice: unknown } {
  const c = obj(legacy.choice)
  if (c.type !== 'allowed_tools') return legacy
  const spec = obj(c.allowed_tools)
  const allowed = new Set(
    arr(spec.tools).map((t) => str(obj(obj(t).function).name) ?? str(obj(t).name)).filter((n): n is string =>
      n !== undefined
    ),
  )
  return {
    tools: legacy.tools.filter((t) => allowed.has(str(obj(obj(t).function).name) ?? '')),
    choice: spec.mode === 'required' ? 'required' : 'auto',
  }
}

function applyTools(body: JsonObject, out: JsonObject, names: Record<string, string>): void {
  const legacy = allowedTools(legacyTools(body))
  const tools = toolsOf(legacy.tools, names)
  if (tools.length === 0) return
  out.tools = tools
  const choice = toolChoiceOf(legacy.choice, names)
  if (choice) out.tool_choice = choice
  if (body.parallel_tool_calls === false) {
    out.tool_choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true }
  }
}

/** What `response_format: {type: "json_object"}` becomes for an Anthropic upstream. */
export const JSON_MODE_INSTRUCTION =
  'Respond with a single valid JSON object and nothing else: no prose, no code fences.'

/**
 * OpenAI Chat Completions request → Anthropic Messages request (docs/protocols.md §4.2). System and
 * developer messages are hoisted; tool messages become tool_result blocks in one user turn.
 */

export function openAIToAnthropicRequest(
  body: JsonObject,
  ctx: TranslateContext,
  names: Record<string, string>,
): JsonObject {
  const system: JsonObject[] = []
  const turns = turnsOf(arr(body.messages), system, names, ctx)
  // Anthropic has no JSON mode: the instruction is the closest equivalent (docs/protocols.md §4.2).
  if (obj(body.response_format).type === 'json_object') system.push({ type: 'text', text: JSON_MODE_INSTRUCTION })
  const out: JsonObject = {
    model: ctx.upstreamModel,
    max_tokens: num(body.max_completion_tokens) ?? num(body.max_tokens) ?? DEFAULT_MAX_TOKENS,
    messages: turns.map((t) => ({ role: t.role, content: t.blocks })),
  }
  if (system.length > 0) out.system = system
  applySampling(body, out)
  applyTools(body, out, names)
  if (body.stream === true) out.stream = true
  const user = str(body.user) ?? str(body.safety_identifier)
  if (user) out.metadata = { user_id: user }
  applyThinking(body, out, turns)
  const rf = obj(body.response_format)
  const schema = obj(rf.json_schema).schema
  if (rf.type === 'json_schema' && isObject(schema)) out.output_config = { format: { type: 'json_schema', schema } }
  return out
}
