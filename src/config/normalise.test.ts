import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from './load.ts'
import type { ParseOptions } from './load.ts'
import { detectFormat } from './normalise.ts'

const P = { name: 'p', api_base_url: 'https://api.example.com/v1/chat/completions', api_key: 'k', models: ['m1', 'm2'] }

function load(file: Record<string, unknown>, opts: ParseOptions = {}) {
  const r = parseConfig(JSON.stringify(file), {}, opts)
  if (!r.ok) assert.fail(`expected the config to parse: ${r.error.join('; ')}`)
  return r.value
}

describe('normalise: providers', () => {
  it('detects the wire format from the transformer, the URL or protocol', () => {
    const base = { transformer: undefined, protocol: undefined }
    assert.equal(detectFormat({ ...base, api_base_url: 'https://api.anthropic.com/v1/messages' }), 'anthropic')
    assert.equal(detectFormat({ ...base, api_base_url: 'https://glm.example/api/anthropic/v1/messages/' }), 'anthropic')
    assert.equal(detectFormat({ ...base, api_base_url: 'https://api.x.com/v1/chat/completions' }), 'openai')
    assert.equal(detectFormat({ ...base, api_base_url: 'https://x.com/v1/messages/count' }), 'openai')
    const anthropicUse = { use: [{ name: 'Anthropic', options: {} }] }
    assert.equal(
      detectFormat({ api_base_url: 'https://proxy.example/api', transformer: anthropicUse, protocol: undefined }),
      'anthropic',
    )
    assert.equal(
      detectFormat({ api_base_url: 'https://proxy.example/v1/messages', transformer: undefined, protocol: 'openai' }),
      'openai',
    )
  })

  it('maps transformer entries, provider chain and model chains', () => {
    const transformer = { use: ['deepseek', ['maxtoken', { max_tokens: 8192 }]], m1: { use: ['tooluse'] } }
    const p = load({ Providers: [{ ...P, transformer }] }).config.providers[0]
    assert.deepEqual(p?.transformers, [{ name: 'deepseek', options: {} }, {
      name: 'maxtoken',
      options: { max_tokens: 8192 },
    }])
    assert.deepEqual(p?.modelTransformers, { m1: [{ name: 'tooluse', options: {} }] })
    assert.equal(p?.format, 'openai')
  })

  it('warns about unknown transformer names when a registry is given', () => {
    const transformer = { use: ['deepseek', 'bogus'], m1: { use: ['alsobogus'] } }
    const { warnings } = load({ Providers: [{ ...P, transformer }], Router: { default: 'p,m1' } }, {
      knownTransformer: (n) => n === 'deepseek',
    })
    assert.deepEqual(warnings, [
      'Providers[0].transformer.use[1]: unknown transformer "bogus": ignored',
      'Providers[0].transformer.m1.use[0]: unknown transformer "alsobogus": ignored',
    ])
  })

  it('keeps a provider with an empty or missing api_key, with a warning (CCR drops it silently)', () => {
    const { config, warnings } = load({ Providers: [{ ...P, api_key: '' }, { ...P, name: 'q', api_key: undefined }] })
    assert.deepEqual(config.providers.map((p) => [p.name, p.apiKey]), [['p', ''], ['q', '']])
    assert.equal(
      warnings.filter((w) => /^Providers\[[01]\]\.api_key: empty: provider "[pq]" is kept/.test(w)).length,
      2,
    )
  })

  it('maps limits, headers and pricing (flat, per model and model_pricing)', () => {
    const p = load({
      Providers: [{
        ...P,
        rpm: 60,
        tpm: '100000',
        maxConcurrent: 4,
        extra_headers: { 'x-a': '1', 'x-b': '1' },
        headers: { 'x-b': '2' },
        pricing: { input_per_million: 1, output_per_million: 2 },
        model_pricing: {
          m2: { input_per_million_tokens: 3, output_per_million_tokens: 4, cache_read_per_million: 0.3 },
        },
      }],
    }).config.providers[0]
    assert.deepEqual(p?.limits, { rpm: 60, tpm: 100000, maxConcurrent: 4 })
    assert.deepEqual(p?.headers, { 'x-a': '1', 'x-b': '2' })
    assert.deepEqual(p?.pricing, {
      '*': { inputPerMillion: 1, outputPerMillion: 2 },
      m2: { inputPerMillion: 3, outputPerMillion: 4, cacheReadPerMillion: 0.3 },
    })
    const perModel =
      load({ Providers: [{ ...P, pricing: { m1: { input_per_million: 5, output_per_million: 6 } } }] }).config
        .providers[0]
    assert.deepEqual(perModel?.pricing, { m1: { inputPerMillion: 5, outputPerMillion: 6 } })
  })

  it('accepts the lowercase providers alias', () => {
    assert.equal(load({ providers: [P] }).config.providers[0]?.name, 'p')
  })
})

describe('normalise: top level and Router', () => {
  it('fills every documented default', () => {
    const { config } = load({ Providers: [P], Router: { default: 'p,m1' } })
    assert.equal(config.port, 3456)
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.apiTimeoutMs, 600000)
    assert.equal(config.sseBufferSize, 32)
    assert.equal(config.maxBodyBytes, 50 * 1024 * 1024)
    assert.equal(config.maxStreams, 2048)
    assert.equal(config.tokenAuditSize, 1000)
    assert.deepEqual(config.drift, { warnPct: 10, criticalPct: 25 })
    const r = config.router
    assert.equal(r.longContextThreshold, 60000)
    assert.equal(r.fallbackToOtherTiers, true)
    assert.equal(r.optimization, 'balanced')
    assert.deepEqual(r.weights, { latency: 0.4, throughput: 0.4, reliability: 0.2, cost: 0 })
    assert.deepEqual(r.defaultRetry, { maxRetries: 2, baseBackoffMs: 100, backoffMultiplier: 2, maxBackoffMs: 5000 })
    assert.deepEqual([r.minSamples, r.firstTokenTimeoutMs, r.streamIdleTimeoutMs, r.connectTimeoutMs, r.dedup], [
      3,
      60000,
      120000,
      60000,
      false,
    ])
    const perf = config.performance
    assert.deepEqual([
      perf.enabled,
      perf.testIntervalMinutes,
      perf.testTimeoutSeconds,
      perf.maxConcurrentTests,
      perf.minTestCount,
    ], [false, 60, 30, 2, 3])
    assert.deepEqual([perf.dailyTokenBudget, perf.maxTokensPerTest, perf.historyTtlDays], [200000, 256, 30])
    assert.deepEqual(perf.weights, { latency: 0.4, throughput: 0.4, reliability: 0.2 })
  })

  it('collects unused keys into ignoredKeys instead of failing', () => {
    const { config } = load({
      Providers: [{ ...P, tier_name: 'x' }],
      Router: { default: 'p,m1', tiers: [] },
      StatusLine: { enabled: true },
      NON_INTERACTIVE_MODE: false,
      CLAUDE_PATH: 'claude',
      plugins: [],
      OPENAI_API_KEY: 'x',
    })
    assert.deepEqual(config.ignoredKeys, [
      'StatusLine',
      'NON_INTERACTIVE_MODE',
      'CLAUDE_PATH',
      'plugins',
      'OPENAI_API_KEY',
      'Router.tiers',
      'Providers[0].tier_name',
    ])
  })

  it('defaults Router.default to the first model of the first provider, with a warning', () => {
    const { config, warnings } = load({ Providers: [P] })
    assert.equal(config.router.default, 'p,m1')
    assert.deepEqual(warnings, ['Router.default: not set: using "p,m1" (the first model of the first provider)'])
  })

  it('warns, not fails, for a model the provider does not list', () => {
    const { config, warnings } = load({ Providers: [P], Router: { default: 'p,m9' } })
    assert.equal(config.router.default, 'p,m9')
    assert.deepEqual(warnings, [
      'Router.default: model "m9" is not in the models of provider "p" (have: m1, m2): it is forwarded as is',
    ])
  })

  it('maps tierRetries (snake_case, per tier, "default" sets defaultRetry) and fallback', () => {
    const r = load({
      Providers: [P],
      Router: {
        default: 'p,m1',
        tierRetries: { 'tier-1': { max_retries: 0 }, default: { max_retries: 1, max_backoff_ms: 900 } },
      },
      fallback: { default: ['p,m2'] },
    }).config.router
    assert.deepEqual(r.tierRetries, {
      'tier-1': { maxRetries: 0, baseBackoffMs: 100, backoffMultiplier: 2, maxBackoffMs: 5000 },
    })
    assert.deepEqual(r.defaultRetry, { maxRetries: 1, baseBackoffMs: 100, backoffMultiplier: 2, maxBackoffMs: 900 })
    assert.deepEqual(r.fallback, { default: ['p,m2'] })
  })

  it('forces loopback when HOST is set without APIKEY, keeps it with one', () => {
    const open = load({ Providers: [P], Router: { default: 'p,m1' }, HOST: '0.0.0.0' })
    assert.equal(open.config.host, '127.0.0.1')
    assert.ok(open.warnings.includes('HOST: "0.0.0.0" needs APIKEY to be set: listening on 127.0.0.1 instead'))
    assert.equal(
      load({ Providers: [P], Router: { default: 'p,m1' }, HOST: '0.0.0.0', APIKEY: 's' }).config.host,
      '0.0.0.0',
    )
  })

  it('takes the outbound proxy from HTTPS_PROXY before PROXY_URL, as the CCR engine does', () => {
    const both = load({ Providers: [P], HTTPS_PROXY: 'http://a:1', PROXY_URL: 'http://b:2' })
    assert.equal(both.config.proxyUrl, 'http://a:1')
    assert.equal(load({ Providers: [P], PROXY_URL: 'http://b:2' }).config.proxyUrl, 'http://b:2')
  })

  it('maps presets: ccr-rust route form pins default; Router form replaces scenario targets, keeps policies', () => {
    const { config } = load({
      Providers: [P],
      Router: { default: 'p,m1', think: 'p,m2', longContextThreshold: 1000 },
      Presets: {
        fast: { route: 'p,m2', max_tokens: 100, temperature: 0.2 },
        deep: { Router: { default: 'p,m2', think: 'p,m1' } },
        flat: { background: 'p,m2' },
      },
    })
    const { fast, deep, flat } = config.presets
    assert.deepEqual([fast?.router.default, fast?.router.think, fast?.maxTokens, fast?.temperature], [
      'p,m2',
      undefined,
      100,
      0.2,
    ])
    assert.deepEqual([deep?.router.default, deep?.router.think, deep?.router.longContextThreshold], [
      'p,m2',
      'p,m1',
      1000,
    ])
    assert.deepEqual([flat?.router.default, flat?.router.background], ['p,m1', 'p,m2'])
  })

  it('treats empty Router strings as unset and ignores the ccr-rust webSearch object with a warning', () => {
    const { config, warnings } = load({
      Providers: [P],
      Router: { default: 'p,m1', think: '', webSearch: { enabled: true } },
    })
    assert.equal(config.router.think, undefined)
    assert.equal(config.router.webSearch, undefined)
    assert.ok(warnings.some((w) => w.startsWith('Router.webSearch: the ccr-rust object form is not supported')))
  })

  it('says where fallbacks go when they are written under Router, where nothing reads them', () => {
    const misplaced = load({ Providers: [P], Router: { default: 'p,m1', fallback: ['p,m2'] } })
    assert.deepEqual(misplaced.config.router.fallback, {})
    assert.ok(
      misplaced.warnings.some((w) => w.startsWith('Router.fallback: not read here')),
      misplaced.warnings.join('\n'),
    )
    const placed = load({ Providers: [P], Router: { default: 'p,m1' }, fallback: { default: ['p,m2'] } })
    assert.deepEqual(placed.config.router.fallback, { default: ['p,m2'] })
    assert.equal(placed.warnings.some((w) => w.includes('fallback')), false)
  })

  it('says which CCR keys have no effect here, and nothing for a config without them', () => {
    const said = load({
      Providers: [{ ...P, tokenizer: { default: { type: 'tiktoken' } } }],
      Router: { default: 'p,m1' },
      REWRITE_SYSTEM_PROMPT: 'prompt.txt',
      forceUseImageAgent: true,
      plugins: [{ name: 'token-speed', enabled: true }],
    }).warnings
    for (const key of ['REWRITE_SYSTEM_PROMPT', 'forceUseImageAgent', 'plugins', 'Providers[0].tokenizer']) {
      assert.equal(said.filter((w) => w.startsWith(`${key}: `)).length, 1, `${key} in ${said.join('\n')}`)
    }
    // `forceUseImageAgent: false` is CCR's default: nothing is missing.
    assert.deepEqual(load({ Providers: [P], Router: { default: 'p,m1' }, forceUseImageAgent: false }).warnings, [])
    // With Router.image it is served (images described by it), so nothing is said.
    const forced = load({ Providers: [P], Router: { default: 'p,m1', image: 'p,m2' }, forceUseImageAgent: true })
    assert.deepEqual(forced.warnings, [])
    assert.equal(forced.config.router.forceUseImageAgent, true)
    assert.equal(
      load({ Providers: [P], Router: { default: 'p,m1', image: 'p,m2' } }).config.router.forceUseImageAgent,
      undefined,
    )
  })
})

describe('normalise: the Responses and Gemini formats', () => {
  it('detects them from CCR transformer names, protocol or the URL', () => {
    const base = { transformer: undefined, protocol: undefined }
    const use = (name: string) => ({ use: [{ name }] })
    assert.equal(
      detectFormat({ ...base, api_base_url: 'https://generativelanguage.googleapis.com/v1beta/models/' }),
      'gemini',
    )
    assert.equal(
      detectFormat({ ...base, api_base_url: 'https://g.example/v1beta/models/gemini-2.5-pro:generateContent' }),
      'gemini',
    )
    assert.equal(detectFormat({ ...base, api_base_url: 'https://api.openai.com/v1/responses' }), 'responses')
    assert.equal(
      detectFormat({ api_base_url: 'https://proxy.example/api', transformer: use('gemini'), protocol: undefined }),
      'gemini',
    )
    assert.equal(
      detectFormat({
        api_base_url: 'https://vertex.example/v1/projects/p/locations/l/publishers/google/models/',
        transformer: use('vertex-gemini'),
        protocol: undefined,
      }),
      'gemini',
    )
    assert.equal(
      detectFormat({
        api_base_url: 'https://proxy.example/api',
        transformer: use('openai-responses'),
        protocol: undefined,
      }),
      'responses',
    )
    assert.equal(
      detectFormat({
        api_base_url: 'https://proxy.example/v1/chat/completions',
        transformer: undefined,
        protocol: 'responses',
      }),
      'responses',
    )
    assert.equal(
      detectFormat({ ...base, api_base_url: 'https://api.openai.com/v1/models/x/chat/completions' }),
      'openai',
    )
  })

  it('a provider whose transformers name two formats is a config error naming both', () => {
    const r = parseConfig(
      JSON.stringify({
        Providers: [{ ...P, transformer: { use: ['Anthropic', 'gemini'] } }],
        Router: { default: 'p,m1' },
      }),
      {},
      {},
    )
    assert.ok(!r.ok)
    assert.match(r.error.join('\n'), /Providers\[0\]\.transformer\.use.*2 wire formats \(anthropic, gemini\)/)
    // `protocol` settles it.
    assert.equal(
      load({
        Providers: [{ ...P, protocol: 'gemini', transformer: { use: ['Anthropic', 'gemini'] } }],
        Router: { default: 'p,m1' },
      }).config.providers[0]?.format,
      'gemini',
    )
  })
})

describe('normalise: base URLs for the newer formats', () => {
  it('a ccr-rust style base gets the Responses or Gemini endpoint appended', () => {
    const cfg = load({
      Providers: [
        {
          name: 'g',
          api_base_url: 'https://generativelanguage.googleapis.com/v1beta',
          api_key: 'k',
          models: ['gemini-2.5-pro'],
          transformer: { use: ['gemini'] },
        },
        {
          name: 'r',
          api_base_url: 'https://api.openai.com/v1',
          api_key: 'k',
          models: ['gpt-5.5'],
          transformer: { use: ['openai-responses'] },
        },
      ],
      Router: { default: 'g,gemini-2.5-pro' },
    }).config
    assert.deepEqual(cfg.providers.map((p) => [p.format, p.baseUrl]), [
      ['gemini', 'https://generativelanguage.googleapis.com/v1beta/models/'],
      ['responses', 'https://api.openai.com/v1/responses'],
    ])
  })
})

describe('normalise: Vertex AI providers', () => {
  it('a Vertex transformer sets the format and the Vertex settings, and keeps the base as written', () => {
    const loaded = load({
      Providers: [
        {
          name: 'vc',
          api_base_url: 'https://us-east5-aiplatform.googleapis.com',
          models: ['claude-sonnet-4@20250514'],
          transformer: { use: [['vertex-claude', { project: 'p' }]] },
        },
        {
          name: 'vo',
          api_base_url: 'https://us-central1-aiplatform.googleapis.com/v1',
          models: ['google/gemini-2.5-pro'],
          transformer: { use: ['vertex-openai'] },
        },
        { ...P, name: 'plain' },
      ],
      Router: { default: 'vc,claude-sonnet-4@20250514' },
    })
    const cfg = loaded.config
    // No key needed, and no ccr-rust path appended to a Vertex host: nothing to warn about.
    assert.deepEqual(loaded.warnings.filter((w) => /Providers\[[01]\]/.test(w)), [])
    assert.deepEqual(cfg.providers.map((p) => [p.format, p.baseUrl, p.vertex?.publisher]), [
      ['anthropic', 'https://us-east5-aiplatform.googleapis.com', 'anthropic'],
      ['openai', 'https://us-central1-aiplatform.googleapis.com/v1', 'openai'],
      ['openai', P.api_base_url, undefined],
    ])
    assert.equal(cfg.providers[0]!.vertex?.project, 'p')
    assert.deepEqual(cfg.googleCloud, { credentialFiles: [] }, 'the environment is read when a provider is on Vertex')
    assert.equal(load({ Providers: [P], Router: { default: 'p,m1' } }).config.googleCloud, undefined)
  })
})
