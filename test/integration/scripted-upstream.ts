/**
 * A scripted upstream for the agent-CLI tests, in any of the four wire formats: it answers a
 * prompt asking to "print a word" with one shell-tool call (`echo hello-42`), a request carrying the
 * tool's result with a sentence quoting it, and anything else with a plain greeting. Answers are
 * written as hub messages and rendered in the upstream's format, JSON or SSE.
 */
import { encodeSseAll, jsonAsStream } from '../../src/formats/index.ts'
import { anthropicEvents } from '../../src/formats/json-to-stream.ts'
import { HUB_SIDES } from '../../src/formats/hub/pairs.ts'
import type { JsonObject, TranslateContext, WireFormatName } from '../../src/formats/types.ts'

export const SHELL_WORD = 'hello-42'
export const GREETING = 'Hello from the scripted upstream'
/** The signature on the scripted thinking block (an Anthropic upstream must get it back, byte for byte). */
export const THINKING_SIGNATURE = 'EqQBCkYIBxgCKkBscripted'

const ctx: TranslateContext = {
  model: 'scripted',
  upstreamModel: 'scripted',
  requestId: 'scripted',
  estimatedInputTokens: 20,
  includeUsage: true,
  created: 0,
}

export function formatOfUrl(url: string): WireFormatName {
  const path = new URL(url).pathname
  if (path.endsWith('/v1/messages')) return 'anthropic'
  if (path.endsWith('/responses')) return 'responses'
  if (path.includes(':')) return 'gemini'
  return 'openai'
}

/** Every string in a body, joined: enough to find prompts, tool names and tool results in any format. */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.map(textOf).join('\n')
  if (v && typeof v === 'object') return Object.values(v).map(textOf).join('\n')
  return ''
}

/** The tool result's text in the request, if the request carries one (any format). */
function toolResult(format: WireFormatName, body: JsonObject): string | undefined {
  const json = JSON.stringify(body)
  const marker = {
    anthropic: '"tool_result"',
    openai: '"role":"tool"',
    responses: '"function_call_output"',
    gemini: '"functionResponse"',
  }[format]
  if (!json.includes(marker)) return undefined
  return textOf(body).includes(SHELL_WORD) ? SHELL_WORD : 'no output'
}

/** The last user prompt's text: only it decides whether to call the tool. */
function lastPrompt(body: JsonObject): string {
  const all = textOf(body.messages ?? body.input ?? body.contents)
  return all.slice(-400)
}

function shellCall(body: JsonObject): JsonObject | undefined {
  const tools = JSON.stringify(body.tools ?? [])
  if (tools.includes('exec_command')) return { name: 'exec_command', input: { cmd: `echo ${SHELL_WORD}` } }
  if (tools.includes('run_shell_command')) {
    return { name: 'run_shell_command', input: { command: `echo ${SHELL_WORD}`, description: 'Print a word' } }
  }
  return undefined
}

/** The hub message the script answers with. */
export function scriptedAnswer(format: WireFormatName, body: JsonObject): JsonObject {
  const base = {
    id: 'msg_scripted',
    type: 'message',
    role: 'assistant',
    model: 'scripted',
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  }
  const result = toolResult(format, body)
  if (result !== undefined) {
    return { ...base, content: [{ type: 'text', text: `The command printed ${result}.` }], stop_reason: 'end_turn' }
  }
  const call = /print a word/i.test(lastPrompt(body)) ? shellCall(body) : undefined
  // With thinking on, the call comes after a signed thinking block, as Anthropic answers in a tool loop.
  const thinking = body.thinking !== undefined || body.reasoning !== undefined ||
    (body.generationConfig as JsonObject | undefined)?.thinkingConfig !== undefined
  const plan = thinking ? [{ type: 'thinking', thinking: 'I will run echo.', signature: THINKING_SIGNATURE }] : []
  if (call) {
    return {
      ...base,
      content: [...plan, { type: 'tool_use', id: 'call_scripted_1', ...call }],
      stop_reason: 'tool_use',
    }
  }
  return { ...base, content: [{ type: 'text', text: GREETING }], stop_reason: 'end_turn' }
}

/** A fetch that answers like an upstream of the URL's format. Records each request body. */
export function scriptedUpstream(): {
  fetch: (req: Request) => Promise<Response>
  seen: { url: string; body: JsonObject }[]
} {
  const seen: { url: string; body: JsonObject }[] = []
  return {
    seen,
    fetch: async (req) => {
      const format = formatOfUrl(req.url)
      const body = (await req.json()) as JsonObject
      seen.push({ url: req.url, body })
      const hub = scriptedAnswer(format, body)
      const out = HUB_SIDES[format].fromHubResponse(hub, ctx, { names: {}, custom: new Set() })
      const stream = format === 'gemini' ? req.url.includes('alt=sse') : body.stream === true
      if (!stream) return Response.json(out)
      const text = format === 'anthropic'
        ? encodeSseAll(anthropicEvents(hub))
        : jsonAsStream(format, out, { includeUsage: true })
      return new Response(text, { headers: { 'content-type': 'text/event-stream' } })
    },
  }
}
