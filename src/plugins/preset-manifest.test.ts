import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  answersOf,
  checkedAnswers,
  conditionHolds,
  configSectionOf,
  inputsOf,
  isManifest,
  sanitizeSecrets,
  typedAnswer,
  unansweredInputs,
} from './preset-manifest.ts'

describe('CCR 2.0 preset manifests', () => {
  it('the config section drops metadata and inputs, and fills #{id} and {{id}} placeholders', () => {
    const s = configSectionOf({
      name: 'x',
      version: '1.0.0',
      author: 'a',
      keywords: ['k'],
      Providers: [{ name: 'p', api_key: '#{key}', api_base_url: 'http://{{host}}/v1/messages', models: ['m'] }],
      Router: { default: 'p,m' },
      schema: [{ id: 'key' }, { id: 'host', defaultValue: 'h.test' }],
      userValues: { key: 'sk-1' },
    })
    assert.deepEqual(s.config, {
      Providers: [{ name: 'p', api_key: 'sk-1', api_base_url: 'http://h.test/v1/messages', models: ['m'] }],
      Router: { default: 'p,m' },
    })
    assert.deepEqual(s.unanswered, [])
  })

  it('a template, configMappings under their conditions, and answers named by path', () => {
    const s = configSectionOf({
      template: { Providers: [{ name: 'o', api_key: '{{apiKey}}', models: ['{{model}}'] }], Router: {} },
      schema: [{ id: 'apiKey' }, { id: 'model', defaultValue: 'gpt' }, { id: 'useProxy', defaultValue: false }],
      configMappings: [
        { target: 'PROXY_URL', value: '#{proxyUrl}', when: { field: 'useProxy', operator: 'eq', value: true } },
        { target: 'Router.default', value: 'o,{{model}}' },
      ],
      userValues: { apiKey: 'k', 'Providers[0].timeout': 5 },
    })
    assert.deepEqual(s.config, {
      Providers: [{ name: 'o', api_key: 'k', models: ['gpt'], timeout: 5 }],
      Router: { default: 'o,gpt' },
    })
  })

  it('a placeholder with no answer stays as written and is reported; a whole one keeps the answer’s type', () => {
    const s = configSectionOf({ version: '1', limit: '#{n}', key: 'Bearer {{token}}', userValues: { n: 3 } })
    assert.deepEqual(s.config, { limit: 3, key: 'Bearer {{token}}' })
    assert.deepEqual(s.unanswered, ['token'])
  })

  it('a path answer never reaches Object.prototype', () => {
    const s = configSectionOf({ version: '1', userValues: { '__proto__.polluted': 1, 'constructor.x': 2 } })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.deepEqual(Object.keys(s.config), [])
  })

  it('conditions: every operator, lists are all-of, a malformed one holds', () => {
    const v = { a: 1, s: 'x', t: true }
    const cases: [unknown, boolean][] = [
      [{ field: 'a', value: 1 }, true],
      [{ field: 'a', operator: 'ne', value: 1 }, false],
      [{ field: 's', operator: 'in', value: ['x', 'y'] }, true],
      [{ field: 's', operator: 'nin', value: ['x'] }, false],
      [{ field: 'a', operator: 'gt', value: 0 }, true],
      [{ field: 'a', operator: 'lt', value: 0 }, false],
      [{ field: 'a', operator: 'gte', value: 1 }, true],
      [{ field: 'a', operator: 'lte', value: 0 }, false],
      [{ field: 'missing', operator: 'exists' }, false],
      [{ field: 't', operator: 'exists' }, true],
      [[{ field: 'a', value: 1 }, { field: 't', value: false }], false],
      [{ operator: 'eq' }, true],
    ]
    for (const [when, expected] of cases) assert.equal(conditionHolds(when, v), expected, JSON.stringify(when))
  })

  it('inputs: defaults, static options of a select, the answers over the defaults', () => {
    const m = {
      schema: [
        { id: 'model', type: 'select', options: { type: 'static', options: [{ value: 'a' }] }, defaultValue: 'a' },
        { id: 'key', required: false },
        { label: 'no id' },
      ],
      userValues: { model: 'b' },
    }
    assert.deepEqual(inputsOf(m).map((i) => [i.id, i.type, i.required, i.options?.length]), [
      ['model', 'select', true, 1],
      ['key', 'password', false, undefined],
    ])
    assert.deepEqual(answersOf(m), { model: 'b' })
    assert.equal(isManifest(m), true)
    assert.equal(isManifest({ route: 'a,b' }), false)
  })

  it('export: every secret becomes a ${NAME} reference named after its provider; references are kept', () => {
    const r = sanitizeSecrets({
      APIKEY: 'top-secret',
      Providers: [
        { name: 'deep-seek', api_key: 'sk-1', extra_headers: { Authorization: 'Bearer sk-2', 'X-Title': 't' } },
        { name: 'o', api_key: '$O_KEY', headers: { 'x-api-key': 'Bearer ${TOKEN}' } },
      ],
    })
    assert.deepEqual(r.value, {
      APIKEY: '${APIKEY}',
      Providers: [
        {
          name: 'deep-seek',
          api_key: '${DEEP_SEEK_API_KEY}',
          extra_headers: { Authorization: '${DEEP_SEEK_AUTHORIZATION}', 'X-Title': 't' },
        },
        { name: 'o', api_key: '$O_KEY', headers: { 'x-api-key': 'Bearer ${TOKEN}' } },
      ],
    })
    assert.deepEqual(r.variables, ['APIKEY', 'DEEP_SEEK_API_KEY', 'DEEP_SEEK_AUTHORIZATION'])
  })

  it('property: no secret value survives an export, and answering every input restores the text', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
    fc.assert(fc.property(fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 4 }), (pairs) => {
      const providers = pairs.map(([name, key], i) => ({ name: `${name}${i}`, api_key: `sk-${key}`, models: ['m'] }))
      const exported = sanitizeSecrets({ Providers: providers })
      const text = JSON.stringify(exported.value)
      for (const p of providers) assert.ok(!text.includes(p.api_key), 'a key was written')
      // The config's own interpolation then puts each key back from its variable.
      const env = Object.fromEntries(exported.variables.map((v, i) => [v, providers[i]!.api_key]))
      const back = JSON.parse(text.replace(/\$\{(\w+)\}/g, (_, v: string) => env[v]!))
      assert.deepEqual(back, { Providers: providers })
    }))
  })

  it('answers: typed by their input, unknown ids refused (paths allowed), the unanswered listed under their conditions', () => {
    const m = {
      schema: [
        { id: 'key' },
        { id: 'port', type: 'number' },
        { id: 'proxy', type: 'confirm', defaultValue: false },
        { id: 'proxyUrl', when: { field: 'proxy', value: true } },
        { id: 'note', required: false },
      ],
    }
    assert.deepEqual(checkedAnswers(m, { port: '8080', proxy: 'yes', 'Providers[0].api_key': 'k' }), {
      port: 8080,
      proxy: true,
      'Providers[0].api_key': 'k',
    })
    assert.throws(() => checkedAnswers(m, { port: 'eighty' }), /port: expected a number, got "eighty"/)
    assert.throws(() => checkedAnswers(m, { nope: 1 }), /no input "nope" \(inputs: key, port, proxy, proxyUrl, note\)/)
    assert.deepEqual(unansweredInputs(m, {}).map((i) => i.id), ['key', 'port'])
    assert.deepEqual(unansweredInputs(m, { key: 'k', port: 1, proxy: true }).map((i) => i.id), ['proxyUrl'])
    assert.equal(typedAnswer(undefined, 'as is'), 'as is')
  })
})
