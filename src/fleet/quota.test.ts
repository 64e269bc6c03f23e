import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as q from './quota.ts'

/** One instance's pool as the limiter drives it, with the totals the properties compare. */
interface Inst {
  pool: q.Pool
  granted: number
  admitted: number
  returned: number
}

const op = fc.record({
  inst: fc.nat(3),
  kind: fc.constantFrom('admit', 'admit', 'admit', 'refill', 'tidy', 'idle'),
  batch: fc.integer({ min: 0, max: 40 }),
})

describe('quota leasing: batch sizing', () => {
  it('a batch is 0 (exact path) or between 2 and the fair share, so the fleet pools hold at most limit ÷ 8', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        (limit, n, demand) => {
          const b = q.batchSize(limit, n, demand)
          const fair = q.fairShare(limit, n)
          if (fair < 2) assert.equal(b, 0)
          else assert.ok(b >= 2 && b <= fair && b >= Math.min(fair, Math.ceil(demand)))
          assert.ok(n * b <= limit / q.SHARE_DIVISOR)
        },
      ),
    )
  })

  it('small limits stay exact: rpm 30 or maxConcurrent 2 across 3 instances; rpm 10,000,000 leases', () => {
    assert.equal(q.batchSize(30, 3, 1_000), 0)
    assert.equal(q.batchSize(2, 1, 1_000), 0)
    assert.equal(q.batchSize(12, 3, 5), 0)
    assert.equal(q.batchSize(10_000_000, 3, 70), 70)
    assert.equal(q.batchSize(10_000_000, 3, 0.1), 2)
  })

  it('demand follows the recent rate and decays when the requests stop', () => {
    const d = new q.Demand()
    // 1,000 requests a second for two seconds: the moving sum has reached 1 − e⁻² of its level.
    for (let t = 0; t < 2_000; t++) d.add(1, 10_000 + t)
    const now = 12_000
    const expected = (1_000 * (1 - Math.exp(-2)) * q.HORIZON_MS) / q.DEMAND_TAU_MS
    assert.ok(Math.abs(d.over(now) - expected) < expected * 0.02, `${d.over(now)} vs ${expected}`)
    assert.ok(d.over(now + 5_000) < expected * 0.01)
    // Reading it changes nothing: the same answer twice.
    assert.equal(d.over(now), d.over(now))
    // A burst of 8 in flight asks for at least 16 per batch, however low the rate.
    assert.equal(q.burstDemand(3, 8), 16)
    assert.equal(q.burstDemand(3, 8, 500), 8_000)
    assert.equal(q.burstDemand(40, 8), 40)
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.nat(100), (t, dt, level) => {
        const p = new q.Demand()
        p.peak(level, t)
        assert.equal(p.level(t), level)
        assert.ok(p.level(t + dt) <= level)
        p.peak(0, t + dt)
        assert.ok(p.level(t + dt) <= level)
        // A higher level at the same time lifts the peak to it at once.
        p.peak(level + 1, t + dt)
        assert.equal(p.level(t + dt), level + 1)
      }),
    )
  })
})

describe('quota leasing: pool accounting', () => {
  it('instances sharing one bucket never admit more than it held; each admits only what Redis granted it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        let bucket = capacity
        const inst: Inst[] = Array.from(
          { length: 4 },
          () => ({ pool: q.EMPTY_POOL, granted: 0, admitted: 0, returned: 0 }),
        )
        /** The LEASE script on a bucket that does not refill: all of `min` or nothing, at most `want`. */
        const lease = (min: number, want: number) => {
          if (bucket < min || want <= 0) return 0
          const g = Math.min(want, bucket)
          bucket -= g
          return g
        }
        for (const o of ops) {
          const x = inst[o.inst]!
          if (o.kind === 'admit') {
            const before = x.pool
            const rest = q.poolTake(x.pool, 1)
            if (rest !== undefined) {
              assert.ok(before >= 1, 'admitted from the pool without a token')
              x.pool = rest
              x.admitted++
            } else {
              // The request's own round trip: at least its token, up to a batch more.
              const g = lease(1, 1 + o.batch)
              if (g > 0) {
                x.granted += g
                x.pool = q.poolSpend(x.pool, g, 1)
                x.admitted++
              }
            }
          } else if (o.kind === 'refill') {
            const want = q.refillWant(x.pool, o.batch)
            if (want > 0) assert.ok(x.pool < q.lowWater(o.batch))
            const g = lease(1, want)
            x.granted += g
            x.pool = q.poolAdd(x.pool, g)
          } else {
            const back = q.poolSurplus(x.pool, o.batch, o.kind === 'idle')
            x.pool = q.poolGive(x.pool, back)
            x.returned += back
            bucket = Math.min(capacity, bucket + back)
          }
          assert.ok(x.pool >= 0)
          assert.equal(x.admitted + x.pool + x.returned, x.granted)
        }
        const admitted = inst.reduce((s, x) => s + x.admitted, 0)
        const pooled = inst.reduce((s, x) => s + x.pool, 0)
        assert.ok(admitted + pooled + bucket <= capacity)
        // Idle instances give everything back.
        for (const x of inst) {
          assert.equal(q.poolGive(x.pool, q.poolSurplus(x.pool, 5, true)), 0)
        }
      }),
    )
  })

  it('TPM: a reservation is taken only when the pool has it; usage above it is a debt the next refill pays', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ need: fc.nat(500), actual: fc.nat(1_000), refill: fc.nat(2_000) }), { maxLength: 100 }),
        (steps) => {
          let p = q.EMPTY_POOL
          let granted = 0
          let used = 0
          for (const s of steps) {
            const rest = q.poolTake(p, s.need)
            assert.equal(rest !== undefined, p >= s.need)
            if (rest !== undefined) {
              p = q.poolSettle(rest, s.need, s.actual)
              used += s.actual
            }
            const want = q.refillWant(p, 200)
            // A refill tops the pool up to a batch, debt included.
            if (want > 0) assert.equal(p + want, 200)
            const g = Math.min(want, s.refill)
            p = q.poolAdd(p, g)
            granted += g
          }
          // What was used beyond the grants is exactly the debt left.
          assert.equal(granted - used, p)
          assert.equal(q.poolSurplus(p, 200, true), Math.max(0, p))
        },
      ),
    )
  })

  it('a surplus over twice the batch goes back down to one batch; below that the pool stays', () => {
    assert.equal(q.poolSurplus(100, 30, false), 70)
    assert.equal(q.poolSurplus(60, 30, false), 0)
    assert.equal(q.poolSurplus(60, 0, false), 60, 'exact path now: all of it')
    assert.equal(q.poolSurplus(-40, 30, true), 0, 'a debt is never given')
    assert.equal(q.refillWant(20, 30), 0)
    assert.equal(q.refillWant(14, 30), 16)
    assert.equal(q.refillWant(-40, 30), 70)
  })
})
