import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../config/load.ts'
import { knownTransformer } from '../formats/index.ts'
import { ProviderLimiter } from '../resilience/limiter.ts'
import { RoutingRecord } from './record.ts'
import { createRoutingEngine } from './routing-engine.ts'
import { RoutingStats } from './target-stats.ts'

/** How many retries the record grants before refusing (at most `cap`). */
const retriesLeft = (spend: () => boolean, cap = 100) => {
  let n = 0
  while (n < cap && spend()) n++
  return n
}

const file = {
  Providers: [{ name: 'a', api_base_url: 'http://a.test/v1/chat/completions', api_key: 'k', models: ['m'] }],
  Router: { default: 'a,m', retryBudgetRatio: 1 },
}
const parsed = parseConfig(JSON.stringify(file), {}, { knownTransformer })
if (!parsed.ok) throw new Error(parsed.error.join('; '))
const config = parsed.value.config
const stats = () =>
  new RoutingStats({
    ewmaAlpha: config.router.ewmaAlpha,
    failurePenalty: config.router.failurePenalty,
    breaker: config.router.breaker,
  })

describe('routing record: the retry budget', () => {
  it('counts requests only when told: each raises the allowance by the ratio, over a floor of 10 per window', () => {
    const r = new RoutingRecord({ stats: stats(), now: () => 0, retryBudgetRatio: 0.5 })
    for (let i = 0; i < 10; i++) r.request(0)
    assert.equal(retriesLeft(() => r.spendRetry(0)), 15)
  })

  it('planning changes no record: a thousand plans grant no more retries than none', () => {
    const engine = createRoutingEngine({
      config,
      stats: stats(),
      limiter: new ProviderLimiter({}),
      now: () => 0,
      random: () => 0.5,
    })
    const t = engine.plan('default', 'a,m')[0]!
    for (let i = 0; i < 1_000; i++) engine.plan('default', 'a,m')
    const err = { kind: 'upstream_network' as const, target: t.key, message: 'reset' }
    const retry = () => engine.decide(err, 0, t, 600_000).action === 'retry'
    assert.equal(retriesLeft(retry), 10)
    engine.started()
    assert.equal(retriesLeft(retry), 1, 'one started request at ratio 1 buys one more retry')
  })
})
