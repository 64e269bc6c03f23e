import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from './load.ts'

const PROVIDER = {
  name: 'p',
  api_base_url: 'https://api.example.invalid/v1/chat/completions',
  api_key: 'k',
  models: ['m'],
}

describe('config names and reserved keys', () => {
  it('a __proto__ key anywhere is refused with its path (it used to take effect unseen)', () => {
    const cases: [string, RegExp][] = [
      [
        `{ Providers: [${JSON.stringify(PROVIDER)}], "__proto__": { "APIKEY": "x" } }`,
        /^__proto__: a key named "__proto__" is not allowed/m,
      ],
      [
        `{ Providers: [${JSON.stringify(PROVIDER)}], Router: { "__proto__": { default: "p,m" } } }`,
        /^Router\.__proto__:/m,
      ],
      [
        `{ Providers: [{ "name": "p", "api_base_url": "https://x.invalid/v1", "models": ["m"], "headers": { "__proto__": { "x": "y" } } }] }`,
        /^Providers\[0\]\.headers\.__proto__:/m,
      ],
    ]
    for (const [text, expected] of cases) {
      const r = parseConfig(text, {})
      assert.equal(r.ok, false, text)
      if (!r.ok) assert.match(r.error.join('\n'), expected)
    }
  })

  it('provider and model names with control characters or reserved names are refused, naming the field', () => {
    for (
      const [p, path] of [[{ ...PROVIDER, name: '__proto__' }, 'Providers[0].name'], [{
        ...PROVIDER,
        models: ['ok', 'constructor'],
      }, 'Providers[0].models[1].name'], [{ ...PROVIDER, name: 'a\nb' }, 'Providers[0].name']] as const
    ) {
      const r = parseConfig(JSON.stringify({ Providers: [p] }), {})
      assert.equal(r.ok, false)
      if (!r.ok) assert.ok(r.error.some((e) => e.startsWith(`${path}: name`)), r.error.join('\n'))
    }
  })
})
