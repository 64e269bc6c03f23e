import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { REDACTED, redactConfig } from './redact.ts'

// Secrets use uppercase letters and digits; everything else in the generated configs is lowercase,
// so a secret can only appear in the output if redaction let it through.
const secret = fc.stringMatching(/^[A-Z0-9]{12,24}$/).map((s) => `SK${s}`)
const word = fc.stringMatching(/^[a-z]{1,10}$/)
const secretKey = fc.constantFrom('api_key', 'APIKEY', 'apiKey', 'client_secret', 'password', 'Authorization', 'access_token', 'x-goog-api-key')
const varRef = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/).chain((n) => fc.constantFrom(`$${n}`, `\${${n}}`))

const provider = fc.record({
  name: word,
  api_base_url: fc.tuple(word, secret).map(([h, s]) => `https://${h}.example/v1beta/models/?key=${s}`),
  api_key: secret,
  models: fc.array(word, { maxLength: 3 }),
  headers: fc.dictionary(word, secret, { maxKeys: 3 }),
  transformer: fc.record({ use: fc.tuple(word, secretKey, secret).map(([n, k, s]) => [[n, { [k]: s, max_tokens: 10 }]]) }),
})

const config = fc.record({
  APIKEY: secret,
  PROXY_URL: fc.tuple(word, secret).map(([u, s]) => `http://${u}:${s}@proxy.example:8080`),
  Providers: fc.array(provider, { minLength: 1, maxLength: 4 }),
  nested: fc.dictionary(secretKey, fc.oneof(secret, fc.array(secret, { maxLength: 2 })), { maxKeys: 4 }),
  Router: fc.record({ default: fc.tuple(word, word).map(([p, m]) => `${p},${m}`) }),
})

/** Every secret string placed anywhere in a generated config. */
function secretsIn(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') for (const m of v.matchAll(/SK[A-Z0-9]{12,24}/g)) out.push(m[0])
  else if (Array.isArray(v)) for (const x of v) secretsIn(x, out)
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) secretsIn(x, out)
  return out
}

describe('redactConfig', () => {
  it('law: no generated secret survives redaction, wherever it was placed', () => {
    fc.assert(
      fc.property(config, (c) => {
        const planted = secretsIn(c)
        assert.ok(planted.length > 0)
        const shown = JSON.stringify(redactConfig(c))
        for (const s of planted) assert.ok(!shown.includes(s), `secret ${s} survived`)
      }),
    )
  })

  it('law: $VAR references and non-secret settings come back unchanged', () => {
    fc.assert(
      fc.property(varRef, varRef, word, fc.integer({ min: 1, max: 1e6 }), (a, b, name, n) => {
        const raw = { APIKEY: a, Providers: [{ name, api_key: b, headers: { 'x-h': a } }], TOKEN_AUDIT_SIZE: n, Router: { default: `${name},m` } }
        assert.deepEqual(redactConfig(raw), raw)
      }),
    )
  })

  it('replaces literal secrets with *** and keeps the document shape', () => {
    const raw = { APIKEY: 'sk-1', Providers: [{ name: 'p', api_key: 'sk-2', models: ['m'], headers: { 'X-Org': 'org-1' } }], max_tokens: 5, LOG: true }
    assert.deepEqual(redactConfig(raw), { APIKEY: REDACTED, Providers: [{ name: 'p', api_key: REDACTED, models: ['m'], headers: { 'X-Org': REDACTED } }], max_tokens: 5, LOG: true })
  })

  it('redacts URL passwords and secret query parameters but keeps the rest of the URL', () => {
    const shown = redactConfig({ PROXY_URL: 'http://me:hunter2@proxy:3128', url: 'https://g.example/v1?key=abc&alt=sse' }) as Record<string, string>
    assert.equal(shown.PROXY_URL, 'http://me:***@proxy:3128/')
    assert.equal(shown.url, 'https://g.example/v1?key=***&alt=sse')
  })

  it('does not mutate its input', () => {
    const raw = { APIKEY: 'sk-1', Providers: [{ api_key: 'sk-2' }] }
    redactConfig(raw)
    assert.deepEqual(raw, { APIKEY: 'sk-1', Providers: [{ api_key: 'sk-2' }] })
  })
})
