/**
 * Micro-benchmark for the token estimator: `bun src/tokens/estimate.bench.ts` (or
 * `bun run bench:tokens`). Builds a Claude-Code-like conversation of about 150k tokens, then
 * times a cold estimate, a warm re-estimate after appending one message, and the long-context
 * fast path. Each warm run gets a freshly parsed body, as a real request would.
 */
import type { JsonObject } from '../formats/types.ts'
import { seededRandom } from '../lib/rng.ts'
import { TokenCache } from './cache.ts'
import { estimateTokens, exceedsThreshold, longContextDecision } from './estimate.ts'

const WORDS = ('the of function return const let value error request token stream upstream tier route ' +
  'config model cache async await import export class interface type string number boolean undefined ' +
  'file path line test assert describe it expect src lib proxy').split(' ')

function prose(random: () => number, words: number): string {
  const out: string[] = []
  for (let i = 0; i < words; i++) {
    out.push(WORDS[Math.floor(random() * WORDS.length)] ?? 'x')
    if (random() < 0.08) out.push(random() < 0.5 ? '.\n' : `(${Math.floor(random() * 1e4)}),`)
  }
  return out.join(' ')
}

function tool(random: () => number, i: number): JsonObject {
  const properties: JsonObject = {}
  for (let p = 0; p < 6; p++) properties[`param_${p}`] = { type: 'string', description: prose(random, 25) }
  return {
    name: `tool_${i}`,
    description: prose(random, 180),
    input_schema: { type: 'object', properties, required: ['param_0'] },
  }
}

function turn(random: () => number, i: number): JsonObject[] {
  const id = `toolu_${i}`
  return [
    { role: 'user', content: [{ type: 'text', text: prose(random, 60) }] },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: prose(random, 80), signature: 'sig' },
        { type: 'text', text: prose(random, 40) },
        { type: 'tool_use', id, name: 'tool_1', input: { param_0: `src/file_${i}.ts`, param_1: prose(random, 10) } },
      ],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: prose(random, 380) }] },
  ]
}

/** A conversation of roughly `turns × 780` + 28k tokens, deterministic for a seed. */
export function buildConversation(seed: number, turns: number): JsonObject {
  const random = seededRandom(seed)
  const messages: JsonObject[] = []
  for (let i = 0; i < turns; i++) messages.push(...turn(random, i))
  return {
    model: 'claude-sonnet-4',
    max_tokens: 32000,
    stream: true,
    system: [{ type: 'text', text: prose(random, 2500) }, { type: 'text', text: prose(random, 9000) }],
    tools: Array.from({ length: 30 }, (_, i) => tool(random, i)),
    messages,
  }
}

interface Timing {
  min: number
  median: number
  p95: number
}

function time(runs: number, setup: (i: number) => JsonObject, fn: (body: JsonObject) => unknown): Timing {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const body = setup(i)
    const t0 = performance.now()
    fn(body)
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0
  return { min: samples[0] ?? 0, median: at(0.5), p95: at(0.95) }
}

function main(): void {
  const base = buildConversation(7, 170)
  const json = JSON.stringify(base)
  const fresh = (): JsonObject => JSON.parse(json) as JsonObject
  const total = estimateTokens(base).total
  // A different new message every run, so each warm run really tokenizes one new block.
  const withNew = (i: number): JsonObject => {
    const b = fresh()
    ;(b['messages'] as unknown[]).push({
      role: 'user',
      content: [{ type: 'text', text: prose(seededRandom(1000 + i), 120) }],
    })
    return b
  }
  const cold = time(10, fresh, (b) => estimateTokens(b, new TokenCache()))
  const warmCache = new TokenCache()
  estimateTokens(base, warmCache)
  const warm = time(100, withNew, (b) => estimateTokens(b, warmCache))
  const fastCache = new TokenCache()
  estimateTokens(base, fastCache)
  const decided = time(100, withNew, (b) => longContextDecision(b, 60_000, fastCache))
  const bytesOnly = time(100, fresh, (b) => exceedsThreshold(b, 60_000))
  const smallJson = JSON.stringify(buildConversation(8, 3))
  const small = time(30, () => JSON.parse(smallJson) as JsonObject, (b) => longContextDecision(b, 60_000))
  const smallVerdict = exceedsThreshold(JSON.parse(smallJson) as JsonObject, 60_000)
  console.log(
    `conversation: ${total} tokens, ${(json.length / 1024).toFixed(0)} KiB JSON, ${
      (base['messages'] as unknown[]).length
    } messages`,
  )
  console.log('| case | min ms | median ms | p95 ms |\n|---|---:|---:|---:|')
  const row = (name: string, r: Timing): void =>
    console.log(`| ${name} | ${r.min.toFixed(2)} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} |`)
  row('cold estimate (empty cache)', cold)
  row('warm re-estimate, one new message', warm)
  row('longContextDecision(60k), warm cache', decided)
  row(`exceedsThreshold(60k), no cache, 150k conversation (→ ${String(exceedsThreshold(fresh(), 60_000))})`, bytesOnly)
  row(
    `longContextDecision(60k), no cache, first request (${(smallJson.length / 1024).toFixed(0)} KiB; bytes alone → ${
      String(smallVerdict)
    })`,
    small,
  )
}

if (import.meta.main) main()
