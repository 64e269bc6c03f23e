import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseGoDuration, retryAfterFromHeaders } from './retry-after.ts'

const now = Date.parse('2026-11-25T12:00:00Z')
const h = (o: Record<string, string>) => new Headers(o)

describe('retryAfterFromHeaders', () => {
  it('reads retry-after-ms first', () => {
    assert.equal(retryAfterFromHeaders(h({ 'retry-after-ms': '1500.5', 'retry-after': '9' }), now), 1500.5)
  })

  it('reads retry-after in seconds', () => {
    assert.equal(retryAfterFromHeaders(h({ 'retry-after': '3' }), now), 3_000)
    assert.equal(retryAfterFromHeaders(h({ 'retry-after': '0.25' }), now), 250)
  })

  it('reads retry-after as an HTTP date, never negative', () => {
    assert.equal(retryAfterFromHeaders(h({ 'retry-after': 'Wed, 25 Nov 2026 12:00:07 GMT' }), now), 7_000)
    assert.equal(retryAfterFromHeaders(h({ 'retry-after': 'Wed, 25 Nov 2026 11:00:00 GMT' }), now), 0)
  })

  it('reads anthropic-ratelimit-*-reset only for a limit whose remaining is 0, taking the longest', () => {
    const headers = h({
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-11-25T12:00:04Z',
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': '2026-11-25T12:00:09.5Z',
      'anthropic-ratelimit-input-tokens-remaining': '5000',
      'anthropic-ratelimit-input-tokens-reset': '2026-11-25T12:05:00Z',
    })
    assert.equal(retryAfterFromHeaders(headers, now), 9_500)
    assert.equal(
      retryAfterFromHeaders(
        h({
          'anthropic-ratelimit-requests-remaining': '3',
          'anthropic-ratelimit-requests-reset': '2026-11-25T12:00:04Z',
        }),
        now,
      ),
      undefined,
    )
  })

  it('reads x-ratelimit-reset-* Go durations when the matching remaining is 0', () => {
    assert.equal(
      retryAfterFromHeaders(h({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6m0s' }), now),
      360_000,
    )
    assert.equal(
      retryAfterFromHeaders(h({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '20ms' }), now),
      20,
    )
    assert.equal(
      retryAfterFromHeaders(h({ 'x-ratelimit-remaining-tokens': '10', 'x-ratelimit-reset-tokens': '1s' }), now),
      undefined,
    )
  })

  it('returns undefined when nothing asks for a wait or a value is garbage', () => {
    assert.equal(retryAfterFromHeaders(h({}), now), undefined)
    assert.equal(retryAfterFromHeaders(h({ 'retry-after': 'soon' }), now), undefined)
  })
})

describe('parseGoDuration', () => {
  it('parses compound and fractional durations', () => {
    assert.equal(parseGoDuration('1s'), 1_000)
    assert.equal(parseGoDuration('1h2m3.5s'), 3_723_500)
    assert.equal(parseGoDuration('0'), 0)
    assert.equal(parseGoDuration('1.5ms'), 1.5)
    assert.equal(parseGoDuration('10x'), undefined)
    assert.equal(parseGoDuration(''), undefined)
  })

  it('property: m and s components add up', () => {
    fc.assert(fc.property(fc.nat(500), fc.nat(59), (m, s) => parseGoDuration(`${m}m${s}s`) === m * 60_000 + s * 1_000))
  })
})
