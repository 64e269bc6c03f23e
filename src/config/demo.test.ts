import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { demoConfig, demoConfigFile } from './demo.ts'
import { parseConfig } from './load.ts'

describe('demoConfig', () => {
  const config = demoConfig('http://127.0.0.1:3999/')

  it('has one provider per wire format on the mock URL', () => {
    assert.deepEqual(
      config.providers.map((p) => [p.name, p.format, p.baseUrl]),
      [['mock-anthropic', 'anthropic', 'http://127.0.0.1:3999/v1/messages'], [
        'mock-openai',
        'openai',
        'http://127.0.0.1:3999/v1/chat/completions',
      ]],
    )
  })

  it('spreads default/background/think/longContext over both providers, with fallbacks to the other one', () => {
    const r = config.router
    const providerOf = (t: string | undefined): string | undefined => t?.split(',')[0]
    const used = new Set([r.default, r.background, r.think, r.longContext].map(providerOf))
    assert.deepEqual([...used].sort(), ['mock-anthropic', 'mock-openai'])
    for (const [scenario, list] of Object.entries(r.fallback)) {
      const primary = r[scenario as 'default' | 'background' | 'think' | 'longContext']
      assert.ok(list && list.length > 0)
      for (const t of list ?? []) {
        assert.notEqual(providerOf(t), providerOf(primary), `fallback for ${scenario} should switch format`)
      }
    }
  })

  it('is a valid CCR file that loads to the same Config with no warnings', () => {
    const r = parseConfig(JSON.stringify(demoConfigFile('http://127.0.0.1:3999')), {})
    assert.ok(r.ok)
    assert.deepEqual(r.value.warnings, [])
    assert.deepEqual(r.value.config, config)
  })
})
