/** Values that flow through the request pipeline. */
import type { Scenario } from '../config/types.ts'
import type { Skip } from '../routing/capabilities.ts'
import type { JsonObject, SseEvent, Usage, WireFormatName } from '../formats/types.ts'

import type { PlannedTarget } from '../routing/contract.ts'
import type { TokenEstimate } from '../tokens/estimate.ts'

export type { PlannedTarget } from '../routing/contract.ts'
export type { TokenEstimate } from '../tokens/estimate.ts'

/** An inbound request after validation, in the client's own wire format. */
export interface ClientRequest {
  readonly id: string
  readonly format: WireFormatName
  readonly body: JsonObject
  readonly stream: boolean
  readonly headers: Headers
  /** The raw query string including `?`, or `''` (Claude Code sends `?beta=true`). */
  readonly query: string
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal
  readonly receivedAt: number
  /** Router namespace from a `/preset/{name}/…` route. */
  readonly preset?: string
  /** The name of the API key the client authenticated with (`Keys[].name`), when it used a named key. */
  readonly apiKeyName?: string
  /** Switchyard's own request for an image's description (image-descriptions.ts): its image is sent as it is. */
  readonly describesImage?: true
}

export interface RouteDecision {
  readonly scenario: Scenario
  /** The request body after routing (e.g. the subagent tag stripped). */
  readonly body: JsonObject
  readonly plan: readonly PlannedTarget[]
  /** The input-token estimate routing used, by component: the one estimate of the request (its `total` is the trace's). */
  readonly tokens: TokenEstimate
  /** `experiment/arm` when a routing experiment chose the target. */
  readonly experiment?: string
  /** The routing rule that chose the plan (`Router.rules[].name`). */
  readonly rule?: string
  /** Targets dropped because the model cannot serve the request (routing/capabilities.ts). */
  readonly skipped?: readonly Skip[]
  /** Every image is in a turn before the last user turn: a model without vision gets them as text (attempt.ts). */
  readonly imagesOnlyEarlier?: true
  /** `forceUseImageAgent`: every image of the request reaches every target as text (`Router.image`'s description). */
  readonly allImagesAsText?: true
  /** The agent session the request belongs to (routing/scenario.ts `sessionIdOf`: Claude Code's, or a Codex `session-id` header). */
  readonly sessionId?: string
}

/** Bytes in, complete SSE events out (UTF-8 and event boundaries may split across chunks). */
export interface EventDecoder {
  push(bytes: Uint8Array): SseEvent[]
  flush(): SseEvent[]
  /**
   * The bytes pushed so far end at an event boundary: no partial line, event or character is
   * pending, so the next chunk starts a new event.
   */
  readonly atBoundary: boolean
}

/** A 2xx upstream answer, before anything has been sent to the client. */
export type UpstreamOk =
  | { readonly kind: 'json'; readonly status: number; readonly headers: Headers; readonly body: JsonObject }
  | {
    readonly kind: 'stream'
    readonly status: number
    readonly headers: Headers
    readonly reader: ReadableStreamDefaultReader<Uint8Array>
    /**
     * Bytes already read while waiting for the first event (the commit point). Writable: the
     * client stream lets go of them once sent, so an open stream does not hold them to its end.
     */
    head: readonly Uint8Array[]
    /** Events parsed from `head` (let go of with it). */
    headEvents: readonly SseEvent[]
    /** The decoder that parsed `head`, holding any partial event: reading goes on with it. */
    readonly decode: EventDecoder
    /** Aborts this upstream request. */
    readonly abort: (reason?: unknown) => void
  }

/**
 * What the pipeline learned about one request, for logs, metrics and usage. Each field has one
 * writer (listed in context.ts).
 */
export interface RequestTrace {
  readonly id: string
  readonly format: WireFormatName
  scenario: Scenario | 'none'
  target?: string
  tier?: string
  attempts: number
  fallbacks: number
  status: number
  ttfbMs?: number
  durationMs?: number
  usage?: Usage
  /** Set by telemetry.ts when the price is known. */
  costUsd?: number
  estimatedInputTokens: number
  /** Output tokens estimated from the characters streamed (set when a stream reported no usage). */
  estimatedOutputTokens?: number
  failure?: string
  stream: boolean
  /** `experiment/arm` when a routing experiment chose the target. */
  experiment?: string
  /** The routing rule that chose the target. */
  rule?: string
  /** `provider,model (why)` for each target the capability filter skipped. */
  skipped?: readonly string[]
  /** Response cache outcome, when the cache applied to this request. */
  cache?: 'hit' | 'miss'
  /** How often the stream was continued after a break (absent: never); such an answer is never cached. */
  continued?: number
  /**
   * Set with `continued`: the usage the committed attempt reported for the client's own prompt
   * (a continuation's prompt carries the prefill, and `usage` sums every try), for the drift check.
   */
  promptUsage?: Usage
  /** The client's API key name (`Keys[].name`), for per-key usage and budgets. */
  apiKey?: string
  /** The agent session the request belongs to (routing/scenario.ts `sessionIdOf`), when it names one. */
  session?: string
}
