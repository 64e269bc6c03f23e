/**
 * Anthropic Messages rendering for the mock (docs/protocols.md §2.2, §2.3, §5.1). Events are
 * built from string templates: the only dynamic parts are numbers and chunk text that
 * needs no JSON escaping, so no per-chunk JSON.stringify.
 */
import type { ContentSpec, PlannedEvent, WireBuilder } from './content.ts'
import {
  chunkText,
  frameEvent,
  fullText,
  fullThinking,
  outputTokensOf,
  staticEvent,
  thinkText,
  tokenEvent,
  TOOL_NAME,
  toolArguments,
  toolFragments,
  toolNameJson,
} from './content.ts'

const ev = (name: string, data: string): string => `event: ${name}\ndata: ${data}\n\n`
const frame = (name: string, data: string): PlannedEvent => frameEvent(ev(name, data))

const STOPS = [0, 1, 2].map((i) => staticEvent(ev('content_block_stop', `{"type":"content_block_stop","index":${i}}`)))
const STOP = (i: number): PlannedEvent =>
  STOPS[i] ?? frame('content_block_stop', `{"type":"content_block_stop","index":${i}}`)
const MESSAGE_STOP = staticEvent(ev('message_stop', '{"type":"message_stop"}'))
const SIGNATURE = 'bW9jay1zaWduYXR1cmU='

function delta(index: number, d: string): PlannedEvent {
  return tokenEvent(ev('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":${d}}`))
}

function messageStart(spec: ContentSpec): PlannedEvent {
  return frame(
    'message_start',
    `{"type":"message_start","message":{"id":"${spec.id}","type":"message","role":"assistant","model":${
      JSON.stringify(spec.model)
    },"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":${spec.inputTokens},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`,
  )
}

function textBlock(index: number, spec: ContentSpec, out: PlannedEvent[]): void {
  out.push(
    frame(
      'content_block_start',
      `{"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}`,
    ),
  )
  for (let i = spec.firstChunk ?? 1; i <= spec.chunks; i++) {
    out.push(delta(index, `{"type":"text_delta","text":"${chunkText(i, spec.tokensPerChunk)}"}`))
  }
  out.push(STOP(index))
}

function thinkingBlock(spec: ContentSpec, out: PlannedEvent[]): void {
  out.push(
    frame(
      'content_block_start',
      '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}',
    ),
  )
  for (let i = 1; i <= spec.thinkChunks; i++) {
    out.push(delta(0, `{"type":"thinking_delta","thinking":"${thinkText(i, spec.tokensPerChunk)}"}`))
  }
  out.push(
    frameEvent(
      ev(
        'content_block_delta',
        `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"${SIGNATURE}"}}`,
      ),
    ),
  )
  out.push(STOP(0))
}

function toolBlock(spec: ContentSpec, out: PlannedEvent[]): void {
  out.push(
    frame(
      'content_block_start',
      `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_${spec.id}","name":${
        toolNameJson(spec)
      },"input":{}}}`,
    ),
  )
  for (const frag of toolFragments(spec)) {
    out.push(delta(0, `{"type":"input_json_delta","partial_json":${JSON.stringify(frag)}}`))
  }
  out.push(STOP(0))
}

function stopReason(spec: ContentSpec): string {
  return spec.mode === 'tool' ? 'tool_use' : 'end_turn'
}

function streamEvents(spec: ContentSpec): PlannedEvent[] {
  const out: PlannedEvent[] = [messageStart(spec)]
  if (spec.mode === 'tool') toolBlock(spec, out)
  else if (spec.mode === 'thinking') {
    thinkingBlock(spec, out)
    textBlock(1, spec, out)
  } else textBlock(0, spec, out)
  out.push(
    frame(
      'message_delta',
      `{"type":"message_delta","delta":{"stop_reason":"${
        stopReason(spec)
      }","stop_sequence":null},"usage":{"output_tokens":${outputTokensOf(spec)}}}`,
    ),
  )
  out.push(MESSAGE_STOP)
  return out
}

function contentOf(spec: ContentSpec): unknown[] {
  if (spec.mode === 'tool') {
    return [{
      type: 'tool_use',
      id: `toolu_${spec.id}`,
      name: spec.toolName ?? TOOL_NAME,
      input: JSON.parse(toolArguments(spec)) as unknown,
    }]
  }
  const text = { type: 'text', text: fullText(spec) }
  return spec.mode === 'thinking'
    ? [{ type: 'thinking', thinking: fullThinking(spec), signature: SIGNATURE }, text]
    : [text]
}

function json(spec: ContentSpec): string {
  return JSON.stringify({
    id: spec.id,
    type: 'message',
    role: 'assistant',
    model: spec.model,
    content: contentOf(spec),
    stop_reason: stopReason(spec),
    stop_sequence: null,
    usage: {
      input_tokens: spec.inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: outputTokensOf(spec),
    },
  })
}

/** Anthropic `error.type` by HTTP status (docs/protocols.md §5.1). */
function errorType(status: number): string {
  if (status === 429) return 'rate_limit_error'
  if (status === 529 || status === 503) return 'overloaded_error'
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 504) return 'timeout_error'
  return status >= 500 ? 'api_error' : 'invalid_request_error'
}

function errorBody(status: number, message: string, inputTokens: number, plain = false): string {
  const msg = status === 400 && !plain
    ? `prompt is too long: ${inputTokens + 200_000} tokens > 200000 maximum`
    : message
  return JSON.stringify({ type: 'error', error: { type: errorType(status), message: msg }, request_id: 'req_mock' })
}

export const anthropicWire: WireBuilder = {
  streamEvents,
  json,
  errorBody,
  malformedEvent: ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_del'),
}
