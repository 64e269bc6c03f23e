import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from './load.ts'
import { canonicalModelId, catalogueEntry } from './catalogue.ts'
import { compileMatcher } from './rules.ts'

const DEEPSEEK = {
  name: 'deepseek',
  api_base_url: 'https://api.deepseek.com/chat/completions',
  api_key: 'k',
  models: ['deepseek-chat', 'deepseek-reasoner'],
}

function parse(router: Record<string, unknown>, providers: unknown[] = [DEEPSEEK]) {
  return parseConfig(
    JSON.stringify({ Providers: providers, Router: { default: 'deepseek,deepseek-chat', ...router } }),
    {},
  )
}
const errorsOf = (rules: unknown) => {
  const r = parse({ rules })
  assert.equal(r.ok, false, 'expected the config to be rejected')
  return r.ok ? [] : r.error
}

describe('Router.rules validation', () => {
  it('accepts and compiles a full rule', () => {
    const r = parse({
      rules: [{
        name: 'ci-cheap',
        when: {
          model: 'claude-*',
          scenario: ['default', 'think'],
          inputTokens: { max: 60000 },
          hasTools: true,
          hasImages: false,
          thinking: false,
          stream: true,
          header: { 'x-switchyard-tag': 'ci' },
          apiKey: 'ci-agents',
          timeUtc: ['22:00-06:00'],
        },
        route: ['deepseek,deepseek-chat', 'deepseek,deepseek-reasoner'],
        optimization: 'cost',
      }],
    })
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'))
    const rule = r.value.config.router.rules?.[0]
    assert.equal(rule?.name, 'ci-cheap')
    assert.deepEqual(rule?.route, ['deepseek,deepseek-chat', 'deepseek,deepseek-reasoner'])
    assert.equal(rule?.when.model?.kind, 'glob')
    assert.equal(r.value.config.ignoredKeys.includes('Router.rules'), false)
  })

  it('names the rule and the field in every error, all at once', () => {
    const errors = errorsOf([
      { name: 'a', when: { model: '/(unclosed/', hasTool: true }, route: 'deepsek,x' },
      {
        name: 'b',
        when: { inputTokens: { min: 10, max: 5 }, timeUtc: '25:00-01:00', scenario: 'thinking' },
        route: [],
      },
      { when: {}, route: 'deepseek,deepseek-chat' },
      { name: 'a', route: 'deepseek,deepseek-chat', optimization: 'fast' },
    ])
    const has = (prefix: string, text: string) =>
      assert.ok(
        errors.some((e) => e.startsWith(prefix) && e.includes(text)),
        `missing ${prefix} … ${text} in:\n${errors.join('\n')}`,
      )
    has('Router.rules[0].when.model: rule "a"', 'invalid regular expression')
    has('Router.rules[0].when.hasTool: rule "a"', 'unknown condition')
    has('Router.rules[0].route: rule "a"', 'provider "deepsek" is not in Providers')
    has('Router.rules[1].when.inputTokens: rule "b"', 'min (10) is above max (5)')
    has('Router.rules[1].when.timeUtc: rule "b"', 'expected "HH:MM-HH:MM"')
    has('Router.rules[1].when.scenario: rule "b"', 'expected one or a list of')
    has('Router.rules[1].route: rule "b"', 'non-empty list')
    has('Router.rules[2].name: rule #3', 'is required')
    has('Router.rules[3].name: rule "a"', 'unique')
    has('Router.rules[3].optimization: rule "a"', 'expected one of latency')
  })

  it('rejects rules that are not a list', () => {
    assert.deepEqual(errorsOf({ name: 'x' }), ['Router.rules: expected a list of rules'])
  })

  it('a model the provider does not list is a warning, like any Router target', () => {
    const r = parse({ rules: [{ name: 'x', route: 'deepseek,deepseek-v9' }] })
    assert.ok(r.ok)
    assert.ok(r.value.warnings.some((w) => w.includes('deepseek-v9')))
  })

  it('matchers: exact is case-sensitive and whole, globs and regexes compile', () => {
    const m = (s: string) => {
      const c = compileMatcher(s)
      assert.ok(typeof c !== 'string')
      return c
    }
    assert.equal(m('a.b').re.test('aXb'), false, 'dots are literal')
    assert.equal(m('a*').re.test('A-anything'), true)
    assert.equal(m('/^a$/i').re.test('A'), true)
  })
})

describe('Providers[].models objects', () => {
  it('strings keep working; objects give capabilities and the names stay the model list', () => {
    const r = parse({}, [{
      ...DEEPSEEK,
      models: ['deepseek-chat', {
        name: 'local-q',
        contextWindow: 32768,
        maxOutputTokens: 4096,
        vision: false,
        tools: true,
        input_per_million: 0.1,
        output_per_million: 0.2,
      }],
    }])
    assert.ok(r.ok, r.ok ? '' : r.error.join('\n'))
    const p = r.value.config.providers[0]!
    assert.deepEqual(p.models, ['deepseek-chat', 'local-q'])
    assert.deepEqual(p.modelCapabilities, {
      'local-q': {
        contextWindow: 32768,
        maxOutputTokens: 4096,
        vision: false,
        tools: true,
        inputPerMillion: 0.1,
        outputPerMillion: 0.2,
      },
    })
  })

  it('names the field of a bad model object', () => {
    const r = parse({}, [{ ...DEEPSEEK, models: [{ name: 'm', contextWindow: -1, vison: true }] }])
    assert.equal(r.ok, false)
    const errors = r.ok ? [] : r.error
    assert.ok(errors.some((e) => e.startsWith('Providers[0].models[0].contextWindow:')), errors.join('\n'))
    assert.ok(errors.some((e) => e.includes('vison')), errors.join('\n'))
  })
})

describe('capability catalogue', () => {
  it('canonical ids drop vendor prefixes, dates and tags', () => {
    assert.equal(canonicalModelId('anthropic/claude-sonnet-4-5-20250929'), 'claude-sonnet-4-5')
    assert.equal(canonicalModelId('us.anthropic.claude-3-5-sonnet-20240620-v1:0'), 'claude-3-5-sonnet')
    assert.equal(canonicalModelId('claude-3-5-haiku@20241022'), 'claude-3-5-haiku')
    assert.equal(canonicalModelId('gpt-4o-2024-08-06'), 'gpt-4o')
    assert.equal(canonicalModelId('claude-3-7-sonnet-latest'), 'claude-3-7-sonnet')
    assert.equal(canonicalModelId('models/gemini-2.5-flash-preview-05-20'), 'gemini-2.5-flash')
    assert.equal(canonicalModelId('gemini-2.0-flash-001'), 'gemini-2.0-flash')
  })

  it('knows the well-known models and nothing else', () => {
    assert.equal(catalogueEntry('claude-sonnet-4-5')?.contextWindow, 200_000)
    assert.equal(catalogueEntry('gpt-4o-mini')?.maxOutputTokens, 16_384)
    assert.equal(catalogueEntry('deepseek-chat')?.vision, false)
    assert.equal(catalogueEntry('gemini-2.5-pro')?.contextWindow, 1_048_576)
    assert.equal(catalogueEntry('my-local-model'), undefined)
    assert.equal(catalogueEntry('gpt-4o-audio-preview')?.contextWindow, undefined, 'no guessing from prefixes')
  })
})

describe('docs/routing-rules.md', () => {
  it('every json5 example in the doc is a valid config (copyable as written)', async () => {
    const { readFileSync } = await import('node:fs')
    const doc = readFileSync(new URL('../../docs/routing-rules.md', import.meta.url), 'utf8')
    const blocks = [...doc.matchAll(/```json5\n([\s\S]*?)```/g)].map((m) => m[1]!)
    assert.ok(blocks.length >= 4)
    const JSON5 = (await import('json5')).default
    const provider = (name: string, models: string[]) => ({
      name,
      api_base_url: `https://${name}.example/v1/chat/completions`,
      api_key: 'k',
      models,
    })
    const base = [
      provider('anthropic', ['claude-sonnet-4-5', 'claude-opus-4-1']),
      provider('gemini', ['gemini-2.5-pro']),
      provider('deepseek', ['deepseek-chat', 'deepseek-reasoner']),
      provider('openai', ['gpt-4.1-mini']),
    ]
    const providers: unknown[] = [...base]
    const fragments: Record<string, unknown>[] = []
    for (const b of blocks) {
      const parsed = JSON5.parse(b.trim().startsWith('{') ? b : `{${b}}`) as Record<string, unknown>
      if (typeof parsed.name === 'string') providers.push(parsed)
      else fragments.push(parsed)
    }
    for (const f of fragments) {
      const file = {
        Providers: providers,
        ...f,
        Router: { default: 'anthropic,claude-sonnet-4-5', ...(f.Router as object) },
      }
      const r = parseConfig(JSON.stringify(file), {})
      assert.ok(r.ok, r.ok ? '' : `${JSON.stringify(f).slice(0, 80)}: ${r.error.join('; ')}`)
    }
  })
})

describe('Keys in the redacted config', () => {
  it('GET /api/config shows key names and limits, never the keys', async () => {
    const { redactConfig } = await import('./redact.ts')
    const shown = JSON.stringify(
      redactConfig({
        Keys: [{ name: 'ci-agents', key: 'sk-ci-secret-value', budgetUsdPerDay: 50, allowedModels: ['deepseek,*'] }, {
          name: 'env',
          key: '$CI_KEY',
        }],
      }),
    )
    assert.ok(!shown.includes('sk-ci-secret-value'))
    assert.match(shown, /"name":"ci-agents"/)
    assert.match(shown, /"budgetUsdPerDay":50/)
    assert.match(shown, /"\$CI_KEY"/, 'a $VAR reference is kept as written')
  })
})
