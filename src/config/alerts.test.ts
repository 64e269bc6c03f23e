import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from './load.ts'

const base = (extra: Record<string, unknown> = {}, router: Record<string, unknown> = {}) =>
  JSON.stringify({
    Providers: [{
      name: 'p',
      api_base_url: 'http://127.0.0.1:1/v1/chat/completions',
      api_key: 'k',
      models: ['a', 'b'],
    }],
    Router: { default: 'p,a', ...router },
    ...extra,
  })

function errors(text: string): string[] {
  const r = parseConfig(text, {})
  return r.ok ? [] : [...r.error]
}

describe('Alerts and Router.experiments config', () => {
  it('defaults: alerts on, no webhooks, every rule with its documented default', () => {
    const r = parseConfig(base(), {})
    assert.ok(r.ok)
    const a = r.value.config.alerts!
    assert.equal(a.enabled, true)
    assert.deepEqual(a.webhooks, [])
    assert.deepEqual(a.rules.latency, {
      enabled: true,
      ratio: 2,
      resolveRatio: 1.3,
      minDurationMs: 60_000,
      warmupSamples: 20,
    })
    assert.deepEqual(a.rules.routingShift, { enabled: true, points: 30, minutes: 10, minRequests: 20 })
    assert.deepEqual(r.value.config.router.experiments, [])
    assert.ok(!r.value.config.ignoredKeys.includes('Alerts'))
  })

  it('bounds are checked with the path in the message', () => {
    const e = errors(
      base({
        Alerts: { evaluateIntervalMs: 5, rules: { successRate: { min: 0.9, resolveAt: 0.5 }, budget: { fireAt: 2 } } },
      }),
    )
    assert.ok(e.some((m) => m.startsWith('Alerts.evaluateIntervalMs')), e.join('\n'))
    assert.ok(
      e.some((m) => m.startsWith('Alerts.rules.successRate.resolveAt') && m.includes('at least min')),
      e.join('\n'),
    )
    assert.ok(e.some((m) => m.startsWith('Alerts.rules.budget.fireAt')), e.join('\n'))
    const many = errors(
      base({ Alerts: { webhooks: Array.from({ length: 11 }, () => ({ url: 'http://127.0.0.1:1/' })) } }),
    )
    assert.ok(many.some((m) => m.includes('at most 10 webhooks')), many.join('\n'))
  })

  it('experiments: percents add up to 100, distinct names and ids, known targets, one per scenario', () => {
    const arms = [{ name: 'x', target: 'p,a', percent: 50 }, { name: 'y', target: 'p,b', percent: 50 }]
    assert.ok(parseConfig(base({}, { experiments: [{ id: 'e', scenario: 'default', arms }] }), {}).ok)
    const sum = errors(
      base({}, { experiments: [{ id: 'e', scenario: 'default', arms: [arms[0], { ...arms[1], percent: 40 }] }] }),
    )
    assert.ok(sum.some((m) => m.includes('arm percents must add up to 100')), sum.join('\n'))
    const names = errors(
      base({}, { experiments: [{ id: 'e', scenario: 'default', arms: [arms[0], { ...arms[1], name: 'x' }] }] }),
    )
    assert.ok(names.some((m) => m.includes('arm names must be distinct')), names.join('\n'))
    const twice = errors(
      base({}, { experiments: [{ id: 'e', scenario: 'default', arms }, { id: 'f', scenario: 'default', arms }] }),
    )
    assert.ok(twice.some((m) => m.includes('at most one enabled experiment per scenario')), twice.join('\n'))
    const unknown = errors(
      base({}, { experiments: [{ id: 'e', scenario: 'think', arms: [arms[0], { ...arms[1], target: 'nope,m' }] }] }),
    )
    assert.ok(
      unknown.some((m) =>
        m.startsWith('Router.experiments[0].arms[1].target') && m.includes('provider "nope" is not in Providers')
      ),
      unknown.join('\n'),
    )
    const both = errors(
      base({}, {
        experiments: [{ id: 'e', scenario: 'default', arms: [{ ...arms[0], optimization: 'cost' }, arms[1]] }],
      }),
    )
    assert.ok(both.some((m) => m.includes('exactly one of target and optimization')), both.join('\n'))
    const scenario = errors(base({}, { experiments: [{ id: 'e', scenario: 'explicit', arms }] }))
    assert.ok(scenario.some((m) => m.startsWith('Router.experiments[0].scenario')), scenario.join('\n'))
  })
})
