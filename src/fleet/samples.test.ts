import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { combine, withFleet } from './samples.ts'
import type { TargetSnapshot } from '../routing/types.ts'

const local: TargetSnapshot = {
  key: 'p,m',
  samples: 10,
  successes: 9,
  errors: 1,
  latencyMs: 100,
  ttftMs: 50,
  errorRate: 0.1,
  inFlight: 2,
  breaker: { kind: 'closed', consecutiveFailures: 0, trips: 0, since: 0 },
}

describe('fleet samples: merging measurements', () => {
  it('weights means by sample counts and sums outcomes', () => {
    const c = combine([{ samples: 10, successes: 10, errors: 0, latencyMs: 300 }, {
      samples: 30,
      successes: 20,
      errors: 10,
      latencyMs: 100,
      tokensPerSec: 40,
    }])
    assert.deepEqual(c, { samples: 40, successes: 30, errors: 10, latencyMs: 150, tokensPerSec: 40 })
  })

  it('keeps the local breaker and in-flight count, merges the rest', () => {
    const m = withFleet(local, { samples: 30, successes: 20, errors: 10, latencyMs: 200 })
    assert.equal(m.samples, 40)
    assert.equal(m.latencyMs, 175)
    assert.equal(m.ttftMs, 50)
    assert.equal(m.errorRate, 11 / 40)
    assert.equal(m.inFlight, 2)
    assert.equal(m.breaker, local.breaker)
  })

  it('leaves the snapshot alone when the fleet has nothing', () => {
    assert.equal(withFleet(local, undefined), local)
    assert.equal(withFleet(local, { samples: 0, successes: 0, errors: 0 }), local)
  })
})
