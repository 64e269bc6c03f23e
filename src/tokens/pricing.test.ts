import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as models from 'gpt-tokenizer/models'
import type { Pricing, ProviderConfig } from '../config/types.ts'
import { builtinPrice, costUsd, priceFor } from './pricing.ts'

const provider = (pricing: Record<string, Pricing>): ProviderConfig => ({
  name: 'p',
  baseUrl: 'http://127.0.0.1:1/v1/chat/completions',
  apiKey: 'k',
  models: ['m'],
  format: 'openai',
  transformers: [],
  modelTransformers: {},
  limits: {},
  pricing,
  headers: {},
})
const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheCreationTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheCreationTokens,
})

const table = models as unknown as Record<
  string,
  { price_data?: { main?: { input?: number; output?: number } } } | undefined
>

describe('pricing', () => {
  it('has no price for unknown models, and cost is then undefined, not 0', () => {
    assert.equal(priceFor(undefined, 'deepseek-chat-unknown'), undefined)
    assert.equal(priceFor(provider({}), 'claude-unreleased-9'), undefined)
    assert.equal(costUsd(usage(1000, 1000), undefined), undefined)
  })

  it('falls back to the capability catalogue, and a models object in config beats it', () => {
    assert.deepEqual(priceFor(provider({}), 'claude-sonnet-4-20250514'), { inputPerMillion: 3, outputPerMillion: 15 })
    const own = {
      ...provider({}),
      modelCapabilities: { 'claude-sonnet-4': { inputPerMillion: 1, outputPerMillion: 2 } },
    }
    assert.deepEqual(priceFor(own, 'claude-sonnet-4'), { inputPerMillion: 1, outputPerMillion: 2 })
    assert.deepEqual(
      priceFor(provider({ 'claude-sonnet-4': { inputPerMillion: 9, outputPerMillion: 9 } }), 'claude-sonnet-4'),
      { inputPerMillion: 9, outputPerMillion: 9 },
    )
  })

  it('takes built-in prices from gpt-tokenizer, also for vendor-prefixed ids', () => {
    const main = table['gpt-4o']?.price_data?.main
    assert.ok(main?.input !== undefined && main.output !== undefined)
    assert.deepEqual(
      [builtinPrice('gpt-4o')?.inputPerMillion, builtinPrice('gpt-4o')?.outputPerMillion],
      [main.input, main.output],
    )
    assert.deepEqual(builtinPrice('openai/gpt-4o'), builtinPrice('gpt-4o'))
  })

  it('lets a model override win over `*`, and `*` over the built-in price', () => {
    const exact = { inputPerMillion: 1, outputPerMillion: 2 }
    const star = { inputPerMillion: 7, outputPerMillion: 9 }
    const p = provider({ 'gpt-4o': exact, '*': star })
    assert.deepEqual(priceFor(p, 'gpt-4o'), exact)
    assert.deepEqual(priceFor(p, 'anything-else'), star)
    assert.deepEqual(priceFor(provider({ '*': star }), 'gpt-4o'), star)
  })

  it('charges each usage component at its own price', () => {
    const p = { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 }
    assert.equal(costUsd(usage(1_000_000, 0), p), 3)
    assert.equal(costUsd(usage(0, 2_000_000), p), 30)
    assert.ok(Math.abs((costUsd(usage(0, 0, 1_000_000, 1_000_000), p) ?? NaN) - 4.05) < 1e-12)
    assert.equal(costUsd(usage(0, 0, 1_000_000), { inputPerMillion: 2, outputPerMillion: 8 }), 2)
  })

  it('law: cost is linear in usage and never negative', () => {
    const n = fc.integer({ min: 0, max: 10_000_000 })
    fc.assert(fc.property(n, n, n, n, (a, b, c, d) => {
      const p = { inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3 }
      const whole = costUsd(usage(a, b, c, d), p) ?? NaN
      const parts = (costUsd(usage(a, 0), p) ?? NaN) + (costUsd(usage(0, b), p) ?? NaN) +
        (costUsd(usage(0, 0, c), p) ?? NaN) + (costUsd(usage(0, 0, 0, d), p) ?? NaN)
      assert.ok(whole >= 0 && Math.abs(whole - parts) < 1e-9 * Math.max(1, whole))
    }))
  })
})
