/**
 * Hostile input classes against every request route: long unbroken strings, deep nesting, huge
 * numbers, prototype keys and control characters. Each answer comes within a bound, is a 2xx
 * or a 4xx in the client's own format (never a 500), no upstream is called for a bad name, and
 * the server keeps answering `/health` throughout. Fixed seeds; fast-check prints the seed and
 * the shrunk input on a failure.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { type HardenedProxy, hardenedProxy } from '../fixtures/hardened-proxy.ts'

const SEED = 20261130
const ROUTES = [
  '/v1/messages',
  '/v1/chat/completions',
  '/preset/fast/v1/messages',
  '/preset/fast/v1/chat/completions',
  '/v1/messages/count_tokens',
] as const
const BOUND_MS = 5_000

async function timed(
  p: HardenedProxy,
  path: string,
  body: string,
): Promise<{ res: Response; text: string; ms: number }> {
  const t0 = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${path} did not answer within ${BOUND_MS} ms`)), BOUND_MS)
  })
  try {
    const res = await Promise.race([p.post(path, body), hang])
    const text = await Promise.race([res.text(), hang])
    return { res, text, ms: performance.now() - t0 }
  } finally {
    clearTimeout(timer)
  }
}

function assertClientError(path: string, status: number, text: string): void {
  assert.ok(status >= 400 && status < 500, `${path}: ${status} ${text.slice(0, 300)}`)
  const body = JSON.parse(text) as { type?: unknown; error?: { message?: unknown; type?: unknown } }
  assert.equal(typeof body.error?.message, 'string')
  // Anthropic's envelope has a top-level type; OpenAI's, the Responses API's and Gemini's do not.
  if (path.includes('/messages')) assert.equal(body.type, 'error')
  else assert.equal(body.type, undefined)
}

const bodyFor = (path: string, model: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  path.includes('chat') ? openaiBody(model, extra) : anthropicBody(model, extra)

const proxy = () => hardenedProxy(testConfigFile({ Presets: { fast: { route: 'anth,mock-a' } } }))

describe('security: bad names never reach an upstream', () => {
  const names = [
    'oai,__proto__',
    'oai,constructor',
    'oai,toString',
    '__proto__,x',
    'oai,mock-o\u0000',
    'oai,mock-o\r\nX-Evil: 1',
    'oai,mock-o\n',
    `oai,${'m'.repeat(300)}`,
  ]
  for (const model of names) {
    it(`model ${JSON.stringify(model.slice(0, 24))} → 400 naming model, in the client format, no upstream call`, async () => {
      const p = await proxy()
      for (const path of ROUTES) {
        const before = p.upstreamBodies.length
        const { res, text } = await timed(p, path, JSON.stringify(bodyFor(path, model)))
        assert.equal(res.status, 400, `${path}: ${text}`)
        assertClientError(path, res.status, text)
        assert.match(text, /model/)
        assert.equal(p.upstreamBodies.length, before, `${path} called an upstream`)
      }
      await p.close()
    })
  }

  it('a preset named like a prototype property is a 404, not a 500', async () => {
    const p = await proxy()
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const { res, text } = await timed(p, `/preset/${name}/v1/messages`, JSON.stringify(anthropicBody('anth,mock-a')))
      assertClientError('/preset/x/v1/messages', res.status, text)
    }
    await p.close()
  })
})

describe('security: nesting', () => {
  it('100k nested arrays → a 400 that says so, at once (was a 500 after 2.8 s)', async () => {
    const p = await proxy()
    // Every inference route, the Responses and Gemini ones included.
    for (
      const path of [
        ...ROUTES,
        '/v1/responses',
        '/v1beta/models/anth,mock-a:generateContent',
        '/v1/models/anth,mock-a:streamGenerateContent',
      ]
    ) {
      const deep = `{"model":"anth,mock-a","max_tokens":5,"messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`
      const { res, text, ms } = await timed(p, path, deep)
      assertClientError(path, res.status, text)
      assert.match(text, /nested deeper than 128/)
      assert.ok(ms < 1_000, `${path}: ${ms.toFixed(0)} ms`)
    }
    assert.equal((await p.app.request('/health')).status, 200)
    await p.close()
  })
})

/** Hostile values of the classes in the issue. */
const hostileString = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '\u0000',
    '\r\n',
    '\u2028',
    '\ud800',
    '%zz',
    '$UNSET_VAR',
    '${x}',
  ),
  fc.tuple(fc.constantFrom('a', '漢', ' ', '!', '0', '\u0000'), fc.integer({ min: 1_000, max: 60_000 })).map(([c, n]) =>
    c.repeat(n)
  ),
  fc.string({ maxLength: 40 }),
)
const hostileNumber = fc.constantFrom(9999999999, 1e308, -1e308, 2 ** 53 + 1, -1, 0, 0.5, Number.MAX_SAFE_INTEGER)
const nested = fc.integer({ min: 100, max: 5_000 }).map((n) =>
  JSON.parse(`${'['.repeat(n)}1${']'.repeat(n)}`) as unknown
)
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  nested,
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}') as unknown),
  fc.jsonValue({ maxDepth: 3 }),
)

describe('security fuzz: every request route, hostile classes', () => {
  it('law: any hostile field value → 2xx or a 4xx in the client format, within the bound, and /health keeps answering', async () => {
    const p = await proxy()
    const field = fc.constantFrom(
      'model',
      'max_tokens',
      'messages',
      'system',
      'tools',
      'metadata',
      'stream',
      'temperature',
      '__proto__',
      'constructor',
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), field, hostileValue, async (path, key, value) => {
        const base = bodyFor(path, 'anth,mock-a')
        // Built as text so `__proto__` stays an own key, as a hostile client would send it.
        const text = `${JSON.stringify(base).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`
        const { res, text: answer } = await timed(p, path, text)
        if (res.status >= 200 && res.status < 300) return
        assertClientError(path, res.status, answer)
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype was polluted')
      }),
      { seed: SEED, numRuns: 80 },
    )
    assert.equal((await p.app.request('/health')).status, 200)
    assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a'))).status, 200)
    await p.close()
  })

  it('long unbroken strings in every text field are answered within the bound (tokenizer time is linear)', async () => {
    const p = await proxy()
    for (const c of ['a', '漢', '!']) {
      const s = c.repeat(200_000)
      const { res, ms } = await timed(
        p,
        '/v1/messages/count_tokens',
        JSON.stringify({
          model: 'anth,mock-a',
          system: s,
          messages: [{ role: 'user', content: s }],
          tools: [{ name: 't', description: s, input_schema: { type: 'object' } }],
        }),
      )
      assert.equal(res.status, 200)
      assert.ok(ms < 2_000, `${c} × 200k: ${ms.toFixed(0)} ms`)
    }
    await p.close()
  })
})
