/**
 * What the media check (`formats/unsupported.ts`) costs a translated request:
 * `bun harness/media-scan.ts`. Times `unsupportedFeature` (Anthropic client, OpenAI upstream) on
 * a one-message body and on the 150k-token, 510-message agent conversation of
 * `src/tokens/estimate.bench.ts`, three rounds each, and prints µs per call.
 */
import { buildConversation } from '../src/tokens/estimate.bench.ts'
import { unsupportedFeature } from '../src/formats/unsupported.ts'
import type { JsonObject } from '../src/formats/types.ts'

const bodies: readonly [string, JsonObject, number][] = [
  ['one message', { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, 200_000],
  ['510-message conversation (867 KB)', buildConversation(1, 170), 2_000],
]
for (const [name, body, calls] of bodies) {
  const rounds: string[] = []
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) unsupportedFeature('anthropic', 'openai', body)
    rounds.push(((performance.now() - t0) * 1000 / calls).toFixed(2))
  }
  console.log(`${name}: ${rounds.join(', ')} µs per check`)
}
