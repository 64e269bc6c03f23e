/**
 * OpenAI Chat Completions rendering for the mock (docs/protocols.md §3.2, §3.3, §5.2). Every
 * chunk shares one pre-built prefix (id, created, model), so a chunk costs one string
 * concatenation.
 */
import type { ContentSpec, PlannedEvent, WireBuilder } from './content.ts'
import {
  chunkText,
  frameEvent,
  fullText,
  fullThinking,
  outputTokensOf,
  staticEvent,
  thinkingTokensOf,
  thinkText,
  tokenEvent,
  TOOL_NAME,
  toolArguments,
  toolFragments,
  toolNameJson,
} from './content.ts'

export const DONE = 'data: [DONE]\n\n'
const DONE_EVENT = staticEvent(DONE)

function usageJson(spec: ContentSpec): string {
  const out = outputTokensOf(spec)
  return `{"prompt_tokens":${spec.inputTokens},"completion_tokens":${out},"total_tokens":${
    spec.inputTokens + out
  },"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":${
    thinkingTokensOf(spec)
  }}}`
}

function streamEvents(spec: ContentSpec): PlannedEvent[] {
  const head = `data: {"id":"${spec.id}","object":"chat.completion.chunk","created":${spec.created},"model":${
    JSON.stringify(spec.model)
  },"choices":[{"index":0,"delta":`
  const tail = `,"logprobs":null,"finish_reason":null}]${spec.includeUsage ? ',"usage":null' : ''}}\n\n`
  const chunk = (d: string): PlannedEvent => tokenEvent(head + d + tail)
  const out: PlannedEvent[] = [frameEvent(head + '{"role":"assistant","content":"","refusal":null}' + tail)]
  if (spec.mode === 'thinking') {
    for (let i = 1; i <= spec.thinkChunks; i++) {
      out.push(chunk(`{"reasoning_content":"${thinkText(i, spec.tokensPerChunk)}"}`))
    }
  }
  if (spec.mode === 'tool') {
    toolFragments(spec).forEach((frag, i) => {
      const first = i === 0
        ? `"id":"call_${spec.id}","type":"function","function":{"name":${toolNameJson(spec)},"arguments":`
        : '"function":{"arguments":'
      out.push(chunk(`{"tool_calls":[{"index":0,${first}${JSON.stringify(frag)}}}]}`))
    })
  } else {
    for (let i = spec.firstChunk ?? 1; i <= spec.chunks; i++) {
      out.push(chunk(`{"content":"${chunkText(i, spec.tokensPerChunk)}"}`))
    }
  }
  const finish = spec.mode === 'tool' ? 'tool_calls' : 'stop'
  out.push(
    frameEvent(
      head + `{},"logprobs":null,"finish_reason":"${finish}"}]${spec.includeUsage ? ',"usage":null' : ''}}\n\n`,
    ),
  )
  if (spec.includeUsage) {
    out.push(
      frameEvent(
        `data: {"id":"${spec.id}","object":"chat.completion.chunk","created":${spec.created},"model":${
          JSON.stringify(spec.model)
        },"choices":[],"usage":${usageJson(spec)}}\n\n`,
      ),
    )
  }
  out.push(DONE_EVENT)
  return out
}

function messageOf(spec: ContentSpec): Record<string, unknown> {
  if (spec.mode === 'tool') {
    return {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{
        id: `call_${spec.id}`,
        type: 'function',
        function: { name: spec.toolName ?? TOOL_NAME, arguments: toolArguments(spec) },
      }],
    }
  }
  const msg: Record<string, unknown> = { role: 'assistant', content: fullText(spec), refusal: null }
  if (spec.mode === 'thinking') msg.reasoning_content = fullThinking(spec)
  return msg
}

function json(spec: ContentSpec): string {
  return `{"id":"${spec.id}","object":"chat.completion","created":${spec.created},"model":${
    JSON.stringify(spec.model)
  },"choices":[{"index":0,"logprobs":null,"finish_reason":"${spec.mode === 'tool' ? 'tool_calls' : 'stop'}","message":${
    JSON.stringify(messageOf(spec))
  }}],"usage":${usageJson(spec)}}`
}

/** OpenAI `error.type` / `error.code` by HTTP status (docs/protocols.md §5.2). */
function errorOf(status: number, plain: boolean): { type: string; code: string | null } {
  if (status === 400 && !plain) return { type: 'invalid_request_error', code: 'context_length_exceeded' }
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' }
  if (status === 503 || status === 529) return { type: 'server_error', code: 'overloaded' }
  if (status >= 500) return { type: 'server_error', code: null }
  return { type: 'invalid_request_error', code: null }
}

function errorBody(status: number, message: string, inputTokens: number, plain = false): string {
  const { type, code } = errorOf(status, plain)
  const msg = status === 400 && !plain
    ? `This model's maximum context length is 128000 tokens. However, your messages resulted in ${
      inputTokens + 128_000
    } tokens.`
    : message
  return JSON.stringify({ error: { message: msg, type, param: status === 400 ? 'messages' : null, code } })
}

export const openaiWire: WireBuilder = {
  streamEvents,
  json,
  errorBody,
  malformedEvent: 'data: {"id":"chatcmpl-broken","object":"chat.completion.chu\n\n',
}
