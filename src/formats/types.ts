/** Shapes shared by every wire format. */
export type { WireFormatName } from '../config/types.ts'

/** One server-sent event. `event` is the `event:` line (Anthropic has one, OpenAI does not). */
export interface SseEvent {
  readonly event?: string
  readonly data: string
}

/**
 * Token usage in Anthropic's terms: `inputTokens` excludes cached tokens; total input is
 * input + cacheRead + cacheCreation. OpenAI usage is converted into this (docs/protocols.md §4.4).
 */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheReadTokens: number
  readonly cacheCreationTokens: number
  /**
   * Reasoning (thinking) tokens among `outputTokens`, when the upstream reported a count above
   * zero: OpenAI `completion_tokens_details.reasoning_tokens`, Responses
   * `output_tokens_details.reasoning_tokens`, Gemini `thoughtsTokenCount`, the hub's
   * `output_tokens_details.thinking_tokens`. Absent otherwise.
   */
  readonly reasoningTokens?: number
}

export type JsonObject = Record<string, unknown>

/** What a translation needs to know about the request it serves. */
export interface TranslateContext {
  /** The model name the client should see in responses. */
  readonly model: string
  /** The upstream's model id, written into the upstream request body. */
  readonly upstreamModel: string
  /** Used to mint stable message / completion ids. */
  readonly requestId: string
  /** Our own pre-request estimate, used where the upstream reports input tokens only at the end. */
  readonly estimatedInputTokens: number
  /** OpenAI client asked for `stream_options.include_usage`. */
  readonly includeUsage: boolean
  /** Seconds since the epoch for OpenAI `created`. */
  readonly created: number
  /** Repair broken tool-call argument JSON, buffering streamed arguments per call (`enhancetool`). */
  readonly repairToolArgs?: boolean
  /** Send assistant thinking back as `reasoning_content` to OpenAI upstreams (DeepSeek thinking + tools). */
  readonly roundTripReasoning?: boolean
  /** The upstream's template pre-inserts `<think>`: its output starts inside the thinking section. */
  readonly thinkingStartsOpen?: boolean
  /** The think-tag pair this upstream writes into content; `<think>` / `</think>` when absent. */
  readonly thinkTags?: readonly [string, string]
  /**
   * Shortened upstream tool name → client tool name. The pipeline hands a fresh record per
   * request and `request()` fills it in, so `response()` / `stream()` restore the names from the
   * same context. Without one, `request()` remembers its names for that ctx object.
   */
  readonly toolNames?: Record<string, string>
  /**
   * Anthropic upstream → OpenAI client: called with an assistant turn's first tool-call id and its
   * thinking / redacted_thinking blocks, which OpenAI clients cannot send back (docs/protocols.md §4.2).
   */
  readonly onThinking?: (toolCallId: string, blocks: readonly JsonObject[]) => void
  /** OpenAI client → Anthropic upstream: the blocks remembered for a tool-call id, put back in front of that turn. */
  readonly thinkingLookup?: (toolCallId: string) => readonly JsonObject[] | undefined
}

/** Translation switches that response-side transformers add to a TranslateContext. */
export interface TranslateOptions {
  readonly repairToolArgs: boolean
  readonly roundTripReasoning: boolean
  readonly thinkingStartsOpen: boolean
}

/** Incremental, pure stream translation: upstream events in, client events out. */
export interface StreamTranslator {
  push(ev: SseEvent): SseEvent[]
  /** The upstream ended. Returns the closing events, or an error event when the stream was incomplete. */
  end(): SseEvent[]
  /** True once a terminal event (client format) has been emitted. */
  readonly done: boolean
  /** True when that terminal event was an in-stream error (upstream error, or the upstream ended early). */
  readonly errored: boolean
}

/** A translation between a client format and a different upstream format. */
export interface Translation {
  request(body: JsonObject, ctx: TranslateContext): JsonObject
  response(body: JsonObject, ctx: TranslateContext): JsonObject
  stream(ctx: TranslateContext): StreamTranslator
}
