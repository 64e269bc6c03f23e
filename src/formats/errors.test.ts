import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseUpstreamError, redact, renderError, renderStreamError, streamErrorOf } from './errors.ts'
import { retryAfterFromHeaders } from './retry-after.ts'
import type { ProxyError } from '../errors.ts'

const none = new Headers()

describe('renderError', () => {
  it('Anthropic envelope with request id; OpenAI envelope with param and code', () => {
    const bad: ProxyError = { kind: 'invalid_request', message: 'messages: Required', param: 'messages' }
    assert.deepEqual(renderError('anthropic', bad, 'req_1'), {
      status: 400,
      body: {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'messages: Required' },
        request_id: 'req_1',
      },
    })
    assert.deepEqual(renderError('openai', bad), {
      status: 400,
      body: { error: { message: 'messages: Required', type: 'invalid_request_error', param: 'messages', code: null } },
    })
  })
  it('maps 529 to 503 for OpenAI clients only', () => {
    const e: ProxyError = { kind: 'overloaded', message: 'Overloaded' }
    assert.equal(renderError('anthropic', e).status, 529)
    const o = renderError('openai', e)
    assert.equal(o.status, 503)
    assert.equal((o.body.error as Record<string, unknown>).type, 'overloaded_error')
  })
  it('turns a quota 429 into 402 billing_error for Anthropic clients so they stop retrying', () => {
    const e: ProxyError = {
      kind: 'upstream_status',
      target: 't',
      status: 429,
      message: 'out of credit',
      code: 'insufficient_quota',
    }
    const a = renderError('anthropic', e)
    assert.equal(a.status, 402)
    assert.deepEqual(a.body.error, { type: 'billing_error', message: '[insufficient_quota] out of credit' })
    assert.equal(renderError('openai', e).status, 429)
  })
  it('stream errors: event: error vs error chunk + [DONE]', () => {
    const e: ProxyError = { kind: 'stream_broken', target: 't', afterEvents: 3, message: 'reset' }
    const [a] = renderStreamError('anthropic', e)
    assert.equal(a!.event, 'error')
    assert.equal(JSON.parse(a!.data).error.type, 'api_error')
    const o = renderStreamError('openai', e)
    assert.equal(o.length, 2)
    assert.equal(o[1]!.data, '[DONE]')
    assert.equal(JSON.parse(o[0]!.data).error.message, 'Upstream t stream broke after 3 events: reset')
  })
})

describe('parseUpstreamError', () => {
  it('keeps OpenAI codes and messages', () => {
    const e = parseUpstreamError({
      format: 'openai',
      status: 400,
      body:
        '{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
      target: 'p/m',
      headers: none,
    })
    assert.deepEqual(e, {
      kind: 'upstream_status',
      target: 'p/m',
      status: 400,
      message: 'too long',
      code: 'context_length_exceeded',
    })
  })
  it('reads Anthropic envelopes, {message}, {detail}, and HTML', () => {
    assert.equal(
      (parseUpstreamError({
        format: 'anthropic',
        status: 529,
        body: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        target: 't',
        headers: none,
      }) as { message: string }).message,
      'Overloaded',
    )
    assert.equal(
      (parseUpstreamError({
        format: 'openai',
        status: 500,
        body: '{"message":"boom"}',
        target: 't',
        headers: none,
      }) as { message: string }).message,
      'boom',
    )
    assert.equal(
      (parseUpstreamError({
        format: 'openai',
        status: 422,
        body: '{"detail":[{"loc":["body"],"msg":"bad"}]}',
        target: 't',
        headers: none,
      }) as { message: string }).message,
      '[{"loc":["body"],"msg":"bad"}]',
    )
    assert.equal(
      (parseUpstreamError({
        format: 'openai',
        status: 502,
        body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
        target: 't',
        headers: none,
      }) as { message: string }).message,
      '502 Bad Gateway',
    )
    assert.equal(
      (parseUpstreamError({ format: 'openai', status: 503, body: '', target: 't', headers: none }) as {
        message: string
      }).message,
      'Upstream t answered HTTP 503',
    )
  })
  it('429 becomes rate_limited with retry-after seconds, ms, or an HTTP date; quota stays upstream_status', () => {
    assert.deepEqual(
      parseUpstreamError({
        format: 'openai',
        status: 429,
        body: 'slow down',
        target: 't',
        headers: new Headers({ 'retry-after': '2' }),
      }),
      { kind: 'rate_limited', target: 't', message: 'slow down', retryAfterMs: 2000 },
    )
    assert.equal(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' })), 150)
    assert.equal(
      retryAfterFromHeaders(
        new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:30 GMT', date: 'Wed, 21 Oct 2015 07:28:00 GMT' }),
      ),
      30000,
    )
    assert.equal(
      retryAfterFromHeaders(
        new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:30 GMT' }),
        Date.parse('Wed, 21 Oct 2015 07:28:20 GMT'),
      ),
      10000,
    )
    assert.equal(retryAfterFromHeaders(new Headers({ 'retry-after': 'soon' })), undefined)
    const quota = parseUpstreamError({
      format: 'openai',
      status: 429,
      body: '{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}',
      target: 't',
      headers: none,
    })
    assert.equal(quota.kind, 'upstream_status')
  })
  it('never echoes URLs or keys', () => {
    const e = parseUpstreamError({
      format: 'openai',
      status: 401,
      body:
        '{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnop. See https://platform.openai.com/account"}}',
      target: 't',
      headers: none,
    }) as { message: string }
    assert.equal(e.message.includes('sk-proj'), false)
    assert.equal(e.message.includes('https://'), false)
    assert.equal(redact('Authorization: Bearer abc.def'), 'Authorization: Bearer [redacted]')
  })
})

describe('upstream errors rendered to clients (§7.7)', () => {
  const cases: [number, string, number, number][] = [
    // upstream status, Anthropic type, Anthropic-client status, OpenAI-client status
    [401, 'authentication_error', 401, 401],
    [404, 'not_found_error', 404, 404],
    [429, 'rate_limit_error', 429, 429],
    [500, 'api_error', 500, 500],
    [529, 'overloaded_error', 529, 503],
  ]
  for (const [up, type, aStatus, oStatus] of cases) {
    it(`HTTP ${up} → ${type}, ${aStatus} / ${oStatus}, before and after the stream started`, () => {
      const e = parseUpstreamError({
        format: 'openai',
        status: up,
        body: '{"error":{"message":"nope"}}',
        target: 't',
        headers: new Headers({ 'retry-after': '1' }),
      })
      const a = renderError('anthropic', e)
      assert.equal(a.status, aStatus)
      assert.equal((a.body.error as Record<string, unknown>).type, type)
      assert.equal(renderError('openai', e).status, oStatus)
      const [ev] = renderStreamError('anthropic', e)
      assert.equal(JSON.parse(ev!.data).error.type, type)
      assert.equal(JSON.parse(renderStreamError('openai', e)[0]!.data).error.message, 'nope')
    })
  }
})

describe('streamErrorOf', () => {
  it('maps in-stream error types to statuses', () => {
    assert.equal(
      (streamErrorOf({ type: 'error', error: { type: 'overloaded_error', message: 'x' } }, 't') as { status: number })
        .status,
      529,
    )
    assert.equal(
      (streamErrorOf({ error: { message: 'x', code: 'rate_limit_exceeded' } }, 't') as { status: number }).status,
      429,
    )
    assert.equal((streamErrorOf({ error: 'plain' }, 't') as { message: string }).message, 'plain')
  })
})

describe('parseUpstreamError: rate-limit reset headers count as a Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  const body = '{"error":{"type":"rate_limit_error","message":"slow down"}}'
  const waitOf = (h: Headers, at?: number) => {
    const e = parseUpstreamError({ format: 'openai', status: 429, body, target: 't', headers: h, now: at })
    return e.kind === 'rate_limited' ? e.retryAfterMs : -1
  }

  it('Anthropic: the reset time of an exhausted limit, measured from now', () => {
    const h = new Headers({
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:03Z',
    })
    assert.equal(waitOf(h, now), 3_000)
  })

  it('OpenAI: the Go duration of an exhausted limit, no clock needed', () => {
    const h = new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6s' })
    assert.equal(waitOf(h), 6_000)
  })

  it('a limit with requests remaining is no wait, and an explicit Retry-After wins over reset headers', () => {
    assert.equal(
      waitOf(new Headers({ 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '6s' })),
      undefined,
    )
    assert.equal(
      waitOf(
        new Headers({
          'retry-after-ms': '100',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '6s',
        }),
      ),
      100,
    )
  })
})
