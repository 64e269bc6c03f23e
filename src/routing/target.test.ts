import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseTarget, resolveExplicit, targetKey, unknownProviderMessage } from './target.ts'

const providers = [
  { name: 'DeepSeek', models: ['deepseek-chat', 'DeepSeek-Reasoner'] },
  { name: 'openrouter', models: ['moonshotai/kimi-k2'] },
]

describe('parseTarget / targetKey', () => {
  it('splits at the first comma so model ids may contain commas', () => {
    assert.deepEqual(parseTarget('openrouter,a,b'), { provider: 'openrouter', model: 'a,b' })
    assert.deepEqual(parseTarget('ollama,qwen2.5-coder:latest'), { provider: 'ollama', model: 'qwen2.5-coder:latest' })
  })

  it('rejects strings without a comma or with an empty half', () => {
    for (const s of ['deepseek', ',m', 'p,', '', ',']) assert.equal(parseTarget(s), undefined, s)
  })

  it('law: targetKey(parseTarget(p + "," + m)) round-trips for comma-free providers', () => {
    const part = fc.stringMatching(/^[a-z0-9][a-z0-9.:/_-]{0,15}$/)
    fc.assert(
      fc.property(part, fc.array(part, { minLength: 1, maxLength: 3 }), (p, ms) => {
        const s = `${p},${ms.join(',')}`
        const t = parseTarget(s)
        assert.ok(t)
        assert.equal(t.provider, p)
        assert.equal(targetKey(t), s)
      }),
    )
  })
})

describe('resolveExplicit', () => {
  it('matches provider and model case-insensitively and returns the configured casing', () => {
    assert.deepEqual(resolveExplicit('deepseek,deepseek-reasoner', providers), {
      provider: 'DeepSeek',
      model: 'DeepSeek-Reasoner',
    })
  })

  it('still routes a model the provider does not list (CCR forwards it)', () => {
    assert.deepEqual(resolveExplicit('OPENROUTER,google/gemini-2.5-pro', providers), {
      provider: 'openrouter',
      model: 'google/gemini-2.5-pro',
    })
  })

  it('returns undefined for an unknown provider or a model name without a comma', () => {
    assert.equal(resolveExplicit('ghost,m', providers), undefined)
    assert.equal(resolveExplicit('claude-sonnet-4', providers), undefined)
  })

  it('builds a 404 message naming the provider and listing configured ones', () => {
    assert.equal(
      unknownProviderMessage('ghost', providers),
      'Provider "ghost" is not configured: configured providers are "DeepSeek", "openrouter"',
    )
    assert.equal(
      unknownProviderMessage('ghost', []),
      'Provider "ghost" is not configured: configured providers are none',
    )
  })
})
