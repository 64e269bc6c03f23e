import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { redactConfig, REDACTED } from './redact.ts'

// Secrets use uppercase letters and digits; everything else in the generated configs is lowercase,
// so a secret can only appear in the output if redaction let it through.
const secret = fc.stringMatching(/^[A-Z0-9]{12,24}$/).map((s) => `SK${s}`)
const word = fc.stringMatching(/^[a-z]{1,10}$/)
const secretKey = fc.constantFrom(
  'api_key',
  'APIKEY',
  'apiKey',
  'client_secret',
  'password',
  'Authorization',
  'access_token',
  'x-goog-api-key',
)
const varRef = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/).chain((n) => fc.constantFrom(`$${n}`, `\${${n}}`))

const provider = fc.record({
  name: word,
  api_base_url: fc.tuple(word, secret).map(([h, s]) => `https://${h}.example/v1beta/models/?key=${s}`),
  api_key: secret,
  models: fc.array(word, { maxLength: 3 }),
  headers: fc.dictionary(word, secret, { maxKeys: 3 }),
  transformer: fc.record({
    use: fc.tuple(word, secretKey, secret).map(([n, k, s]) => [[n, { [k]: s, max_tokens: 10 }]]),
  }),
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
  if (typeof v === 'string') { for (const m of v.matchAll(/SK[A-Z0-9]{12,24}/g)) out.push(m[0]) }
  else if (Array.isArray(v)) { for (const x of v) secretsIn(x, out) }
  else if (v !== null && typeof v === 'object') { for (const x of Object.values(v)) secretsIn(x, out) }
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
        const raw = {
          APIKEY: a,
          Providers: [{ name, api_key: b, headers: { 'x-h': a } }],
          TOKEN_AUDIT_SIZE: n,
          Router: { default: `${name},m` },
        }
        assert.deepEqual(redactConfig(raw), raw)
      }),
    )
  })

  it('replaces literal secrets with *** and keeps the document shape', () => {
    const raw = {
      APIKEY: 'sk-1',
      Providers: [{ name: 'p', api_key: 'sk-2', models: ['m'], headers: { 'X-Org': 'org-1' } }],
      max_tokens: 5,
      LOG: true,
    }
    assert.deepEqual(redactConfig(raw), {
      APIKEY: REDACTED,
      Providers: [{ name: 'p', api_key: REDACTED, models: ['m'], headers: { 'X-Org': REDACTED } }],
      max_tokens: 5,
      LOG: true,
    })
  })

  it('redacts URL credentials (user and password) and query values but keeps the rest of the URL', () => {
    const shown = redactConfig({
      PROXY_URL: 'http://me:hunter2@proxy:3128',
      Providers: [{ api_base_url: 'https://g.example/v1?key=abc&alt=sse&auth=t0k&sig=s1g' }],
    }) as { PROXY_URL: string; Providers: { api_base_url: string }[] }
    assert.equal(shown.PROXY_URL, 'http://***:***@proxy:3128/')
    assert.equal(shown.Providers[0]!.api_base_url, 'https://g.example/v1?key=***&alt=sse&auth=***&sig=***')
  })

  it('allow-list: unknown keys, transformer options and odd URLs are hidden; names and routes are shown', () => {
    const raw = {
      db_pass: 'hunter2',
      nested: { anything: 'x1' },
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      Providers: [{
        name: 'p',
        api_base_url: 'https://u:%zz@h.example/v1',
        models: ['m1'],
        transformer: { use: ['deepseek', ['maxtoken', { max_tokens: 10, opt: 'o-secret' }]] },
      }],
      Router: { default: 'p,m1', optimization: 'cost' },
      fallback: { default: ['p,m1'] },
      Presets: { fast: { route: 'p,m1' } },
    }
    const shown = redactConfig(raw) as typeof raw
    assert.equal(shown.db_pass, REDACTED)
    assert.deepEqual(shown.nested, { anything: REDACTED })
    assert.equal(shown.HOST, '0.0.0.0')
    assert.equal(shown.Providers[0]!.api_base_url, 'https://***:***@h.example/v1')
    assert.deepEqual(shown.Providers[0]!.transformer.use, ['deepseek', ['maxtoken', { max_tokens: 10, opt: REDACTED }]])
    assert.deepEqual([shown.Router, shown.fallback, shown.Presets], [raw.Router, raw.fallback, raw.Presets])
  })

  it('a __proto__ key is copied as an own key (shown, not applied as a prototype)', () => {
    const raw = JSON.parse('{"__proto__": {"APIKEY": "sk-hidden"}, "name": "n"}') as Record<string, unknown>
    const shown = redactConfig(raw) as Record<string, unknown>
    assert.ok(Object.hasOwn(shown, '__proto__'))
    assert.equal(Object.getPrototypeOf(shown), Object.prototype)
    assert.ok(!JSON.stringify(shown).includes('sk-hidden'))
  })

  it('does not mutate its input', () => {
    const raw = { APIKEY: 'sk-1', Providers: [{ api_key: 'sk-2' }] }
    redactConfig(raw)
    assert.deepEqual(raw, { APIKEY: 'sk-1', Providers: [{ api_key: 'sk-2' }] })
  })
})
