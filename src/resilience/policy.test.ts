import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decideNext } from './policy.ts'
import type { DecideContext } from './policy.ts'
import type { ProxyError } from '../errors.ts'
import { defaultRetry, retryPolicyArb } from '../../test/arbitraries/routing.ts'

const ctx: Omit<DecideContext, 'attempt'> = { policy: defaultRetry, deadlineMs: 60_000 }
const status = (s: number, extra: Partial<{ code: string; retryAfterMs: number }> = {}): ProxyError => ({
  kind: 'upstream_status',
  target: 'p,m',
  status: s,
  message: `status ${s}`,
  ...extra,
})
const half = () => 0.5

describe('decideNext', () => {
  it('retries 429, 5xx, 529 and network errors with a backoff', () => {
    for (
      const e of [
        status(429),
        status(500),
        status(503),
        status(529),
        { kind: 'upstream_network', target: 't', message: 'reset' } as const,
      ]
    ) {
      assert.deepEqual(decideNext(e, { ...ctx, attempt: 0 }, half), { action: 'retry', delayMs: 50 }, JSON.stringify(e))
    }
  })

  it('never retries 400/401/403/404/413: stops on the request’s fault, fails over on the provider’s', () => {
    assert.deepEqual(decideNext(status(400), { ...ctx, attempt: 0 }, half), { action: 'stop' })
    assert.deepEqual(decideNext(status(413), { ...ctx, attempt: 0 }, half), { action: 'stop' })
    assert.deepEqual(decideNext(status(400, { code: 'content_policy_violation' }), { ...ctx, attempt: 0 }, half), {
      action: 'stop',
    })
    for (const s of [401, 403, 404]) {
      assert.deepEqual(decideNext(status(s), { ...ctx, attempt: 0 }, half), { action: 'failover' })
    }
    assert.deepEqual(decideNext(status(400, { code: 'context_length_exceeded' }), { ...ctx, attempt: 0 }, half), {
      action: 'failover',
    })
  })

  it('fails over after a silent timeout instead of retrying the same target', () => {
    for (const phase of ['connect', 'first_token', 'idle'] as const) {
      assert.deepEqual(decideNext({ kind: 'timeout', target: 't', phase }, { ...ctx, attempt: 0 }, half), {
        action: 'failover',
      })
    }
    assert.deepEqual(decideNext({ kind: 'timeout', target: 't', phase: 'total' }, { ...ctx, attempt: 0 }, half), {
      action: 'stop',
    })
  })

  it('honours Retry-After, or fails over when the next target would answer sooner', () => {
    const e = status(429, { retryAfterMs: 2_000 })
    assert.deepEqual(decideNext(e, { ...ctx, attempt: 0 }, half), { action: 'retry', delayMs: 2_000 })
    assert.deepEqual(decideNext(e, { ...{ ...ctx, nextTargetExpectedMs: 800 }, attempt: 0 }, half), {
      action: 'failover',
    })
    assert.deepEqual(
      decideNext(
        { kind: 'rate_limited', retryAfterMs: 300 },
        { ...{ ...ctx, nextTargetExpectedMs: 800 }, attempt: 0 },
        half,
      ),
      { action: 'retry', delayMs: 300 },
    )
  })

  it('Retry-After vs fallback: waits when the wait plus its own TTFT beats a different model’s TTFT, else fails over', () => {
    const e = status(429, { retryAfterMs: 2_000 })
    const slowFallback = { ...ctx, nextTargetExpectedMs: 6_000, expectedFirstTokenMs: 1_000 }
    assert.deepEqual(
      decideNext(e, { ...slowFallback, attempt: 0 }, half),
      { action: 'retry', delayMs: 2_000 },
      '2 s + 1 s beats 6 s',
    )
    assert.deepEqual(decideNext(e, { ...slowFallback, attempt: 0, expectedFirstTokenMs: 4_500 }, half), {
      action: 'failover',
    }, '2 s + 4.5 s loses to 6 s')
    assert.deepEqual(
      decideNext(e, { ...slowFallback, attempt: 0, nextSameModel: true }, half),
      { action: 'failover' },
      'the same model elsewhere is taken at once',
    )
  })

  it('fails over once the tier’s retries are spent or the wait would pass the deadline', () => {
    assert.deepEqual(decideNext(status(500), { ...ctx, attempt: 3 }, half), { action: 'failover' })
    assert.deepEqual(
      decideNext(status(429, { retryAfterMs: 10_000 }), { ...{ ...ctx, deadlineMs: 5_000 }, attempt: 0 }, half),
      { action: 'failover' },
    )
    assert.deepEqual(decideNext(status(500), { ...{ ...ctx, deadlineMs: 0 }, attempt: 0 }, half), { action: 'stop' })
  })

  const errArb: fc.Arbitrary<ProxyError> = fc.oneof(
    fc.record({
      kind: fc.constant('upstream_status' as const),
      target: fc.constant('t'),
      status: fc.integer({ min: 400, max: 599 }),
      message: fc.constant('m'),
      retryAfterMs: fc.option(fc.nat(120_000), { nil: undefined }),
      code: fc.option(fc.constantFrom('context_length_exceeded', 'x'), { nil: undefined }),
    }),
    fc.record({
      kind: fc.constant('rate_limited' as const),
      retryAfterMs: fc.option(fc.nat(120_000), { nil: undefined }),
    }),
    fc.record({
      kind: fc.constant('timeout' as const),
      target: fc.constant('t'),
      phase: fc.constantFrom('connect', 'first_token', 'idle', 'total') as fc.Arbitrary<'connect'>,
    }),
    fc.constant({ kind: 'upstream_network', target: 't', message: 'x' } as const),
    fc.constant({ kind: 'overloaded', message: 'x' } as const),
  )
  const ctxArb = fc.record({
    policy: retryPolicyArb,
    deadlineMs: fc.integer({ min: -1_000, max: 120_000 }),
    ewmaMs: fc.option(fc.nat(30_000), { nil: undefined }),
    nextTargetExpectedMs: fc.option(fc.nat(30_000), { nil: undefined }),
  })

  it('property: decideNext never retries a 400', () => {
    fc.assert(
      fc.property(
        fc.nat(10),
        ctxArb,
        fc.option(fc.string(), { nil: undefined }),
        (n, c, code) =>
          decideNext(status(400, code === undefined ? {} : { code }), { ...c, attempt: n }, Math.random).action !==
            'retry',
      ),
    )
  })

  it('property: a retry never exceeds the deadline nor the retry count', () => {
    fc.assert(
      fc.property(
        errArb,
        fc.nat(12),
        ctxArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (e, n, c, r) => {
          const d = decideNext(e, { ...c, attempt: n }, () => r)
          return d.action !== 'retry' ||
            (d.delayMs >= 0 && d.delayMs + (c.ewmaMs ?? 0) < c.deadlineMs && n < c.policy.maxRetries)
        },
      ),
    )
  })
})
