/** The wire-formats layer's public face: SSE, translation, usage, errors, transformers, schemas. */
export { createSseDecoder, DEFAULT_MAX_EVENT_CHARS, SseEventTooLarge } from './sse/decode.ts'
export type { SseDecoder } from './sse/decode.ts'
export { encodeSse, encodeSseAll, encodeSseComment, takesSseComments } from './sse/encode.ts'
export { sameFormatRepair, translationFor } from './translation.ts'
export { createUsageTap, usageFromJson } from './usage.ts'
export type { UsageTap } from './usage.ts'
export { parseUpstreamError, redact, renderError, renderStreamError, streamErrorOf } from './errors.ts'
export { parseGoDuration, retryAfterFromHeaders } from './retry-after.ts'
export type { HeaderLookup } from './retry-after.ts'
export {
  applyRequestTransformers,
  applyRequestTransformersAsync,
  knownTransformer,
  pluginRewritesRequests,
  responseOptions,
  responseOutOf,
  rewritesRequests,
  transformerGeneration,
  transformerNames,
} from './transformers/registry.ts'
export type { ResponseStep, TransformerContext } from './transformers/registry.ts'
export { SYNTHETIC_SIGNATURE_PREFIX } from './translate/ids.ts'
export { stripSyntheticThinking } from './anthropic/history.ts'
export { foldSystemMessages } from './anthropic/system-messages.ts'
export { createThinkingCache } from './translate/thinking-cache.ts'
export type { ThinkingCache } from './translate/thinking-cache.ts'
export {
  AnthropicCountTokensRequestSchema,
  AnthropicCountTokensResponseSchema,
  AnthropicErrorBodySchema,
  AnthropicMessageResponseSchema,
  AnthropicMessagesRequestSchema,
} from './anthropic/schema.ts'
export { OpenAIChatRequestSchema, OpenAIChatResponseSchema, OpenAIErrorBodySchema } from './openai/schema.ts'
export type {
  JsonObject,
  SseEvent,
  StreamTranslator,
  TranslateContext,
  TranslateOptions,
  Translation,
  Usage,
  WireFormatName,
} from './types.ts'
export { jsonAsStream } from './json-to-stream.ts'
export { responsesEvents } from './responses/json-events.ts'
export { expandCompactions } from './responses/compaction.ts'
export {
  cannotContinue,
  CONTINUE_INSTRUCTION,
  markPrefix,
  Splicer,
  withInstruction,
  withPrefill,
} from './continuation/splice.ts'
export { ToolHold } from './continuation/tool-hold.ts'
export { hubView, tokenView } from './hub/pairs.ts'
export { emptyResponse, responseIdOf } from './responses/from-hub.ts'
export { untranslatableTools } from './responses/request.ts'
export { StreamRecord } from './continuation/record.ts'
export { overlapLength } from './continuation/overlap.ts'
export { unsupportedFeature } from './unsupported.ts'
export {
  ResponsesCompactionSchema,
  ResponsesInputTokensSchema,
  ResponsesRequestSchema,
  ResponsesResponseSchema,
} from './responses/schema.ts'
export {
  GeminiCountTokensSchema,
  GeminiErrorBodySchema,
  GeminiModelListSchema,
  GeminiModelSchema,
  GeminiRequestSchema,
  GeminiResponseSchema,
} from './gemini/schema.ts'
