/**
 * OpenAI Responses API rendering for the mock: the full event sequence (response.created …
 * response.completed with usage), a reasoning item in thinking mode, a function_call item with
 * argument fragments in tool mode.
 */
import type { ContentSpec, PlannedEvent, WireBuilder } from './content.ts'
import {
  chunkText,
  frameEvent,
  fullText,
  fullThinking,
  outputTokensOf,
  thinkingTokensOf,
  thinkText,
  tokenEvent,
  toolArguments,
  toolFragments,
  toolNameJson,
} from './content.ts'

function usageJson(spec: ContentSpec): string {
  const out = outputTokensOf(spec)
  const reasoning = thinkingTokensOf(spec)
  return `{"input_tokens":${spec.inputTokens},"input_tokens_details":{"cached_tokens":0},"output_tokens":${out},"output_tokens_details":{"reasoning_tokens":${reasoning}},"total_tokens":${
    spec.inputTokens + out
  }}`
}

function items(spec: ContentSpec): string[] {
  const out: string[] = []
  if (spec.mode === 'thinking') {
    out.push(
      `{"id":"rs_${spec.id}","type":"reasoning","summary":[{"type":"summary_text","text":"${fullThinking(spec)}"}]}`,
    )
  }
  if (spec.mode === 'tool') {
    out.push(
      `{"id":"fc_${spec.id}","type":"function_call","status":"completed","call_id":"call_${spec.id}","name":${
        toolNameJson(spec)
      },"arguments":${JSON.stringify(toolArguments(spec))}}`,
    )
  } else {out.push(
      `{"id":"msg_${spec.id}","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"${
        fullText(spec)
      }","annotations":[]}]}`,
    )}
  return out
}

function response(spec: ContentSpec, status: string, output: string[], usage: string): string {
  return `{"id":"resp_${spec.id}","object":"response","created_at":${spec.created},"status":"${status}","error":null,"incomplete_details":null,"model":${
    JSON.stringify(spec.model)
  },"output":[${output.join(',')}],"usage":${usage}}`
}

function streamEvents(spec: ContentSpec): PlannedEvent[] {
  const out: PlannedEvent[] = []
  let seq = 0
  const ev = (type: string, rest: string, token = false) => {
    const sse = `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq++},${rest}}\n\n`
    out.push(token ? tokenEvent(sse) : frameEvent(sse))
  }
  ev('response.created', `"response":${response(spec, 'in_progress', [], 'null')}`)
  ev('response.in_progress', `"response":${response(spec, 'in_progress', [], 'null')}`)
  const done = items(spec)
  let index = 0
  if (spec.mode === 'thinking') {
    const id = `rs_${spec.id}`
    ev('response.output_item.added', `"output_index":${index},"item":{"id":"${id}","type":"reasoning","summary":[]}`)
    ev(
      'response.reasoning_summary_part.added',
      `"item_id":"${id}","output_index":${index},"summary_index":0,"part":{"type":"summary_text","text":""}`,
    )
    for (let i = 1; i <= spec.thinkChunks; i++) {
      ev(
        'response.reasoning_summary_text.delta',
        `"item_id":"${id}","output_index":${index},"summary_index":0,"delta":"${thinkText(i, spec.tokensPerChunk)}"`,
        true,
      )
    }
    ev(
      'response.reasoning_summary_text.done',
      `"item_id":"${id}","output_index":${index},"summary_index":0,"text":"${fullThinking(spec)}"`,
    )
    ev('response.output_item.done', `"output_index":${index},"item":${done[index]}`)
    index++
  }
  if (spec.mode === 'tool') {
    const id = `fc_${spec.id}`
    ev(
      'response.output_item.added',
      `"output_index":${index},"item":{"id":"${id}","type":"function_call","status":"in_progress","call_id":"call_${spec.id}","name":${
        toolNameJson(spec)
      },"arguments":""}`,
    )
    for (const frag of toolFragments(spec)) {
      ev(
        'response.function_call_arguments.delta',
        `"item_id":"${id}","output_index":${index},"delta":${JSON.stringify(frag)}`,
        true,
      )
    }
    ev(
      'response.function_call_arguments.done',
      `"item_id":"${id}","output_index":${index},"arguments":${JSON.stringify(toolArguments(spec))}`,
    )
  } else {
    const id = `msg_${spec.id}`
    const at = `"item_id":"${id}","output_index":${index},"content_index":0`
    ev(
      'response.output_item.added',
      `"output_index":${index},"item":{"id":"${id}","type":"message","status":"in_progress","role":"assistant","content":[]}`,
    )
    ev('response.content_part.added', `${at},"part":{"type":"output_text","text":"","annotations":[]}`)
    for (let i = 1; i <= spec.chunks; i++) {
      ev('response.output_text.delta', `${at},"delta":"${chunkText(i, spec.tokensPerChunk)}","logprobs":[]`, true)
    }
    ev('response.output_text.done', `${at},"text":"${fullText(spec)}","logprobs":[]`)
    ev('response.content_part.done', `${at},"part":{"type":"output_text","text":"${fullText(spec)}","annotations":[]}`)
  }
  ev('response.output_item.done', `"output_index":${index},"item":${done[index]}`)
  ev('response.completed', `"response":${response(spec, 'completed', done, usageJson(spec))}`)
  return out
}

function json(spec: ContentSpec): string {
  return response(spec, 'completed', items(spec), usageJson(spec))
}

function errorBody(status: number, message: string, inputTokens: number, plain = false): string {
  const overflow = status === 400 && !plain
  const msg = overflow
    ? `Your input exceeds the context window of this model (${inputTokens + 400_000} tokens).`
    : message
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error'
  return JSON.stringify({
    error: { message: msg, type, param: overflow ? 'input' : null, code: overflow ? 'context_length_exceeded' : null },
  })
}

export const responsesWire: WireBuilder = {
  streamEvents,
  json,
  errorBody,
  malformedEvent: 'event: response.output_text.delta\ndata: {"type":"response.output_text.de\n\n',
}
