/**
 * What folding Claude Code 2.1's environment message into `system` costs an Anthropic-compatible
 * upstream of another vendor (docs/benchmarks.md, seventeenth pass): an 867 KB conversation, the
 * fold and the JSON.stringify it forces (without the fold, the client's text is sent with only
 * `model` spliced in: proxy/passthrough.ts), and the fold's cost on a body with no system message.
 * `bun harness/system-fold.ts`
 */
import { buildConversation } from '../src/tokens/estimate.bench.ts'
import { foldSystemMessages } from '../src/formats/anthropic/system-messages.ts'
const conv = { ...buildConversation(1, 170), stream: false, model: 'claude-x' } as Record<string, unknown>
conv.messages = [...(conv.messages as unknown[]), {
  role: 'system',
  content: [{ type: 'text', text: '# Environment\n - Primary working directory: /w' }],
}]
const raw = JSON.stringify(conv)
console.log('body KB', (raw.length / 1024).toFixed(0))
const time = (name: string, f: () => unknown) => {
  for (let i = 0; i < 20; i++) f()
  const n = 100, t0 = performance.now()
  for (let i = 0; i < n; i++) f()
  console.log(name, ((performance.now() - t0) / n).toFixed(3), 'ms')
}
const body = JSON.parse(raw)
time('fold + JSON.stringify', () => JSON.stringify({ ...foldSystemMessages(body), model: 'up' }))
time(
  'fold of a body without system messages',
  () => foldSystemMessages({ ...body, messages: (body.messages as unknown[]).slice(0, -1) }),
)
