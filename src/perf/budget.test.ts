import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { dayOf, emptyBudget, remaining, reserve, settle } from './budget.ts'
import type { BudgetState } from './budget.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 10, 12)

describe('budget', () => {
  it('law: used + reserved never exceeds the limit through any sequence of reserve/settle', () => {
    const op = fc.record({
      tokens: fc.integer({ min: 0, max: 500 }),
      actualRatio: fc.double({ min: 0, max: 1, noNaN: true }),
      settleNow: fc.boolean(),
    })
    fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.array(op, { maxLength: 50 }), (limit, ops) => {
      let s: BudgetState = emptyBudget(T0)
      const held: number[] = []
      for (const o of ops) {
        const r = reserve(s, o.tokens, limit, T0)
        s = r.state
        if (r.ok) held.push(o.tokens)
        if (o.settleNow && held.length > 0) {
          const t = held.pop()!
          s = settle(s, t, Math.floor(t * o.actualRatio), T0)
        }
        assert.ok(s.used + s.reserved <= limit, `${s.used}+${s.reserved} <= ${limit}`)
        assert.ok(remaining(s, limit, T0) >= 0)
      }
    }))
  })
  it('refuses a reservation that does not fit and keeps the state', () => {
    const a = reserve(emptyBudget(T0), 80, 100, T0)
    assert.equal(a.ok, true)
    const b = reserve(a.state, 30, 100, T0)
    assert.equal(b.ok, false)
    assert.equal(b.state.reserved, 80)
    assert.equal(remaining(b.state, 100, T0), 20)
  })
  it('settling frees the unused part of a reservation', () => {
    const a = reserve(emptyBudget(T0), 80, 100, T0).state
    const s = settle(a, 80, 25, T0)
    assert.equal(s.reserved, 0)
    assert.equal(s.used, 25)
    assert.equal(remaining(s, 100, T0), 75)
  })
  it('resets spending on the next UTC day', () => {
    const s = settle(reserve(emptyBudget(T0), 90, 100, T0).state, 90, 90, T0)
    assert.equal(remaining(s, 100, T0), 10)
    assert.equal(remaining(s, 100, T0 + DAY), 100)
    assert.equal(dayOf(T0 + DAY), '2026-01-11')
  })
  it('a limit of zero allows nothing', () => {
    assert.equal(reserve(emptyBudget(T0), 1, 0, T0).ok, false)
  })
})
