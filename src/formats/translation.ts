import type { JsonObject, StreamTranslator, TranslateContext, Translation, WireFormatName } from './types.ts'
import { anthropicToOpenAIRequest } from './translate/anthropic-to-openai-request.ts'
import { AnthropicToOpenAIStream } from './translate/anthropic-to-openai-stream.ts'
import { openAIToAnthropicRequest } from './translate/openai-to-anthropic-request.ts'
import { openAIToAnthropicStream } from './translate/openai-to-anthropic-stream.ts'
import { anthropicToOpenAIResponse, openAIToAnthropicResponse } from './translate/responses.ts'

type RequestFn = (body: JsonObject, ctx: TranslateContext, names: Record<string, string>) => JsonObject

/**
 * Remembers the tool names `request()` had to shorten so `response()` and `stream()` can
 * restore them. That is why translationFor hands out a fresh object: use one per request.
 * A `ctx.toolNames` map, when given, wins.
 */
function build(
  request: RequestFn,
  response: (body: JsonObject, ctx: TranslateContext) => JsonObject,
  stream: (ctx: TranslateContext) => StreamTranslator,
): Translation {
  const names: Record<string, string> = {}
  const withNames = (ctx: TranslateContext): TranslateContext => (ctx.toolNames || Object.keys(names).length === 0 ? ctx : { ...ctx, toolNames: names })
  return {
    request: (body, ctx) => request(body, ctx, names),
    response: (body, ctx) => response(body, withNames(ctx)),
    stream: (ctx) => stream(withNames(ctx)),
  }
}

/**
 * The translation from a client format to a different upstream format; undefined when they are
 * the same (pass-through). Call once per request: the result carries that request's tool-name map.
 * @example translationFor('anthropic', 'openai')?.request(body, ctx)
 */
export function translationFor(client: WireFormatName, upstream: WireFormatName): Translation | undefined {
  if (client === upstream) return undefined
  if (client === 'anthropic') return build(anthropicToOpenAIRequest, openAIToAnthropicResponse, openAIToAnthropicStream)
  return build(openAIToAnthropicRequest, anthropicToOpenAIResponse, (ctx) => new AnthropicToOpenAIStream(ctx))
}
