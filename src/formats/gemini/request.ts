/**
 * Gemini API requests (`generateContent` bodies) ⇄ hub (Anthropic-shaped) requests.
 * contents/parts (text, thought parts, inlineData, fileData, functionCall with ids,
 * functionResponse), systemInstruction, tools (functionDeclarations with `parameters` or
 * `parametersJsonSchema`, googleSearch), toolConfig and generationConfig (incl. thinkingConfig).
 * Thought signatures ride in hub thinking signatures (hub/events.ts) and come back on the part
 * they were on.
 */
import type { JsonObject, TranslateContext } from '../types.ts'
import { foreignSignature, openThinkingEnvelope, systemText, unwrapSignature } from '../hub/events.ts'
import { sanitizeToolId, syntheticSignature } from '../translate/ids.ts'
import { arr, isObject, num, obj, str, tryParse } from '../translate/json.ts'
import { DEFAULT_MAX_TOKENS, JSON_MODE_INSTRUCTION } from '../translate/openai-to-anthropic-request.ts'
import { documentText } from '../translate/anthropic-to-openai-request.ts'

/** What Gemini accepts in place of a real signature on a replayed function call (Google's documented value). */
const SKIP_SIGNATURE = 'skip_thought_signature_validator'

/** thinkingLevel → hub thinking budget. */
const LEVEL_BUDGETS: Readonly<Record<string, number>> = { MINIMAL: 1024, LOW: 1024, MEDIUM: 8192, HIGH: 16384 }
/** Budget for Gemini's "dynamic" thinking (`thinkingBudget: -1`). */
const DYNAMIC_BUDGET = 8192

type Turn = { role: 'user' | 'assistant'; blocks: JsonObject[] }

/** A functionResponse's `response` as tool_result content: a lone `output` / `error` string is unwrapped. */
function responseContent(response: unknown): { content: string; isError: boolean } {
  const r = obj(response)
  const keys = Object.keys(r)
  const only = keys.length === 1 ? str(r[keys[0]!]) : undefined
  if (only !== undefined && (keys[0] === 'output' || keys[0] === 'error') && !isObject(tryParse(only))) {
    return { content: only, isError: keys[0] === 'error' }
  }
  return { content: JSON.stringify(response ?? {}), isError: false }
}

function mediaBlock(mimeType: string, source: JsonObject): JsonObject {
  return mimeType.startsWith('image/') ? { type: 'image', source } : { type: 'document', source }
}

/** A part's inline bytes and file URI as hub image or document blocks. */
function mediaBlocks(p: JsonObject): JsonObject[] {
  const out: JsonObject[] = []
  const inline = obj(p.inlineData)
  if (str(inline.data)) {
    out.push(
      mediaBlock(str(inline.mimeType) ?? 'application/octet-stream', {
        type: 'base64',
        media_type: str(inline.mimeType) ?? 'application/octet-stream',
        data: inline.data,
      }),
    )
  }
  const file = obj(p.fileData)
  if (str(file.fileUri)) out.push(mediaBlock(str(file.mimeType) ?? 'image/png', { type: 'url', url: file.fileUri }))
  return out
}

function partBlocks(raw: unknown, ids: ToolIds): JsonObject[] {
  const p = obj(raw)
  const sig = str(p.thoughtSignature)
  if (p.thought === true) {
    return [{
      type: 'thinking',
      thinking: str(p.text) ?? '',
      signature: sig ? foreignSignature('gemini', sig) : syntheticSignature(str(p.text) ?? ''),
    }]
  }
  const out: JsonObject[] = []
  // A signature on a non-thought part (Gemini puts it on function calls) rides in an empty thinking block before it.
  if (sig) out.push({ type: 'thinking', thinking: '', signature: foreignSignature('gemini', sig) })
  if (str(p.text)) out.push({ type: 'text', text: p.text })
  out.push(...mediaBlocks(p))
  if (isObject(p.functionCall)) {
    const fc = p.functionCall
    out.push({
      type: 'tool_use',
      id: ids.call(str(fc.name) ?? '', str(fc.id)),
      name: str(fc.name) ?? '',
      input: isObject(fc.args) ? fc.args : {},
    })
  }
  if (isObject(p.functionResponse)) {
    const fr = p.functionResponse
    const { content, isError } = responseContent(fr.response)
    // Gemini 3's multimodal function responses carry the tool's images and files in `parts`
    // (the Gemini CLI sends a file read_file read this way for gemini-3 models).
    const media = arr(fr.parts).flatMap((part) => mediaBlocks(obj(part)))
    out.push({
      type: 'tool_result',
      tool_use_id: ids.result(str(fr.name) ?? '', str(fr.id)),
      content: media.length > 0 ? [{ type: 'text', text: content }, ...media] : content,
      ...(isError ? { is_error: true } : {}),
    })
  }
  return out
}

/** Gemini call ids are optional: calls without one get a stable id, and results match them by name, in order. */
class ToolIds {
  readonly #waiting = new Map<string, string[]>()
  #n = 0
  call(name: string, id: string | undefined): string {
    const out = sanitizeToolId(id ?? `call_${name}_${this.#n++}`)
    const q = this.#waiting.get(name) ?? []
    q.push(out)
    this.#waiting.set(name, q)
    return out
  }
  result(name: string, id: string | undefined): string {
    const q = this.#waiting.get(name) ?? []
    if (id !== undefined) {
      const clean = sanitizeToolId(id)
      const at = q.indexOf(clean)
      if (at >= 0) q.splice(at, 1)
      return clean
    }
    return q.shift() ?? sanitizeToolId(`call_${name}_${this.#n++}`)
  }
}

function turnsOf(contents: readonly unknown[]): Turn[] {
  const ids = new ToolIds()
  const turns: Turn[] = []
  for (const raw of contents) {
    const c = obj(raw)
    const role = c.role === 'model' ? 'assistant' : 'user'
    const blocks: JsonObject[] = []
    for (const p of arr(c.parts)) {
      let part = obj(p)
      const prev = blocks[blocks.length - 1]
      const envelope = openThinkingEnvelope(part.thoughtSignature)
      if (envelope) {
        // A packed thinking block (hub/events.ts): it replaces the unsigned copy of its thought, if the client kept one.
        const block = { type: 'thinking', thinking: envelope.thinking, signature: envelope.signature }
        if (
          prev?.type === 'thinking' && prev.thinking === envelope.thinking &&
          unwrapSignature('gemini', prev.signature) === undefined
        ) blocks[blocks.length - 1] = block
        else blocks.push(block)
        const { thoughtSignature: _sig, ...rest } = part
        if (rest.thought === true && !str(rest.text)) continue
        part = rest
      }
      // A signature-only thought part closes the thought before it (how Switchyard streams them).
      if (
        part.thought === true && !str(part.text) && str(part.thoughtSignature) && prev?.type === 'thinking' &&
        unwrapSignature('gemini', prev.signature) === undefined && str(prev.thinking)
      ) {
        prev.signature = foreignSignature('gemini', part.thoughtSignature as string)
      } else blocks.push(...partBlocks(part, ids))
    }
    if (blocks.length === 0) continue
    const last = turns[turns.length - 1]
    if (last && last.role === role) last.blocks.push(...blocks)
    else turns.push({ role, blocks })
  }
  for (const t of turns) {
    if (t.role === 'user') {
      t.blocks.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'))
    }
  }
  return turns
}

/** Gemini's OpenAPI-subset schema (`parameters`, upper-case types) as JSON Schema. */
function jsonSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf)
  if (!isObject(schema)) return schema
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type' && typeof v === 'string') out.type = v.toLowerCase()
    else if (k === 'properties' && isObject(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, jsonSchemaOf(s)]))
    } else if (k === 'items' || k === 'anyOf') out[k] = jsonSchemaOf(v)
    else out[k] = v
  }
  return out
}

function toolsOf(tools: readonly unknown[]): JsonObject[] {
  const out: JsonObject[] = []
  for (const raw of tools) {
    const t = obj(raw)
    for (const d of arr(t.functionDeclarations ?? t.function_declarations)) {
      const fn = obj(d)
      const schema = fn.parametersJsonSchema ?? (fn.parameters !== undefined ? jsonSchemaOf(fn.parameters) : undefined)
      out.push({
        name: str(fn.name) ?? '',
        ...(str(fn.description) ? { description: fn.description } : {}),
        input_schema: isObject(schema) ? schema : { type: 'object', properties: {} },
      })
    }
    if (t.googleSearch !== undefined || t.google_search !== undefined || t.googleSearchRetrieval !== undefined) {
      out.push({ type: 'web_search_20250305', name: 'web_search' })
    }
  }
  return out
}

function toolChoiceOf(config: JsonObject): JsonObject | undefined {
  const fc = obj(config.functionCallingConfig ?? config.function_calling_config)
  const allowed = arr(fc.allowedFunctionNames).filter((n): n is string => typeof n === 'string')
  switch (fc.mode) {
    case 'AUTO':
    case 'VALIDATED':
      return { type: 'auto' }
    case 'NONE':
      return { type: 'none' }
    case 'ANY':
      return allowed.length === 1 ? { type: 'tool', name: allowed[0] } : { type: 'any' }
    default:
      return undefined
  }
}

function thinkingOf(config: JsonObject): JsonObject | undefined {
  const budget = num(config.thinkingBudget)
  const level = str(config.thinkingLevel)?.toUpperCase()
  if (budget === 0) return { type: 'disabled' }
  if (budget !== undefined) {
    return { type: 'enabled', budget_tokens: budget < 0 ? DYNAMIC_BUDGET : Math.max(budget, 1024) }
  }
  if (level !== undefined) return { type: 'enabled', budget_tokens: LEVEL_BUDGETS[level] ?? DYNAMIC_BUDGET }
  return undefined
}

/** A Gemini request (with the model from its URL in `model`) as a hub request. */
export function geminiToHub(body: JsonObject): JsonObject {
  const gen = obj(body.generationConfig)
  const out: JsonObject = {
    model: body.model,
    max_tokens: num(gen.maxOutputTokens) ?? DEFAULT_MAX_TOKENS,
    messages: turnsOf(arr(body.contents)).map((t) => ({ role: t.role, content: t.blocks })),
  }
  const system = arr(obj(body.systemInstruction ?? body.system_instruction).parts).map((p) => str(obj(p).text) ?? '')
    .filter((t) => t).join('\n')
  if (system) out.system = system
  if (num(gen.temperature) !== undefined) out.temperature = gen.temperature
  if (num(gen.topP) !== undefined) out.top_p = gen.topP
  if (num(gen.topK) !== undefined) out.top_k = gen.topK
  const stops = arr(gen.stopSequences).filter((s) => typeof s === 'string')
  if (stops.length > 0) out.stop_sequences = stops
  const tools = toolsOf(arr(body.tools))
  if (tools.length > 0) {
    out.tools = tools
    const choice = toolChoiceOf(obj(body.toolConfig ?? body.tool_config))
    if (choice) out.tool_choice = choice
  }
  const thinking = thinkingOf(obj(gen.thinkingConfig))
  if (thinking) {
    out.thinking = thinking
    const budget = num(thinking.budget_tokens) ?? 0
    if ((out.max_tokens as number) <= budget) out.max_tokens = budget + DEFAULT_MAX_TOKENS
  }
  // Schemas may use the OpenAPI subset's upper-case type names (the Gemini CLI's classifier does).
  const schema = jsonSchemaOf(gen.responseJsonSchema ?? gen.responseSchema)
  if (str(gen.responseMimeType) === 'application/json') {
    if (isObject(schema)) out.output_config = { format: { type: 'json_schema', schema } }
    else out.system = [str(out.system), JSON_MODE_INSTRUCTION].filter((t) => t).join('\n\n')
  }
  if (body.stream === true) out.stream = true
  return out
}

// ---------------------------------------------------------------------------------------------
// hub → Gemini (a Gemini upstream)

/** JSON Schema keywords Gemini's function `parameters` accept; everything else is dropped. */
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
])

/**
 * A JSON Schema cleaned to what Gemini accepts (as CCR's gemini transformer does): unknown
 * keywords dropped (`$schema`, `additionalProperties`, `const`, …), `type: [x, "null"]` made
 * `nullable`, string formats other than `enum` / `date-time` removed.
 */
function cleanSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(cleanSchema)
  if (!isObject(schema)) return schema
  const out: JsonObject = {}
  const types = Array.isArray(schema.type) ? schema.type : [schema.type]
  for (const [k, v] of Object.entries(schema)) {
    if (!SCHEMA_KEYS.has(k)) continue
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null')
      out.type = types[0] ?? 'string'
      if (types.length < v.length) out.nullable = true
    } else if (k === 'properties' && isObject(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, cleanSchema(s)]))
    } else if (k === 'items' || k === 'anyOf') out[k] = cleanSchema(v)
    else if (k === 'format' && types.includes('string') && v !== 'enum' && v !== 'date-time') continue
    else out[k] = v
  }
  if (schema.const !== undefined && out.enum === undefined) out.enum = [schema.const]
  return out
}

/** A hub image or document block as a Gemini part: inline bytes, a file URI, or a document's text. */
function mediaPart(b: JsonObject): JsonObject | undefined {
  const text = b.type === 'document' ? documentText(b) : undefined
  if (text !== undefined) return { text }
  const source = obj(b.source)
  const fallbackMime = b.type === 'image' ? 'image/png' : 'application/pdf'
  if (source.type === 'base64') {
    return { inlineData: { mimeType: str(source.media_type) ?? fallbackMime, data: str(source.data) ?? '' } }
  }
  if (source.type === 'url') return { fileData: { mimeType: fallbackMime, fileUri: str(source.url) ?? '' } }
  return undefined
}

function toolResponse(content: unknown, isError: boolean): JsonObject {
  const text = typeof content === 'string' ? content : systemText(content)
  const parsed = tryParse(text)
  if (!isError && isObject(parsed)) return parsed
  return isError ? { error: text } : { output: text }
}

function contentsOf(messages: readonly unknown[]): JsonObject[] {
  const names = new Map<string, string>()
  const out: JsonObject[] = []
  for (const raw of messages) {
    const m = obj(raw)
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : arr(m.content).map(obj)
    const parts: JsonObject[] = []
    // Images and files a tool returned: a functionResponse holds JSON only, so they follow the
    // turn's responses as parts of their own (as OpenAI upstreams get them in a user message).
    const toolMedia: JsonObject[] = []
    let pending: string | undefined
    for (const b of blocks) {
      if (b.type === 'text' && str(b.text)) parts.push({ text: b.text })
      else if (b.type === 'thinking') {
        const sig = unwrapSignature('gemini', b.signature)
        if (str(b.thinking) && sig !== undefined) parts.push({ text: b.thinking, thought: true, thoughtSignature: sig })
        else if (sig !== undefined) pending = sig
      } else if (b.type === 'tool_use') {
        names.set(str(b.id) ?? '', str(b.name) ?? '')
        const first = !parts.some((p) => p.functionCall !== undefined)
        // Gemini 3 wants the first call of a turn signed; a call from elsewhere gets Google's documented stand-in.
        const sig = pending ?? (first ? SKIP_SIGNATURE : undefined)
        pending = undefined
        parts.push({
          functionCall: { id: str(b.id) ?? '', name: str(b.name) ?? '', args: b.input ?? {} },
          ...(sig ? { thoughtSignature: sig } : {}),
        })
      } else if (b.type === 'tool_result') {
        const id = str(b.tool_use_id) ?? ''
        parts.push({
          functionResponse: { id, name: names.get(id) ?? id, response: toolResponse(b.content, b.is_error === true) },
        })
        for (const c of arr(b.content).map(obj)) {
          const p = c.type === 'image' || c.type === 'document' ? mediaPart(c) : undefined
          if (p) toolMedia.push(p)
        }
      } else if (b.type === 'image' || b.type === 'document') {
        const p = mediaPart(b)
        if (p) parts.push(p)
      }
    }
    parts.push(...toolMedia)
    if (parts.length === 0) continue
    const role = m.role === 'assistant' ? 'model' : 'user'
    const last = out[out.length - 1]
    if (last && last.role === role) (last.parts as JsonObject[]).push(...parts)
    else out.push({ role, parts })
  }
  return out
}

function toolConfigOf(choice: JsonObject): JsonObject | undefined {
  switch (choice.type) {
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } }
    case 'any':
      return { functionCallingConfig: { mode: 'ANY' } }
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } }
    case 'tool':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [str(choice.name) ?? ''] } }
    default:
      return undefined
  }
}

/** A hub request as a Gemini `generateContent` body (the model goes in the URL, not the body). */
export function hubToGemini(hub: JsonObject, _ctx: TranslateContext): JsonObject {
  const out: JsonObject = { contents: contentsOf(arr(hub.messages)) }
  const system = systemText(hub.system)
  if (system) out.systemInstruction = { parts: [{ text: system }] }
  const decls: JsonObject[] = []
  const tools: JsonObject[] = []
  for (const raw of arr(hub.tools)) {
    const t = obj(raw)
    if (str(t.type)?.startsWith('web_search')) tools.push({ googleSearch: {} })
    else if (t.input_schema !== undefined || t.type === undefined || t.type === 'custom') {
      decls.push({
        name: str(t.name) ?? '',
        ...(str(t.description) ? { description: t.description } : {}),
        parameters: cleanSchema(t.input_schema ?? { type: 'object', properties: {} }),
      })
    }
  }
  if (decls.length > 0) tools.unshift({ functionDeclarations: decls })
  if (tools.length > 0) out.tools = tools
  const toolConfig = decls.length > 0 && isObject(hub.tool_choice) ? toolConfigOf(hub.tool_choice) : undefined
  if (toolConfig) out.toolConfig = toolConfig
  const gen: JsonObject = {}
  if (num(hub.max_tokens) !== undefined) gen.maxOutputTokens = hub.max_tokens
  if (num(hub.temperature) !== undefined) gen.temperature = hub.temperature
  if (num(hub.top_p) !== undefined) gen.topP = hub.top_p
  if (num(hub.top_k) !== undefined) gen.topK = hub.top_k
  const stops = arr(hub.stop_sequences).filter((s) => typeof s === 'string')
  if (stops.length > 0) gen.stopSequences = stops
  const thinking = obj(hub.thinking)
  if (thinking.type === 'enabled') {
    gen.thinkingConfig = { includeThoughts: true, thinkingBudget: num(thinking.budget_tokens) ?? DYNAMIC_BUDGET }
  } else if (thinking.type === 'adaptive') gen.thinkingConfig = { includeThoughts: true, thinkingBudget: -1 }
  else if (thinking.type === 'disabled') gen.thinkingConfig = { thinkingBudget: 0 }
  const format = obj(obj(hub.output_config).format)
  if (format.type === 'json_schema' && isObject(format.schema)) {
    gen.responseMimeType = 'application/json'
    gen.responseJsonSchema = format.schema
  }
  if (Object.keys(gen).length > 0) out.generationConfig = gen
  return out
}
