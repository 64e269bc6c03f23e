import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { NEUTRAL, normalisersOf, score, weightsFor } from './score.ts'
import type { ScoreContext } from './score.ts'
import type { TargetSnapshot } from './types.ts'
import { nonNeg, snapshotArb } from '../../test/arbitraries/routing.ts'

const weights = { latency: 0.4, throughput: 0.4, reliability: 0.2, cost: 0 }
const ctx = (over: Partial<ScoreContext> = {}): ScoreContext => ({
  weights,
  optimization: 'balanced',
  thresholds: {},
  best: { latencyMs: 100, tokensPerSec: 50, pricePerMTok: 1 },
  ...over,
})
const snap = (over: Partial<TargetSnapshot> = {}): TargetSnapshot => ({
  key: 'a,x',
  samples: 10,
  successes: 0,
  errors: 0,
  inFlight: 0,
  breaker: { kind: 'closed', consecutiveFailures: 0, trips: 0, since: 0 },
  ...over,
})
const costCtx = ctx({ weights: { latency: 0.25, throughput: 0.25, reliability: 0.25, cost: 0.25 } })

describe('score', () => {
  it('normalises each component against the best', () => {
    const r = score(snap({ latencyMs: 200, tokensPerSec: 25, successes: 8, errors: 0 }), ctx({ pricePerMTok: 4 }))
    assert.equal(r.components.latency, 0.5)
    assert.equal(r.components.throughput, 0.5)
    assert.equal(r.components.reliability, 0.9)
    assert.equal(r.components.cost, 0.25)
    assert.ok(Math.abs(r.score - (0.4 * 0.5 + 0.4 * 0.5 + 0.2 * 0.9)) < 1e-12)
  })

  it('is neutral on every component when there is no data', () => {
    const r = score(snap({ samples: 0 }), ctx({ best: {} }))
    assert.deepEqual(r.components, { latency: NEUTRAL, throughput: NEUTRAL, reliability: NEUTRAL, cost: NEUTRAL })
    assert.equal(r.score, NEUTRAL)
    assert.equal(r.demoted, false)
  })

  it('demotes on each threshold with a reason', () => {
    const t = { maxLatencyMs: 1_000, minTokensPerSec: 10, minSuccessRate: 0.9 }
    assert.match(score(snap({ latencyMs: 1_500 }), ctx({ thresholds: t })).reason ?? '', /maxLatencyMs/)
    assert.match(score(snap({ tokensPerSec: 5 }), ctx({ thresholds: t })).reason ?? '', /minTokensPerSec/)
    assert.match(score(snap({ successes: 1, errors: 1 }), ctx({ thresholds: t })).reason ?? '', /minSuccessRate/)
    assert.equal(
      score(snap({ latencyMs: 500, tokensPerSec: 20, successes: 10 }), ctx({ thresholds: t })).demoted,
      false,
    )
  })

  it('uses a preset unless optimisation is balanced', () => {
    assert.equal(weightsFor('balanced', weights), weights)
    assert.ok(weightsFor('cost', weights).cost > weightsFor('cost', weights).latency)
    const cheapSlow = score(snap({ latencyMs: 1_000 }), ctx({ optimization: 'cost', pricePerMTok: 1 }))
    const dearFast = score(snap({ latencyMs: 100 }), ctx({ optimization: 'cost', pricePerMTok: 10 }))
    assert.ok(cheapSlow.score > dearFast.score)
  })

  it('property: scores are monotone non-increasing in latency', () => {
    fc.assert(fc.property(snapshotArb, nonNeg(60_000), nonNeg(60_000), (s, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      return score({ ...s, latencyMs: lo }, costCtx).score >= score({ ...s, latencyMs: hi }, costCtx).score
    }))
  })

  it('property: scores are monotone non-decreasing in tokens per second', () => {
    fc.assert(fc.property(snapshotArb, nonNeg(5_000), nonNeg(5_000), (s, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      return score({ ...s, tokensPerSec: hi }, costCtx).score >= score({ ...s, tokensPerSec: lo }, costCtx).score
    }))
  })

  it('property: scores are monotone in successes (up) and errors (down)', () => {
    fc.assert(
      fc.property(
        snapshotArb,
        fc.integer({ min: 1, max: 50 }),
        (s, n) =>
          score({ ...s, successes: s.successes + n }, costCtx).score >= score(s, costCtx).score &&
          score({ ...s, errors: s.errors + n }, costCtx).score <= score(s, costCtx).score,
      ),
    )
  })

  it('property: scores are monotone non-increasing in price', () => {
    fc.assert(fc.property(snapshotArb, nonNeg(100), nonNeg(100), (s, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      return score(s, { ...costCtx, pricePerMTok: lo }).score >= score(s, { ...costCtx, pricePerMTok: hi }).score
    }))
  })

  it('property: the score and every component stay in [0, 1]', () => {
    fc.assert(fc.property(snapshotArb, fc.option(nonNeg(100), { nil: undefined }), (s, price) => {
      const r = score(s, price === undefined ? costCtx : { ...costCtx, pricePerMTok: price })
      return [r.score, ...Object.values(r.components)].every((x) => x >= 0 && x <= 1)
    }))
  })
})

describe('normalisersOf', () => {
  it('takes the lowest latency and price and the highest throughput, skipping missing data', () => {
    const n = normalisersOf([
      snap({ latencyMs: 300, tokensPerSec: 10 }),
      snap({ latencyMs: 120 }),
      snap({ tokensPerSec: 90 }),
    ], [5, undefined, 2])
    assert.deepEqual(n, { latencyMs: 120, tokensPerSec: 90, pricePerMTok: 2 })
    assert.deepEqual(normalisersOf([snap()]), {})
  })
})
