import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from './load.ts'

const PROVIDER = {
  name: 'p',
  api_base_url: 'https://api.example.invalid/v1/chat/completions',
  api_key: 'k',
  models: ['m'],
}
const file = (extra: Record<string, unknown>) =>
  JSON.stringify({ Providers: [PROVIDER], Router: { default: 'p,m' }, ...extra })

describe('APIKEY that refers to an unset variable', () => {
  it('with a non-loopback HOST the config is refused, naming the variable', () => {
    for (const APIKEY of ['$UNSET_VAR', '${UNSET_VAR}', 'sk-$UNSET_VAR']) {
      const r = parseConfig(file({ APIKEY, HOST: '0.0.0.0' }), {})
      assert.equal(r.ok, false, APIKEY)
      if (!r.ok) {
        assert.match(
          r.error.join('\n'),
          /APIKEY: refers to the unset environment variable UNSET_VAR: refusing to listen on 0\.0\.0\.0/,
        )
      }
    }
  })

  it('also when HOST itself comes from a variable', () => {
    const r = parseConfig(file({ APIKEY: '$UNSET_VAR', HOST: '$BIND' }), { BIND: '10.0.0.5' })
    assert.equal(r.ok, false)
  })

  it('on loopback it is no key at all (never the literal text), with a loud warning', () => {
    for (const HOST of [undefined, '127.0.0.1', 'localhost', '::1']) {
      const r = parseConfig(file({ APIKEY: '$UNSET_VAR', ...(HOST ? { HOST } : {}) }), {})
      assert.ok(r.ok)
      if (!r.ok) continue
      assert.equal(r.value.config.apiKey, undefined)
      assert.ok(r.value.warnings.some((w) => /NO API KEY is required/.test(w)))
    }
  })

  it('a set variable is the key, as before', () => {
    const r = parseConfig(file({ APIKEY: '$KEY', HOST: '0.0.0.0' }), { KEY: 'sk-real' })
    assert.ok(r.ok)
    if (r.ok) {
      assert.equal(r.value.config.apiKey, 'sk-real')
      assert.equal(r.value.config.host, '0.0.0.0')
    }
  })
})
