/**
 * Fuzzing the request routes with fast-check: arbitrary JSON values, arbitrary bytes and
 * arbitrary header values as requests. Every answer is a 4xx/5xx in the client's own error
 * shape, or a 200 when the random body happens to be a valid request; nothing crashes or
 * hangs (each request is bounded), and the app keeps serving afterwards.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { type HardenedProxy, hardenedProxy } from '../fixtures/hardened-proxy.ts'

const ROUTES = [
  '/v1/messages',
  '/v1/chat/completions',
  '/preset/fast/v1/messages',
  '/preset/fast/v1/chat/completions',
  '/v1/messages/count_tokens',
] as const
const RUNS = 60
const BOUND_MS = 5_000

/** A request answered within the bound, or a failure naming what hung. */
async function bounded(p: HardenedProxy, path: string, init: RequestInit): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${path} did not answer within ${BOUND_MS} ms`)), BOUND_MS)
  })
  try {
    const res = await Promise.race([p.app.request(path, init), hang])
    const text = await Promise.race([res.text(), hang])
    return new Response(text, { status: res.status, headers: res.headers })
  } finally {
    clearTimeout(timer)
  }
}

/** Asserts the answer is a success or an error in the format of the route hit. */
async function assertClientShaped(path: string, res: Response): Promise<void> {
  if (res.status === 200) return
  assert.ok(res.status >= 400 && res.status <= 599, `status ${res.status} on ${path}`)
  const body = (await res.json()) as { type?: unknown; error?: { type?: unknown; message?: unknown } }
  assert.equal(typeof body.error?.message, 'string', `${path}: error message`)
  assert.equal(typeof body.error?.type, 'string', `${path}: error type`)
  if (path.endsWith('/chat/completions')) {
    assert.equal(body.type, undefined, `${path}: OpenAI errors have no top-level type`)
  } else assert.equal(body.type, 'error', `${path}: Anthropic errors have type "error"`)
}

/** Still serving: a valid request in each format succeeds. */
async function assertServing(p: HardenedProxy): Promise<void> {
  assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a'))).status, 200)
  assert.equal((await p.post('/v1/chat/completions', openaiBody('oai,mock-o'))).status, 200)
}

const proxy = () =>
  hardenedProxy(testConfigFile({ Presets: { fast: { route: 'anth,mock-a' } }, MAX_BODY_BYTES: 64_000 }))
const route = fc.constantFrom(...ROUTES)
/** Models that either name the mock (knobs make some answers errors) or nothing at all. */
const model = fc.oneof(
  fc.constantFrom(
    'anth,mock-a',
    'oai,mock-o',
    'oai,mock-o:status=500',
    'anth,mock-a:status=429',
    'nope,x',
    'claude-3-5-haiku',
  ),
  fc.string(),
)
/** Request-shaped JSON: the fields the validators read, with arbitrary values mixed in. */
const requestish = fc.record({
  model,
  messages: fc.oneof(fc.constant([{ role: 'user', content: 'hi' }]), fc.jsonValue()),
  max_tokens: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.jsonValue()),
  stream: fc.oneof(fc.boolean(), fc.jsonValue()),
}, { requiredKeys: [] })

describe('fuzz: request routes', () => {
  it('law: any JSON value as body → 200 or a 4xx/5xx in the client format, never a crash or hang', async () => {
    const p = await proxy()
    await fc.assert(
      fc.asyncProperty(route, fc.oneof(fc.jsonValue(), requestish), async (path, value) => {
        const res = await bounded(p, path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(value),
        })
        await assertClientShaped(path, res)
      }),
      { numRuns: RUNS },
    )
    await assertServing(p)
    await p.close()
  })

  it('law: arbitrary bytes as body → a 4xx in the client format (or 200), never a crash or hang', async () => {
    const p = await proxy()
    await fc.assert(
      fc.asyncProperty(
        route,
        fc.uint8Array({ maxLength: 2_000 }),
        fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'),
        async (path, bytes, type) => {
          const res = await bounded(p, path, { method: 'POST', headers: { 'content-type': type }, body: bytes })
          await assertClientShaped(path, res)
          if (res.status !== 200) {
            assert.ok(
              res.status < 500,
              `bytes on ${path} gave ${res.status}: a client error, not ours`,
            )
          }
        },
      ),
      { numRuns: RUNS },
    )
    await assertServing(p)
    await p.close()
  })

  it('law: arbitrary header values with a valid body → 200 or a client-format error, never a crash or hang', async () => {
    const p = await proxy()
    const headerName = fc.constantFrom(
      'anthropic-version',
      'anthropic-beta',
      'x-switchyard-dedup',
      'x-api-key',
      'authorization',
      'content-type',
      'x-request-id',
      'accept',
    )
    // Header values a runtime accepts: visible ASCII and spaces, no CR/LF/NUL.
    const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,80}$/)
    await fc.assert(
      fc.asyncProperty(route, fc.dictionary(headerName, headerValue), fc.boolean(), async (path, headers, stream) => {
        const body = path.includes('chat')
          ? openaiBody('oai,mock-o', { stream })
          : anthropicBody('anth,mock-a', { stream })
        const res = await bounded(p, path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        })
        await assertClientShaped(path, res)
      }),
      { numRuns: RUNS },
    )
    await assertServing(p)
    await p.close()
  })
})
