/**
 * Request features one format has and the other cannot express. Dropping them silently would
 * hand the client a different answer than it asked for (one choice instead of n, a prompt
 * without its audio), so such a request is refused for that target instead — another target
 * in the plan that speaks the client's format may still serve it.
 */
import type { JsonObject, WireFormatName } from './types.ts'

export interface Unsupported {
  readonly param: string
  readonly message: string
}

const hasAudioPart = (messages: unknown): boolean =>
  Array.isArray(messages) && messages.some((m) =>
    Array.isArray((m as { content?: unknown } | null)?.content) &&
    (m as { content: unknown[] }).content.some((p) => (p as { type?: unknown } | null)?.type === 'input_audio')
  )

/** What in `body` (client format) the upstream format cannot carry, if anything. */
export function unsupportedFeature(
  client: WireFormatName,
  upstream: WireFormatName,
  body: JsonObject,
): Unsupported | undefined {
  if (client === upstream) return undefined
  if (client === 'gemini') {
    const count = (body.generationConfig as { candidateCount?: unknown } | undefined)?.candidateCount
    if (typeof count === 'number' && count > 1) {
      return {
        param: 'generationConfig.candidateCount',
        message: `generationConfig.candidateCount: ${count} candidates can only be served by a Gemini upstream`,
      }
    }
    return undefined
  }
  if (client !== 'openai' || upstream === 'openai') return undefined
  if (typeof body.n === 'number' && body.n > 1) {
    return {
      param: 'n',
      message: `n: ${body.n} choices cannot be served by an Anthropic Messages upstream (it returns one)`,
    }
  }
  if (hasAudioPart(body.messages)) {
    return {
      param: 'messages',
      message: 'messages: input_audio parts cannot be sent to an Anthropic Messages upstream',
    }
  }
  return undefined
}
