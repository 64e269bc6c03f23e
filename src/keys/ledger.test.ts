import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compileMatcher } from '../config/rules.ts'
import type { TextMatcher } from '../config/types.ts'
import { KeyLedger, nextUtcMidnight } from './ledger.ts'

const m = (s: string) => compileMatcher(s) as TextMatcher
const T0 = Date.UTC(2026, 10, 30, 20, 0)

describe('KeyLedger', () => {
  it('refuses a key over its daily budget until 00:00 UTC, with the reset time', () => {
    const k = new KeyLedger([{ name: 'ci', key: 'x', budgetUsdPerDay: 1 }])
    assert.equal(k.admit('ci', T0), undefined)
    k.record('ci', T0, { inputTokens: 10, outputTokens: 5, costUsd: 1.2 })
    const r = k.admit('ci', T0 + 1000)
    assert.equal(r?.reason, 'budget')
    assert.equal(r?.retryAfterMs, Date.UTC(2026, 11, 1) - T0 - 1000)
    assert.match(
      r?.message ?? '',
      /"ci" has spent \$1\.20 of its \$1\.00 daily budget: it resets at 2026-12-01T00:00:00\.000Z/,
    )
    assert.equal(k.admit('ci', Date.UTC(2026, 11, 1, 0, 0, 1)), undefined, 'a new UTC day starts again')
    assert.equal(k.snapshot(Date.UTC(2026, 11, 1, 1)).ci?.costUsd, 1.2, 'totals are kept')
  })

  it("seed: stored usage fills the totals; only today's counts against the budget; every booking is handed on", () => {
    const booked: unknown[] = []
    const k = new KeyLedger([{ name: 'ci', key: 'x', budgetUsdPerDay: 1 }], (u) => booked.push(u))
    const today = Math.floor(T0 / 86_400_000)
    k.seed([
      { name: 'ci', day: today - 1, requests: 5, inputTokens: 50, outputTokens: 5, costUsd: 9 },
      { name: 'ci', day: today, requests: 1, inputTokens: 10, outputTokens: 1, costUsd: 0.5 },
      { name: 'gone', day: today, requests: 1, inputTokens: 1, outputTokens: 1, costUsd: 99 },
    ], T0)
    assert.equal(k.admit('ci', T0), undefined)
    assert.deepEqual({ ...k.snapshot(T0).ci, resetsAt: '' }, {
      requests: 6,
      inputTokens: 60,
      outputTokens: 6,
      costUsd: 9.5,
      todayUsd: 0.5,
      budgetUsdPerDay: 1,
      resetsAt: '',
    })
    k.record('ci', T0, { inputTokens: 1, outputTokens: 1, costUsd: 0.6 })
    assert.equal(k.admit('ci', T0)?.reason, 'budget')
    assert.deepEqual(booked, [{ name: 'ci', day: today, requests: 1, inputTokens: 1, outputTokens: 1, costUsd: 0.6 }])
  })

  it('reseed replaces the figures with the persisted ones (another instance of the process booked too); rpm stays', () => {
    const k = new KeyLedger([{ name: 'ci', key: 'x', budgetUsdPerDay: 1 }, { name: 'r', key: 'y', rpm: 2 }])
    const today = Math.floor(T0 / 86_400_000)
    k.record('ci', T0, { inputTokens: 1, outputTokens: 1, costUsd: 0.2 })
    assert.equal(k.admit('r', T0), undefined)
    assert.equal(k.admit('r', T0), undefined)
    k.reseed([{ name: 'ci', day: today, requests: 4, inputTokens: 40, outputTokens: 4, costUsd: 1.1 }], T0)
    const s = k.snapshot(T0).ci
    assert.deepEqual([s?.requests, s?.costUsd, s?.todayUsd], [4, 1.1, 1.1])
    assert.equal(k.admit('ci', T0)?.reason, 'budget', "the other instance's spend counts against the budget")
    assert.equal(k.admit('r', T0)?.reason, 'rpm', 'the two admissions of this minute still count')
  })

  it("rpm: a minute's worth may burst, then a wait", () => {
    const k = new KeyLedger([{ name: 'ci', key: 'x', rpm: 3 }])
    assert.deepEqual([0, 1, 2, 3].map(() => k.admit('ci', T0)?.reason), [undefined, undefined, undefined, 'rpm'])
    assert.equal(k.admit('ci', T0 + 20_000), undefined)
  })

  it('allowedModels match the target or its model; keys without a list may use all', () => {
    const k = new KeyLedger([{ name: 'ci', key: 'x', allowedModels: [m('deepseek,*'), m('gpt-4o-mini')] }, {
      name: 'all',
      key: 'y',
    }])
    assert.equal(k.allows('ci', 'deepseek,deepseek-chat'), true)
    assert.equal(k.allows('ci', 'openai,gpt-4o-mini'), true)
    assert.equal(k.allows('ci', 'openai,gpt-4o'), false)
    assert.equal(k.allows('all', 'openai,gpt-4o'), true)
    assert.equal(k.allows(undefined, 'openai,gpt-4o'), true)
  })

  it('law: the next UTC midnight is after now, within a day, and on a day boundary', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), (now) => {
        const n = nextUtcMidnight(now)
        assert.ok(n > now && n - now <= 86_400_000)
        assert.equal(new Date(n).getUTCHours() + new Date(n).getUTCMinutes(), 0)
      }),
      { seed: 99, numRuns: 200 },
    )
  })
})
