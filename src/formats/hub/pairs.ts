/**
 * Translation through the hub: each wire format is one `in` and one `out` side, and a pair is
 * client-in → hub → upstream-out for requests and upstream-in → hub → client-out for answers
 * (JSON and streams). Anthropic is the hub's own shape, so its sides are the identity.
 */
import type { JsonObject, StreamTranslator, TranslateContext, Translation, WireFormatName } from '../types.ts'
import { stripSyntheticThinking } from '../anthropic/history.ts'
import { foldSystemMessages } from '../anthropic/system-messages.ts'
import { anthropicToOpenAIRequest } from '../translate/anthropic-to-openai-request.ts'
import { AnthropicToOpenAIStream } from '../translate/anthropic-to-openai-stream.ts'
import { openAIToAnthropicRequest, thinkingAllowed } from '../translate/openai-to-anthropic-request.ts'
import { OpenAIToAnthropicStream } from '../translate/openai-to-anthropic-stream.ts'
import { anthropicToOpenAIResponse, openAIToAnthropicResponse } from '../translate/responses.ts'
import { arr, isObject, num, obj } from '../translate/json.ts'
import { usageOfOpenAI, withThinkingTokens } from '../translate/usage-map.ts'
import { hubToResponses, type RequestMemo, responsesToHub } from '../responses/request.ts'
import { hubToResponsesResponse, HubToResponsesStream } from '../responses/from-hub.ts'
import { responsesResponseToHub, ResponsesToHubStream } from '../responses/to-hub.ts'
import { geminiToHub, hubToGemini } from '../gemini/request.ts'
import { geminiResponseToHub, GeminiToHubStream, hubToGeminiResponse, HubToGeminiStream } from '../gemini/stream.ts'

export type { RequestMemo }

/** One wire format as seen from the hub. Undefined stream sides mean "already hub events". */
export interface HubSide {
  /** A client request in this format → a hub request. */
  readonly toHubRequest: (body: JsonObject, ctx: TranslateContext, memo: RequestMemo) => JsonObject
  /** A hub answer → this format, for a client of it. */
  readonly fromHubResponse: (message: JsonObject, ctx: TranslateContext, memo: RequestMemo) => JsonObject
  readonly fromHubStream?: (ctx: TranslateContext, memo: RequestMemo) => StreamTranslator
  /** A hub request → this format, for an upstream of it. */
  readonly fromHubRequest: (hub: JsonObject, ctx: TranslateContext, names: Record<string, string>) => JsonObject
  /** This upstream's answer → hub. */
  readonly toHubResponse: (body: JsonObject, ctx: TranslateContext) => JsonObject
  readonly toHubStream?: (ctx: TranslateContext) => StreamTranslator
}

/**
 * Hub → Anthropic upstream: our synthetic and foreign signatures stripped, sampling in
 * Anthropic's range, and thinking only where Anthropic accepts it (a tool loop in flight needs
 * its last assistant turn to start with a thinking block; a forced tool choice excludes it).
 */
function anthropicUpstream(hub: JsonObject, ctx: TranslateContext): JsonObject {
  const out: JsonObject = { ...stripSyntheticThinking(hub), model: ctx.upstreamModel }
  const t = num(out.temperature)
  if (t !== undefined) out.temperature = Math.min(Math.max(t, 0), 1)
  if (obj(out.thinking).type !== 'enabled') return out
  const turns = arr(out.messages).map((m) => ({
    role: obj(m).role === 'assistant' ? 'assistant' as const : 'user' as const,
    blocks: arr(obj(m).content).map(obj),
  }))
  if (!thinkingAllowed(turns, isObject(out.tool_choice) ? out.tool_choice : undefined)) delete out.thinking
  else delete out.temperature
  return out
}

export const HUB_SIDES: Readonly<Record<WireFormatName, HubSide>> = {
  anthropic: {
    // The hub has no system messages inside the conversation: every other format's system prompt comes first.
    toHubRequest: (body) => foldSystemMessages(body),
    fromHubResponse: (message) => message,
    fromHubRequest: (hub, ctx) => anthropicUpstream(hub, ctx),
    toHubResponse: (body) => body,
  },
  openai: {
    toHubRequest: (body, ctx, memo) => openAIToAnthropicRequest(body, ctx, memo.names),
    fromHubResponse: (message, ctx) => anthropicToOpenAIResponse(message, ctx),
    fromHubStream: (ctx) => new AnthropicToOpenAIStream(ctx),
    fromHubRequest: (hub, ctx, names) => anthropicToOpenAIRequest(hub, ctx, names),
    toHubResponse: (body, ctx) => {
      const message = openAIToAnthropicResponse(body, ctx)
      return { ...message, usage: withThinkingTokens(obj(message.usage), usageOfOpenAI(body.usage)?.reasoningTokens) }
    },
    toHubStream: (ctx) => new OpenAIToAnthropicStream(ctx, { hub: true }),
  },
  responses: {
    toHubRequest: (body, _ctx, memo) => responsesToHub(body, memo),
    fromHubResponse: (message, ctx, memo) => hubToResponsesResponse(message, ctx, memo),
    fromHubStream: (ctx, memo) => new HubToResponsesStream(ctx, memo),
    fromHubRequest: (hub, ctx, names) => hubToResponses(hub, ctx, names),
    toHubResponse: (body, ctx) => responsesResponseToHub(body, ctx),
    toHubStream: (ctx) => new ResponsesToHubStream(ctx),
  },
  gemini: {
    toHubRequest: (body) => geminiToHub(body),
    fromHubResponse: (message, ctx) => hubToGeminiResponse(message, ctx),
    fromHubStream: (ctx) => new HubToGeminiStream(ctx),
    fromHubRequest: (hub, ctx) => hubToGemini(hub, ctx),
    toHubResponse: (body, ctx) => geminiResponseToHub(body, ctx),
    toHubStream: (ctx) => new GeminiToHubStream(ctx),
  },
}

/** Two stream translators in a row: a's output is b's input; done/errored are b's. */
export function pipeStreams(a: StreamTranslator | undefined, b: StreamTranslator | undefined): StreamTranslator {
  if (!a || !b) return (a ?? b)!
  return {
    push: (ev) => (b.done ? [] : a.push(ev).flatMap((e) => b.push(e))),
    end: () => [...a.end().flatMap((e) => b.push(e)), ...b.end()],
    get done() {
      return b.done
    },
    get errored() {
      return b.errored
    },
  }
}

/** What the request translation remembered, by the context object it was called with. */
const memos = new WeakMap<TranslateContext, RequestMemo>()

const memoOf = (ctx: TranslateContext): RequestMemo => memos.get(ctx) ?? { names: {}, custom: new Set() }
const withNames = (ctx: TranslateContext, memo: RequestMemo): TranslateContext =>
  ctx.toolNames !== undefined || Object.keys(memo.names).length === 0 ? ctx : { ...ctx, toolNames: memo.names }

/**
 * The translation from `client` to `upstream` through the hub. Tool names shortened on the way
 * and the client's custom tools are remembered by ctx, so `response()` / `stream()` called with
 * the same ctx object restore them.
 */
export function hubTranslation(client: WireFormatName, upstream: WireFormatName): Translation {
  const c = HUB_SIDES[client]
  const u = HUB_SIDES[upstream]
  return {
    request(body, ctx) {
      const memo: RequestMemo = { names: {}, custom: new Set() }
      const out = u.fromHubRequest(c.toHubRequest(body, ctx, memo), ctx, memo.names)
      memos.set(ctx, memo)
      return out
    },
    response(body, ctx) {
      const memo = memoOf(ctx)
      const named = withNames(ctx, memo)
      return c.fromHubResponse(u.toHubResponse(body, named), named, memo)
    },
    stream(ctx) {
      const memo = memoOf(ctx)
      const named = withNames(ctx, memo)
      return pipeStreams(u.toHubStream?.(named), c.fromHubStream?.(named, memo))
    },
  }
}

/**
 * A client request as the hub sees it: what routing scenarios and token estimates read for
 * formats other than Anthropic's. Anthropic and OpenAI bodies are read as they are.
 */
export function hubView(format: WireFormatName, body: JsonObject): JsonObject {
  if (format === 'anthropic' || format === 'openai') return body
  return HUB_SIDES[format].toHubRequest(body, VIEW_CTX, { names: {}, custom: new Set() })
}

const VIEW_CTX: TranslateContext = {
  model: '',
  upstreamModel: '',
  requestId: 'view',
  estimatedInputTokens: 0,
  includeUsage: false,
  created: 0,
}

/**
 * The hub view of a body whose format is not at hand (the token walker's input): Gemini bodies
 * have `contents`, Responses bodies `input`; Anthropic and OpenAI bodies have `messages`.
 */
export function tokenView(body: JsonObject): JsonObject {
  if (body.messages !== undefined) return body
  if (Array.isArray(body.contents)) return hubView('gemini', body)
  if (body.input !== undefined) return hubView('responses', body)
  return body
}
