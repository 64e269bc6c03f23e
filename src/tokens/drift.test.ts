import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { classify, driftPct, DriftTracker, percentile, reportedInputTokens } from './drift.ts'
import { TokenAudit } from './audit.ts'
import type { AuditEntry } from './audit.ts'

const T = { warnPct: 10, criticalPct: 25 }

describe('drift maths', () => {
  it('is signed relative to the reported figure', () => {
    assert.equal(driftPct(110, 100), 10)
    assert.equal(driftPct(75, 100), -25)
    assert.equal(driftPct(0, 0), 0)
    assert.equal(driftPct(5, 0), undefined)
  })

  it('sums Anthropic input, cache-read and cache-creation tokens as the reported input', () => {
    assert.equal(
      reportedInputTokens({ inputTokens: 10, outputTokens: 99, cacheReadTokens: 200, cacheCreationTokens: 5 }),
      215,
    )
  })

  it('classifies by magnitude with inclusive thresholds', () => {
    assert.equal(classify(9.99, T), 'ok')
    assert.equal(classify(-10, T), 'warning')
    assert.equal(classify(24.9, T), 'warning')
    assert.equal(classify(-25, T), 'critical')
  })

  it('law: classification is monotone in |drift|', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -500, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (a, extra) => {
          const rank = { ok: 0, warning: 1, critical: 2 }
          const b = Math.sign(a || 1) * (Math.abs(a) + extra)
          assert.ok(rank[classify(b, T)] >= rank[classify(a, T)])
        },
      ),
    )
  })
})

describe('DriftTracker', () => {
  it('keeps per-tier samples, mean, p95 and alert counts', () => {
    const d = new DriftTracker(T)
    for (let i = 1; i <= 20; i++) d.record('tier-0', 100 + i, 100)
    d.record('tier-1', 50, 100)
    const s = d.snapshot()
    assert.equal(s['tier-0']?.samples, 20)
    assert.equal(s['tier-0']?.meanPct, 10.5)
    assert.equal(s['tier-0']?.p95AbsPct, 19)
    assert.deepEqual(s['tier-0']?.alerts, { warning: 11, critical: 0 })
    assert.deepEqual(s['tier-1']?.alerts, { warning: 0, critical: 1 })
    assert.equal(s['tier-1']?.meanPct, -50)
  })

  it('bounds the percentile window but keeps cumulative counts', () => {
    const d = new DriftTracker(T, 4)
    for (let i = 0; i < 10; i++) d.record('t', 200, 100)
    for (let i = 0; i < 4; i++) d.record('t', 100, 100)
    const s = d.snapshot()['t']
    assert.equal(s?.samples, 14)
    assert.equal(s?.p95AbsPct, 0)
    assert.equal(s?.maxAbsPct, 100)
    assert.equal(s?.alerts.critical, 10)
  })

  it('law: p95 lies between min and max of the window', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1 }), (xs) => {
      const sorted = [...xs].sort((a, b) => a - b)
      const p = percentile(sorted, 0.95)
      assert.ok(p >= (sorted[0] ?? 0) && p <= (sorted.at(-1) ?? 0))
    }))
  })
})

const entry = (i: number): AuditEntry => ({
  id: `r${i}`,
  at: i,
  tier: 'tier-0',
  target: 'p,m',
  estimate: { total: i, messages: i, system: 0, tools: 0, images: 0, thinking: 0 },
})

describe('TokenAudit', () => {
  it('law: never holds more than N entries and keeps the newest in order', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), (size, n) => {
      const a = new TokenAudit(size)
      for (let i = 0; i < n; i++) a.add(entry(i))
      const ids = a.list().map((e) => e.id)
      const expected = Array.from({ length: Math.min(n, size) }, (_, k) => `r${n - Math.min(n, size) + k}`)
      assert.deepEqual(ids, expected)
    }))
  })

  it('completes an audit with the reported figure, and reports evicted ids', () => {
    const a = new TokenAudit(2)
    a.add(entry(1))
    a.add(entry(2))
    a.add(entry(3))
    assert.equal(a.complete('r1', { reported: 5 }), false)
    assert.equal(a.complete('r3', { reported: 4, driftPct: -25, level: 'critical', target: 'q,n' }), true)
    const last = a.list().at(-1)
    assert.deepEqual([last?.reported, last?.level, last?.target, last?.estimate.total], [4, 'critical', 'q,n', 3])
  })
})
