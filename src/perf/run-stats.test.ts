import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { percentile, summarize, summarizeRuns, tokensPerSecond } from './run-stats.ts'
import type { RunRecord } from './types.ts'

const sample = fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 })

describe('percentile', () => {
  it('law: the result is always one of the observed values', () => {
    fc.assert(fc.property(sample, fc.integer({ min: 0, max: 100 }), (xs, p) => {
      assert.ok(xs.includes(percentile(xs, p) as number))
    }))
  })
  it('law: percentile is monotone in p', () => {
    fc.assert(fc.property(sample, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (xs, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      assert.ok((percentile(xs, lo) as number) <= (percentile(xs, hi) as number))
    }))
  })
  it('law: at least p% of the sample is <= the p-th percentile', () => {
    fc.assert(fc.property(sample, fc.integer({ min: 1, max: 100 }), (xs, p) => {
      const v = percentile(xs, p) as number
      assert.ok(xs.filter((x) => x <= v).length >= (p / 100) * xs.length)
    }))
  })
  it('uses nearest rank on a small sample and is undefined on an empty one', () => {
    assert.equal(percentile([30, 10, 20], 50), 20)
    assert.equal(percentile([30, 10, 20], 99), 30)
    assert.equal(percentile([], 50), undefined)
  })
})

describe('summarize', () => {
  it('law: min <= p50 <= p95 <= p99 <= max and min <= mean <= max', () => {
    fc.assert(fc.property(sample, (xs) => {
      const d = summarize(xs)
      assert.ok(d)
      assert.ok(d.min <= d.p50 && d.p50 <= d.p95 && d.p95 <= d.p99 && d.p99 <= d.max)
      assert.ok(d.mean >= d.min - 1e-6 && d.mean <= d.max + 1e-6)
      assert.equal(d.count, xs.length)
    }))
  })
  it('law: the summary does not depend on the order of the sample', () => {
    fc.assert(fc.property(sample, (xs) => {
      const a = summarize(xs)
      const b = summarize([...xs].reverse())
      assert.deepEqual({ ...a, mean: 0 }, { ...b, mean: 0 })
    }))
  })
  it('drops non-finite values and returns undefined when nothing is left', () => {
    assert.equal(summarize([Number.NaN, Number.POSITIVE_INFINITY]), undefined)
    assert.equal(summarize([Number.NaN, 4])?.count, 1)
  })
})

describe('tokensPerSecond', () => {
  it('excludes the wait for the first token', () => {
    assert.equal(tokensPerSecond({ totalMs: 1100, ttftMs: 100, outputTokens: 51 }), 50)
    assert.equal(tokensPerSecond({ totalMs: 200, ttftMs: 200, outputTokens: 1 }), 5)
    assert.equal(tokensPerSecond({ totalMs: 500, outputTokens: 50 }), 100)
    assert.equal(tokensPerSecond({ totalMs: 500, outputTokens: 0 }), undefined)
  })
})

describe('summarizeRuns', () => {
  it('computes success rate over all runs and latency over successful runs only', () => {
    const run = (ok: boolean, totalMs: number): RunRecord => ({
      target: 'p,m',
      type: 'latency',
      at: 0,
      ok,
      totalMs,
      outputTokens: 1,
    })
    const s = summarizeRuns([run(true, 10), run(true, 30), run(false, 5000), run(true, 20)])
    assert.equal(s.successRate, 0.75)
    assert.equal(s.latencyMs?.max, 30)
    assert.equal(s.latencyMs?.p50, 20)
    assert.equal(s.ttftMs, undefined)
    assert.equal(summarizeRuns([]).successRate, 0)
  })
})
