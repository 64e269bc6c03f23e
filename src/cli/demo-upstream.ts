/**
 * The upstream of demo mode (a start with no config): the mock served on a free local port.
 * It counts input tokens with cl100k and the chat format's message framing, as an OpenAI-format
 * provider does and as Switchyard's estimate does, so a new user's first short prompts are not
 * logged as critical token drift (the mock's default bytes / 4 is 30–80 % off on them). The
 * harness keeps that cheap default: there the mock shares the cores with the proxy it measures.
 */
import type { MockServer } from '../demo/server.ts'
import type { MockOptions } from '../demo/upstream.ts'
import type { JsonObject } from '../formats/types.ts'
import { TokenCache } from '../tokens/cache.ts'
import { estimateTokens } from '../tokens/estimate.ts'

/**
 * The demo mock's options, with a token cache of its own: the mock runs on the thread the proxy
 * serves from, and an agent resends its whole conversation every turn (a 150k-token one costs
 * 18–31 ms to count afresh, under 1.2 ms from the cache). Its strings are the mock's own parse,
 * so the proxy's cache cannot answer them; a quarter of the proxy's character bound keeps it small.
 */
export function demoMockOptions(): MockOptions {
  const cache = new TokenCache({ maxChars: 4 * 1024 * 1024 })
  return { countInputTokens: (body) => estimateTokens(body as JsonObject, cache).total }
}

export async function startDemoUpstream(): Promise<MockServer> {
  const { startMockServer } = await import('../demo/server.ts')
  return await startMockServer({ port: 0, hostname: '127.0.0.1', ...demoMockOptions() })
}
