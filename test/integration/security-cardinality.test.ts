/**
 * Client-chosen names must not grow tables: 5,000 distinct explicit `provider,model` ids used to
 * grow `/v1/usage` to 10.9 MB, the database to 34 MB and RSS by 120 MB. Only configured targets
 * get their own usage rows (in the all-time ledger and in the per-day totals); anything else
 * lands in one `provider,(other)` row per provider.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, testConfigFile } from './helpers.ts'
import { hardenedProxy } from '../fixtures/hardened-proxy.ts'
import { OTHER_MODEL } from '../../src/observability.ts'

describe('security: usage cardinality', () => {
  it('300 invented model names make one row per provider, and /v1/usage stays small', async () => {
    const p = await hardenedProxy(testConfigFile())
    for (let i = 0; i < 300; i++) {
      const res = await p.post('/v1/messages', anthropicBody(`anth,invented-model-${i}-${'x'.repeat(100)}`))
      await res.text()
    }
    assert.equal((await (await p.post('/v1/messages', anthropicBody('anth,mock-a'))).text()).length > 0, true)
    const text = await (await p.get('/v1/usage')).text()
    const u = JSON.parse(text) as { targets: Record<string, { requests: number }> }
    const keys = Object.keys(u.targets)
    assert.ok(keys.length <= 3, keys.join(', '))
    assert.ok((u.targets[`anth,${OTHER_MODEL}`]?.requests ?? 0) >= 300, JSON.stringify(u.targets))
    assert.equal(u.targets['anth,mock-a']?.requests, 1)
    assert.ok(text.length < 10_000, `${text.length} bytes`)
    // The dashboard's per-day totals (kept 31 days and persisted) fold the same way.
    const daily = JSON.parse(await (await p.get('/v1/usage/daily')).text()) as { days: { target: string }[] }
    const dayTargets = daily.days.map((d) => d.target)
    assert.ok(dayTargets.length <= 3, dayTargets.join(', '))
    assert.ok(dayTargets.includes(`anth,${OTHER_MODEL}`), dayTargets.join(', '))
    await p.close()
  })
})
