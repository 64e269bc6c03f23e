import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ADAPTIVE_FACTOR,
  attemptShareMs,
  type FirstEventPolicy,
  firstEventTimeoutMs,
  PREFILL_FLOOR_TOKENS_PER_SEC,
  slowFirstEventMs,
} from './attempt-budget.ts'

const policy: FirstEventPolicy = {
  firstTokenTimeoutMs: 60_000,
  firstTokenFloorMs: 5_000,
  adaptiveFirstToken: true,
  minSamples: 3,
}
// A fixed seed: the run is the same in CI and locally; fast-check prints it with any failure.
const seed = 1212

describe('firstEventTimeoutMs', () => {
  it('is the configured firstTokenTimeoutMs until the target has minSamples, and when adaptive is off', () => {
    assert.equal(firstEventTimeoutMs(undefined, 0, policy), 60_000)
    assert.equal(firstEventTimeoutMs({ samples: 2, ttftMs: 100, ttftDevMs: 10 }, 0, policy), 60_000)
    assert.equal(
      firstEventTimeoutMs({ samples: 50, ttftMs: 100, ttftDevMs: 10 }, 0, { ...policy, adaptiveFirstToken: false }),
      60_000,
    )
  })

  it('a fast target is held to the floor; a slower one gets twice its mean + 4 deviations', () => {
    assert.equal(firstEventTimeoutMs({ samples: 9, ttftMs: 400, ttftDevMs: 100 }, 0, policy), 5_000)
    assert.equal(
      firstEventTimeoutMs({ samples: 9, ttftMs: 4_000, ttftDevMs: 500 }, 0, policy),
      ADAPTIVE_FACTOR * (4_000 + 4 * 500),
    )
    assert.equal(
      firstEventTimeoutMs({ samples: 9, ttftMs: 40_000, ttftDevMs: 5_000 }, 0, policy),
      60_000,
      'never above the ceiling',
    )
  })

  it('a long prompt gets a prefill allowance: 150k tokens add 30 s', () => {
    const h = { samples: 9, ttftMs: 4_000, ttftDevMs: 500 }
    assert.equal(
      firstEventTimeoutMs(h, 150_000, policy) - firstEventTimeoutMs(h, 0, policy),
      (150_000 / PREFILL_FLOOR_TOKENS_PER_SEC) * 1_000,
    )
  })

  it('law: within [min(floor, ceiling), ceiling], and non-decreasing in ttft, deviation and input size', () => {
    const ms = fc.integer({ min: 0, max: 120_000 })
    fc.assert(
      fc.property(
        ms,
        ms,
        ms,
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        (ttft, dev, extra, tokens, ceiling, floor) => {
          const p = { ...policy, firstTokenTimeoutMs: ceiling, firstTokenFloorMs: floor }
          const t = firstEventTimeoutMs({ samples: 10, ttftMs: ttft, ttftDevMs: dev }, tokens, p)
          assert.ok(t >= Math.min(floor, ceiling) && t <= ceiling)
          assert.ok(firstEventTimeoutMs({ samples: 10, ttftMs: ttft + extra, ttftDevMs: dev }, tokens, p) >= t)
          assert.ok(firstEventTimeoutMs({ samples: 10, ttftMs: ttft, ttftDevMs: dev + extra }, tokens, p) >= t)
          assert.ok(firstEventTimeoutMs({ samples: 10, ttftMs: ttft, ttftDevMs: dev }, tokens + extra, p) >= t)
        },
      ),
      { seed, numRuns: 300 },
    )
  })
})

describe('slowFirstEventMs and attemptShareMs', () => {
  it('the hedge point is mean + 2 deviations once measured', () => {
    assert.equal(slowFirstEventMs({ samples: 9, ttftMs: 400, ttftDevMs: 100 }, 3), 600)
    assert.equal(slowFirstEventMs({ samples: 1, ttftMs: 400, ttftDevMs: 100 }, 3), undefined)
  })

  it('a try with a candidate after it gets half the time left; the last one all of it', () => {
    assert.equal(attemptShareMs(600_000, true), 300_000)
    assert.equal(attemptShareMs(600_000, false), 600_000)
    assert.equal(attemptShareMs(1, true), 1)
  })
})
