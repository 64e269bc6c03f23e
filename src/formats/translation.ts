import type { JsonObject, StreamTranslator, TranslateContext, Translation, WireFormatName } from './types.ts'
import { anthropicToOpenAIRequest } from './translate/anthropic-to-openai-request.ts'
import { AnthropicToOpenAIStream } from './translate/anthropic-to-openai-stream.ts'
import { openAIToAnthropicRequest } from './translate/openai-to-anthropic-request.ts'
import { OpenAIToAnthropicStream } from './translate/openai-to-anthropic-stream.ts'
import { OpenAIToolArgRepairStream, repairOpenAIJson } from './translate/repair-openai.ts'
import { anthropicToOpenAIResponse, openAIToAnthropicResponse } from './translate/responses.ts'
import { hubTranslation } from './hub/pairs.ts'
import { foldSystemMessages } from './anthropic/system-messages.ts'

const LEGACY: ReadonlySet<WireFormatName> = new Set(['anthropic', 'openai'])

type RequestFn = (body: JsonObject, ctx: TranslateContext, names: Record<string, string>) => JsonObject

/**
 * Tool names `request()` had to shorten, for callers that hand no `ctx.toolNames` record (the
 * pipeline always hands one): keyed by the context object, so a later `response()` / `stream()`
 * with the same context restores them even when it comes from another `translationFor` call.
 * Weak keys: an entry lives exactly as long as its request's ctx.
 */
const namesByCtx = new WeakMap<TranslateContext, Record<string, string>>()

function build(
  request: RequestFn,
  response: (body: JsonObject, ctx: TranslateContext) => JsonObject,
  stream: (ctx: TranslateContext) => StreamTranslator,
): Translation {
  let last: Record<string, string> | undefined
  const withNames = (ctx: TranslateContext): TranslateContext => {
    const names = ctx.toolNames ?? namesByCtx.get(ctx) ?? last
    return names === ctx.toolNames || names === undefined ? ctx : { ...ctx, toolNames: names }
  }
  return {
    request(body, ctx) {
      if (ctx.toolNames) return request(body, ctx, ctx.toolNames)
      const names: Record<string, string> = {}
      const out = request(body, ctx, names)
      if (Object.keys(names).length > 0) {
        namesByCtx.set(ctx, names)
        last = names
      }
      return out
    },
    response: (body, ctx) => response(body, withNames(ctx)),
    stream: (ctx) => stream(withNames(ctx)),
  }
}

/**
 * The translation from a client format to a different upstream format; undefined when they are
 * the same (pass-through). Shortened tool names are restored in responses when `response()` /
 * `stream()` get the same ctx object `request()` got (or an explicit `ctx.toolNames`).
 * @example translationFor('anthropic', 'openai')?.request(body, ctx)
 */
export function translationFor(client: WireFormatName, upstream: WireFormatName): Translation | undefined {
  if (client === upstream) return undefined
  // Anthropic ⇄ OpenAI Chat keep their direct translators; every other pair goes through the hub.
  if (!LEGACY.has(client) || !LEGACY.has(upstream)) return hubTranslation(client, upstream)
  if (client === 'anthropic') {
    return build(
      (body, ctx, names) => anthropicToOpenAIRequest(foldSystemMessages(body), ctx, names),
      openAIToAnthropicResponse,
      (ctx) => new OpenAIToAnthropicStream(ctx),
    )
  }
  return build(openAIToAnthropicRequest, anthropicToOpenAIResponse, (ctx) => new AnthropicToOpenAIStream(ctx))
}

/**
 * Response-side work when client and upstream share a format: only `enhancetool` on OpenAI
 * (repair tool-call arguments), since Anthropic tool input is always an object. Undefined when
 * nothing is needed, so the caller keeps forwarding bytes untouched.
 */
export function sameFormatRepair(
  format: WireFormatName,
  ctx: TranslateContext,
): Pick<Translation, 'response' | 'stream'> | undefined {
  if (format !== 'openai' || ctx.repairToolArgs !== true) return undefined
  return { response: (body) => repairOpenAIJson(body), stream: (c) => new OpenAIToolArgRepairStream(c) }
}
