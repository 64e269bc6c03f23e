import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from './load.ts'

const DEEPSEEK = {
  name: 'deepseek',
  api_base_url: 'https://api.deepseek.com/chat/completions',
  api_key: 'k',
  models: ['deepseek-chat', 'deepseek-reasoner'],
}
const OPENROUTER = {
  name: 'openrouter',
  api_base_url: 'https://openrouter.ai/api/v1/chat/completions',
  api_key: 'k',
  models: ['a/b'],
}

/** Parses a config object and returns its errors (failing the test if it parsed). */
function errorsOf(file: Record<string, unknown>): string[] {
  const r = parseConfig(JSON.stringify(file), {})
  assert.equal(r.ok, false, 'expected the config to be rejected')
  return r.ok ? [] : r.error
}

function valid(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Providers: [DEEPSEEK, OPENROUTER], Router: { default: 'deepseek,deepseek-chat' }, ...extra }
}

describe('config validation messages', () => {
  it('names the provider a Router target misspells and lists the configured ones', () => {
    const errors = errorsOf(
      valid({ Router: { default: 'deepseek,deepseek-chat', think: 'deepsek,deepseek-reasoner' } }),
    )
    assert.deepEqual(errors, ['Router.think: provider "deepsek" is not in Providers (have: deepseek, openrouter)'])
  })

  it('rejects a base URL without a scheme, with the index of the provider', () => {
    const errors = errorsOf(valid({ Providers: [DEEPSEEK, { ...OPENROUTER, api_base_url: 'api.x.com' }] }))
    assert.deepEqual(errors, ['Providers[1].api_base_url: expected a URL, got "api.x.com"'])
  })

  it('rejects a URL whose scheme is not http(s) (host:port without a scheme)', () => {
    const errors = errorsOf(
      valid({ Providers: [{ ...DEEPSEEK, api_base_url: 'localhost:11434/v1/chat/completions' }] }),
    )
    assert.deepEqual(errors, ['Providers[0].api_base_url: expected a URL, got "localhost:11434/v1/chat/completions"'])
  })

  it('rejects a Router target without a comma', () => {
    assert.deepEqual(errorsOf(valid({ Router: { default: 'deepseek' } })), [
      'Router.default: expected "provider,model", got "deepseek"',
    ])
  })

  it("no providers yet (CCR's first config) loads, with a warning that every request is refused", () => {
    for (const file of [{ PORT: 3456, Providers: [], Router: {} }, { Router: {} }]) {
      const r = parseConfig(JSON.stringify(file), {})
      assert.ok(r.ok, JSON.stringify(r))
      assert.deepEqual(r.value.config.providers, [])
      assert.ok(
        r.value.warnings.some((w) => /^Providers: no providers yet: every inference request is refused/.test(w)),
      )
    }
  })

  it('reports a wrong type with the value it got', () => {
    assert.deepEqual(errorsOf(valid({ PORT: 'abc' })), ['PORT: expected number, got "abc"'])
    assert.deepEqual(errorsOf(valid({ Providers: [{ ...DEEPSEEK, models: 'deepseek-chat' }] })), [
      'Providers[0].models: expected array, got "deepseek-chat"',
    ])
  })

  it('reports a missing required field', () => {
    const { name: _name, ...noName } = DEEPSEEK
    assert.deepEqual(errorsOf({ Providers: [noName], Router: {} }), ['Providers[0].name: is required'])
  })

  it('reports an out-of-range number with the bound', () => {
    assert.deepEqual(errorsOf(valid({ PORT: 70000 })), ['PORT: expected at most 65535, got 70000'])
    assert.deepEqual(errorsOf(valid({ Router: { default: 'deepseek,deepseek-chat', longContextThreshold: 0 } })), [
      'Router.longContextThreshold: expected more than 0, got 0',
    ])
  })

  it('reports an invalid enum value listing the options', () => {
    const [e] = errorsOf(valid({ Router: { default: 'deepseek,deepseek-chat', optimization: 'fastest' } }))
    assert.equal(e, 'Router.optimization: expected one of "latency", "cost", "reliability", "balanced", got "fastest"')
  })

  it('reports a malformed transformer entry', () => {
    const errors = errorsOf(valid({ Providers: [{ ...DEEPSEEK, transformer: { use: [['maxtoken', 5]] } }] }))
    assert.deepEqual(errors, ['Providers[0].transformer.use[0]: expected "name" or ["name", {options}], got an array'])
  })

  it('checks fallback entries and fallback scenario names', () => {
    const errors = errorsOf(
      valid({ fallback: { default: ['openrouter,a/b', 'nope,x'], sometimes: ['deepseek,deepseek-chat'] } }),
    )
    assert.deepEqual(errors, [
      'fallback.default[1]: provider "nope" is not in Providers (have: deepseek, openrouter)',
      'fallback.sometimes: unknown scenario: expected one of default, background, think, longContext, webSearch, image, subagent, explicit, custom',
    ])
  })

  it('checks preset routes in both the ccr-rust and the Router shape', () => {
    const errors = errorsOf(valid({ Presets: { fast: { route: 'ghost,m' }, deep: { Router: { think: 'deepseek' } } } }))
    assert.deepEqual(errors, [
      'Presets.fast.route: provider "ghost" is not in Providers (have: deepseek, openrouter)',
      'Presets.deep.Router.think: expected "provider,model", got "deepseek"',
    ])
  })

  it('rejects duplicate provider names and Providers together with providers', () => {
    assert.deepEqual(errorsOf(valid({ Providers: [DEEPSEEK, DEEPSEEK] })), [
      'Providers[1].name: duplicate provider name "deepseek"',
    ])
    assert.deepEqual(errorsOf(valid({ providers: [OPENROUTER] })), [
      'providers: both Providers and providers are set: keep one',
    ])
  })

  it('reports every problem at once, field errors and cross-field errors together', () => {
    const errors = errorsOf({
      Providers: [{ ...DEEPSEEK, api_base_url: 'nope' }],
      Router: { default: 'deepseek', think: 'ghost,m' },
      PORT: -1,
    })
    assert.equal(errors.length, 4)
    assert.ok(errors.some((e) => e.startsWith('Providers[0].api_base_url:')))
    assert.ok(errors.some((e) => e.startsWith('PORT:')))
    assert.ok(errors.some((e) => e.startsWith('Router.default:')))
    assert.ok(errors.some((e) => e.startsWith('Router.think:')))
  })

  it('writes messages without a trailing period', () => {
    const errors = errorsOf({
      Providers: [{ name: 'x', api_base_url: 'y' }],
      Router: { default: 'x' },
      PORT: 'z',
      LOG_LEVEL: 'loud',
    })
    for (const e of errors) assert.doesNotMatch(e, /\.$/)
  })

  it('never echoes the value of a mistyped secret (api_key, APIKEY, header values)', () => {
    const errors = errorsOf(
      valid({ APIKEY: 987654321, Providers: [{ ...DEEPSEEK, api_key: 123456789, headers: { 'x-token': 55555 } }] }),
    )
    assert.deepEqual(errors, [
      'Providers[0].api_key: expected string',
      'Providers[0].headers.x-token: expected string',
      'APIKEY: expected string',
    ])
  })

  it('names a bad tierRetries key and a bad webSearch value', () => {
    const errors = errorsOf(
      valid({ Router: { default: 'deepseek,deepseek-chat', tierRetries: { 'tier-x': {} }, webSearch: 5 } }),
    )
    assert.deepEqual(errors, [
      'Router.webSearch: expected "provider,model", got 5',
      'Router.tierRetries.tier-x: invalid key "tier-x": expected "tier-N" or "default"',
    ])
  })

  it('rejects drift thresholds where critical is below warn', () => {
    assert.deepEqual(errorsOf(valid({ drift: { warnPct: 30 } })), [
      'drift.criticalPct: criticalPct must be at least warnPct',
    ])
  })

  it('rejects a document that is not an object', () => {
    assert.deepEqual(parseConfig('[1, 2]', {}), { ok: false, error: ['(root): expected an object'] })
  })

  it('reports JSON5 syntax errors with their position', () => {
    const r = parseConfig('{ Providers: [ }', {})
    assert.equal(r.ok, false)
    if (!r.ok) assert.match(r.error[0] ?? '', /^config is not valid JSON5: .*1:16/)
  })
})
