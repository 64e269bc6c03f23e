import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openStore } from './db.ts'
import { DailyUsageStore } from './usage-daily.ts'

describe('store/usage-daily', () => {
  it('merges deltas per day, tier and target, writes them in one flush, and forgets days before the cutoff', () => {
    const store = openStore(':memory:')
    const daily = new DailyUsageStore(store)
    const row = {
      tier: 'tier-0',
      target: 'p,m',
      requests: 1,
      errors: 0,
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.5,
    }
    daily.enqueue({ day: '2026-05-01', ...row })
    daily.enqueue({ day: '2026-06-01', ...row })
    daily.enqueue({ day: '2026-06-01', ...row, errors: 1 })
    assert.equal(daily.flush(), 2)
    daily.enqueue({ day: '2026-06-01', ...row })
    daily.stop()
    assert.deepEqual(daily.load('2026-05-15'), [{
      day: '2026-06-01',
      ...row,
      requests: 3,
      errors: 1,
      inputTokens: 30,
      outputTokens: 15,
      costUsd: 1.5,
    }])
    assert.deepEqual(
      new DailyUsageStore(store).load('2026-01-01').map((r) => r.day),
      ['2026-06-01'],
      'the old day was deleted',
    )
    store.close()
  })
})
