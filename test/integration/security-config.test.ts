/**
 * What `GET /api/config` may show, and config loading under hostile input: secrets hidden by
 * allow-list (never by a list of known secret names), no 500 on odd URLs, and loading that
 * answers within a bound for any hostile value.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { testConfigFile } from './helpers.ts'
import { hardenedProxy } from '../fixtures/hardened-proxy.ts'
import { parseConfig } from '../../src/config/load.ts'

describe('security: GET /api/config', () => {
  it('hides URL users, ?auth= and ?sig= values, unknown keys and proxy users; a %zz password is no 500', async () => {
    const raw = testConfigFile({ db_pass: 'pw-db-secret', PROXY_URL: 'http://proxyuser:proxypass@proxy.invalid:3128' })
    const providers = (raw['Providers'] as Record<string, unknown>[]).map((p, i) =>
      i === 0 ? { ...p, api_base_url: 'http://urluser:%zz@mock.test/v1/messages?auth=auth-secret&sig=sig-secret' } : p
    )
    const file = { ...raw, Providers: providers }
    const p = await hardenedProxy(testConfigFile(), { rawConfig: file })
    const res = await p.get('/api/config')
    const text = await res.text()
    assert.equal(res.status, 200, text)
    for (
      const s of [
        'pw-db-secret',
        'proxyuser',
        'proxypass',
        'urluser',
        '%zz',
        'auth-secret',
        'sig-secret',
        'sk-ant-secret-1',
        'sk-oai-secret-2',
      ]
    ) assert.ok(!text.includes(s), `${s} shown: ${text}`)
    assert.match(text, /mock\.test/)
    await p.close()
  })
})

/** Values of the hostile classes, for any config field. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('__proto__', '$UNSET', '${A}${B}', '%zz', '\u0000', 'a'.repeat(100_000), 'http://u:%zz@h/?sig=x'),
  fc.constantFrom(9999999999, 1e308, -1, 0, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 100, max: 3000 }).map((n) => JSON.parse(`${'['.repeat(n)}0${']'.repeat(n)}`) as unknown),
  fc.jsonValue({ maxDepth: 3 }),
)
const paths = fc.constantFrom(
  ['APIKEY'],
  ['HOST'],
  ['PORT'],
  ['API_TIMEOUT_MS'],
  ['SSE_BUFFER_SIZE'],
  ['MAX_BODY_BYTES'],
  ['TOKEN_AUDIT_SIZE'],
  ['PROXY_URL'],
  ['Router', 'default'],
  ['Router', 'firstTokenTimeoutMs'],
  ['Router', 'breaker', 'cooldownMs'],
  ['Router', 'tierRetries'],
  ['performance', 'testIntervalMinutes'],
  ['Providers', 0, 'name'],
  ['Providers', 0, 'models'],
  ['Providers', 0, 'api_base_url'],
  ['Providers', 0, 'headers'],
  ['Presets'],
  ['fallback'],
  ['transformers'],
  ['__proto__'],
  ['Router', '__proto__'],
)

describe('security fuzz: config loading', () => {
  it('law: any hostile value at any path → a config or a list of errors, within a bound, never a throw, never a polluted prototype', () => {
    fc.assert(
      fc.property(paths, hostile, (path, value) => {
        const file = JSON.parse(JSON.stringify(testConfigFile())) as Record<string, unknown>
        let o = file as Record<string | number, unknown>
        for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string | number, unknown>
        const last = path.at(-1)!
        let withValue: string
        if (last === '__proto__') {
          // Spliced in as text so `__proto__` arrives as an own key, as a file would have it.
          withValue = JSON.stringify(file).replace(
            path.length === 1 ? /^\{/ : /"Router":\{/,
            (m) => `${m}"__proto__":${JSON.stringify(value) ?? 'null'},`,
          )
        } else {
          Object.defineProperty(o, last, { value, enumerable: true, configurable: true, writable: true })
          withValue = JSON.stringify(file)
        }
        const t0 = performance.now()
        const r = parseConfig(withValue, {})
        assert.ok(performance.now() - t0 < 2_000)
        if (!r.ok) {
          assert.ok(r.error.length > 0 && r.error.every((e) => typeof e === 'string' && e.length < 2_000))
        }
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
      }),
      { seed: 1130, numRuns: 300 },
    )
  })
})
