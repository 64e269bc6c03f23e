/**
 * Gemini API rendering for the mock (docs/protocols.md, the Gemini section): chunks are whole
 * GenerateContentResponse objects, thoughts are `thought: true` parts, a function call comes
 * whole in one chunk, and the last chunk carries `finishReason` and `usageMetadata` (no
 * terminator event).
 */
import type { ContentSpec, PlannedEvent, WireBuilder } from './content.ts'
import {
  chunkText,
  fullText,
  fullThinking,
  outputTokensOf,
  thinkingTokensOf,
  thinkText,
  tokenEvent,
  toolArguments,
  toolNameJson,
} from './content.ts'

function usageJson(spec: ContentSpec): string {
  const out = outputTokensOf(spec)
  const thoughts = thinkingTokensOf(spec)
  return `{"promptTokenCount":${spec.inputTokens},"candidatesTokenCount":${out - thoughts},"totalTokenCount":${
    spec.inputTokens + out
  }${thoughts > 0 ? `,"thoughtsTokenCount":${thoughts}` : ''}}`
}

function chunk(spec: ContentSpec, parts: string, last: boolean): string {
  const finish = last ? ',"finishReason":"STOP"' : ''
  const usage = last ? `,"usageMetadata":${usageJson(spec)}` : ''
  return `{"candidates":[{"content":{"role":"model","parts":${parts}}${finish},"index":0}]${usage},"modelVersion":${
    JSON.stringify(spec.model)
  },"responseId":"${spec.id}"}`
}

const toolPart = (spec: ContentSpec): string =>
  `[{"functionCall":{"id":"call_${spec.id}","name":${toolNameJson(spec)},"args":${toolArguments(spec)}}}]`

function streamEvents(spec: ContentSpec): PlannedEvent[] {
  const out: PlannedEvent[] = []
  const data = (parts: string, last: boolean) => out.push(tokenEvent(`data: ${chunk(spec, parts, last)}\n\n`))
  if (spec.mode === 'thinking') {
    for (let i = 1; i <= spec.thinkChunks; i++) {
      data(`[{"text":"${thinkText(i, spec.tokensPerChunk)}","thought":true}]`, false)
    }
  }
  if (spec.mode === 'tool') data(toolPart(spec), true)
  else if (spec.chunks === 0) data('[{"text":""}]', true)
  else {for (let i = 1; i <= spec.chunks; i++) {
      data(`[{"text":"${chunkText(i, spec.tokensPerChunk)}"}]`, i === spec.chunks)
    }}
  return out
}

function json(spec: ContentSpec): string {
  if (spec.mode === 'tool') return chunk(spec, toolPart(spec), true)
  const thought = spec.mode === 'thinking' ? `{"text":"${fullThinking(spec)}","thought":true},` : ''
  return chunk(spec, `[${thought}{"text":"${fullText(spec)}"}]`, true)
}

const STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  529: 'UNAVAILABLE',
}

function errorBody(status: number, message: string, inputTokens: number, plain = false): string {
  const msg = status === 400 && !plain
    ? `The input token count (${inputTokens + 1_048_576}) exceeds the maximum number of tokens allowed (1048576).`
    : message
  return JSON.stringify({
    error: {
      code: status,
      message: msg,
      status: STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
    },
  })
}

export const geminiWire: WireBuilder = {
  streamEvents,
  json,
  errorBody,
  malformedEvent: 'data: {"candidates":[{"content":{"role":"mo\n\n',
}
