import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { endpointUrl } from './endpoint.ts'

describe('endpointUrl', () => {
  it('uses a full CCR endpoint as written', () => {
    for (
      const [url, f] of [
        ['https://api.deepseek.com/chat/completions', 'openai'],
        ['http://localhost:11434/v1/chat/completions', 'openai'],
        ['https://api.anthropic.com/v1/messages', 'anthropic'],
        ['https://generativelanguage.googleapis.com/v1beta/models/', 'openai'],
        ['https://proxy.example/custom/path?x=1', 'openai'],
      ] as const
    ) assert.deepEqual(endpointUrl(url, f), { url }, url)
  })

  it("appends the format's path to a ccr-rust style base", () => {
    assert.deepEqual(endpointUrl('http://127.0.0.1:9999', 'openai'), {
      url: 'http://127.0.0.1:9999/chat/completions',
      appended: '/chat/completions',
    })
    assert.equal(endpointUrl('http://127.0.0.1:9999/v1', 'openai').url, 'http://127.0.0.1:9999/v1/chat/completions')
    assert.equal(
      endpointUrl('https://openrouter.ai/api/v1/', 'openai').url,
      'https://openrouter.ai/api/v1/chat/completions',
    )
    assert.equal(
      endpointUrl('https://open.bigmodel.cn/api/paas/v4', 'openai').url,
      'https://open.bigmodel.cn/api/paas/v4/chat/completions',
    )
    assert.equal(
      endpointUrl('https://generativelanguage.googleapis.com/v1beta/openai', 'openai').url,
      'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions',
    )
    assert.equal(endpointUrl('https://api.anthropic.com', 'anthropic').url, 'https://api.anthropic.com/v1/messages')
    assert.equal(endpointUrl('https://api.anthropic.com/v1', 'anthropic').url, 'https://api.anthropic.com/v1/messages')
  })

  it('keeps a query string when appending', () => {
    assert.equal(
      endpointUrl('http://127.0.0.1:9999/v1?api-version=2', 'openai').url,
      'http://127.0.0.1:9999/v1/chat/completions?api-version=2',
    )
  })
})

describe('config: ccr-rust base URLs', () => {
  it('a base api_base_url loads with the endpoint appended, and validate says so', async () => {
    const { parseConfig } = await import('./load.ts')
    const r = parseConfig(
      JSON.stringify({
        Providers: [
          { name: 'mock', api_base_url: 'http://127.0.0.1:9999', api_key: 'k', models: ['m'] },
          { name: 'full', api_base_url: 'https://api.deepseek.com/chat/completions', api_key: 'k', models: ['d'] },
        ],
        Router: { default: 'mock,m' },
      }),
      {},
    )
    assert.ok(r.ok)
    assert.deepEqual(r.value.config.providers.map((p) => p.baseUrl), [
      'http://127.0.0.1:9999/chat/completions',
      'https://api.deepseek.com/chat/completions',
    ])
    assert.ok(
      r.value.warnings.includes(
        'Providers[0].api_base_url: a base URL (ccr-rust style): requests go to http://127.0.0.1:9999/chat/completions',
      ),
      r.value.warnings.join('\n'),
    )
    assert.equal(r.value.warnings.filter((w) => w.includes('api_base_url')).length, 1)
  })
})
