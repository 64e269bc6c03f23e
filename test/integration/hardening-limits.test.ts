/**
 * Limits and abuse through the app: body size, max concurrent streams, management auth,
 * rate limit and audit, and secrets that must never leave (config, logs, metrics).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { hardenedProxy } from '../fixtures/hardened-proxy.ts'

type AnthropicError = { type: string; error: { type: string; message: string } }
type OpenAIError = { error: { type: string; message: string } }

describe('body size limit', () => {
  const file = () => testConfigFile({ MAX_BODY_BYTES: 2_000 })
  const big = (body: Record<string, unknown>) => ({ ...body, messages: [{ role: 'user', content: 'x'.repeat(3_000) }] })

  it('an over-limit body is a 413 in the Anthropic shape on /v1/messages and the preset route', async () => {
    const p = await hardenedProxy(file())
    for (const path of ['/v1/messages', '/preset/any/v1/messages']) {
      const res = await p.post(path, big(anthropicBody('anth,mock-a')))
      assert.equal(res.status, 413)
      const body = (await res.json()) as AnthropicError
      assert.equal(body.type, 'error')
      assert.equal(body.error.type, 'request_too_large')
      assert.match(body.error.message, /2000 byte limit/)
    }
    assert.equal(p.mock.attempts().length, 0)
    assert.equal((await p.post('/v1/messages', anthropicBody('anth,mock-a'))).status, 200)
    await p.close()
  })

  it('an over-limit body is a 413 in the OpenAI shape on /v1/chat/completions, also without content-length', async () => {
    const p = await hardenedProxy(file())
    const res = await p.post('/v1/chat/completions', big(openaiBody('oai,mock-o')))
    assert.equal(res.status, 413)
    assert.equal(((await res.json()) as OpenAIError).error.type, 'request_too_large')
    const bytes = new TextEncoder().encode(JSON.stringify(big(openaiBody('oai,mock-o'))))
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 1500))
        c.enqueue(bytes.slice(1500))
        c.close()
      },
    })
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunked, duplex: 'half' }
    const streamed = await p.app.request('/v1/chat/completions', init as RequestInit)
    assert.equal(streamed.status, 413)
    assert.ok(((await streamed.json()) as OpenAIError).error.message.length > 0)
    assert.equal((await p.post('/v1/chat/completions', openaiBody('oai,mock-o'))).status, 200)
    await p.close()
  })
})

describe('max concurrent streams', () => {
  it('beyond the limit a POST gets a clean 529 (OpenAI: 503) in the client format, counted in /metrics; freed slots serve again', async () => {
    const p = await hardenedProxy(testConfigFile(), { maxStreams: 1 })
    const open = await p.post('/v1/messages', anthropicBody('anth,mock-a:chunks=50:delay=20', { stream: true }))
    assert.equal(open.status, 200)
    const reader = open.body!.getReader()
    await reader.read()
    const a = await p.post('/v1/messages', anthropicBody('anth,mock-a'))
    assert.equal(a.status, 529)
    assert.equal(((await a.json()) as AnthropicError).error.type, 'overloaded_error')
    // OpenAI has no 529: its clients get the 503 their SDKs retry.
    const o = await p.post('/v1/chat/completions', openaiBody('oai,mock-o', { stream: true }))
    assert.equal(o.status, 503)
    assert.match(((await o.json()) as OpenAIError).error.message, /maximum of 1 concurrent streams/)
    const metrics = await (await p.get('/metrics')).text()
    assert.match(metrics, /ccr_rejected_streams_total 2\b/)
    await reader.cancel()
    let after = 0
    for (let i = 0; i < 50 && after !== 200; i++) {
      await new Promise((r) => setTimeout(r, 10))
      after = (await p.post('/v1/messages', anthropicBody('anth,mock-a'))).status
    }
    assert.equal(after, 200)
    await p.close()
  })
})

describe('management routes', () => {
  const KEY = 'sk-inbound-secret-9'
  const secured = () => testConfigFile({ APIKEY: KEY })

  it('need the APIKEY when one is set: /api/config, /performance/metrics, /v1/token-audit', async () => {
    const p = await hardenedProxy(secured())
    for (const path of ['/api/config', '/performance/metrics', '/v1/token-audit']) {
      const none = await p.get(path)
      assert.equal(none.status, 401, path)
      assert.equal(((await none.json()) as AnthropicError).error.type, 'authentication_error')
      assert.equal((await p.get(path, { 'x-api-key': 'wrong' })).status, 401, path)
      assert.equal((await p.get(path, { authorization: `Bearer ${KEY}` })).status, 200, path)
    }
    await p.close()
  })

  it('are rate-limited per client (60 a minute) with a 429 in the Anthropic shape and retry-after; the bucket refills', async () => {
    let t = 1_000_000
    const p = await hardenedProxy(testConfigFile(), { now: () => t })
    for (let i = 0; i < 60; i++) assert.equal((await p.get('/api/config')).status, 200, `request ${i}`)
    const limited = await p.get('/api/config')
    assert.equal(limited.status, 429)
    const body = (await limited.json()) as AnthropicError
    assert.equal(body.type, 'error')
    assert.equal(body.error.type, 'rate_limit_error')
    assert.equal(limited.headers.get('retry-after'), '1')
    // Another client (another key fingerprint) has its own bucket; inference routes are not limited.
    assert.equal((await p.get('/performance/metrics', { 'x-api-key': 'someone-else' })).status, 200)
    assert.equal((await p.get('/v1/models')).status, 200)
    t += 1_000
    assert.equal((await p.get('/api/config')).status, 200, 'one token back after a second')
    assert.equal((await p.get('/api/config')).status, 429)
    await p.close()
  })

  it("Claude Code's keyless warm-up HEAD /api/hello is a public 200, not audited and not rate limited", async () => {
    const p = await hardenedProxy(secured(), { now: () => 1_000_000 })
    // More than the 60 management calls a minute an anonymous client gets.
    for (let i = 0; i < 70; i++) {
      const res = await p.app.request('/api/hello', { method: 'HEAD' })
      assert.equal(res.status, 200)
      assert.equal(await res.text(), '')
    }
    assert.equal((await p.get('/api/hello')).status, 200)
    assert.deepEqual(p.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'audit'), [])
    assert.equal((await p.get('/api/config')).status, 401, 'the rest of /api still needs the key')
    assert.equal((await p.get('/api/hello/x')).status, 401)
    await p.close()
  })

  it('every change is audited (reads are not): who (key fingerprint), what, when, status; never the key', async () => {
    const p = await hardenedProxy(secured())
    await p.get('/api/config', { 'x-api-key': KEY })
    await p.get('/v1/token-audit', { 'x-api-key': KEY })
    await p.post('/api/config/reload', {}, { 'x-api-key': KEY })
    await p.post('/api/config/reload', {}, { 'x-api-key': KEY })
    const audit = p.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'audit')
    // The dashboard polls the reads every few seconds: only the changes (here two reloads) leave an audit line.
    assert.deepEqual(audit.map((a) => a.action), ['POST /api/config/reload', 'POST /api/config/reload'])
    assert.deepEqual(audit.map((a) => a.status), [400, 400])
    for (const a of audit) {
      assert.match(String(a.actor), /^key:[0-9a-f]{12}$/)
      assert.ok(!Number.isNaN(Date.parse(String(a.at))))
    }
    assert.equal(new Set(audit.map((a) => a.actor)).size, 1)
    assert.ok(!p.logs.join('\n').includes(KEY))
    await p.close()
  })
})

describe('secrets never leave', () => {
  const SECRETS = ['sk-inbound-secret-9', 'sk-ant-secret-1', 'sk-oai-secret-2', 'hdr-secret-3']
  const file = () => {
    const f = testConfigFile({ APIKEY: SECRETS[0] })
    const providers = f.Providers as Record<string, unknown>[]
    providers[1] = { ...providers[1], headers: { 'x-org-token': SECRETS[3] } }
    return f
  }

  it('not in GET /api/config, not in the logs, not in /metrics, after successes, failures and bad keys', async () => {
    const raw = file()
    const p = await hardenedProxy(raw, { rawConfig: raw })
    const auth = { 'x-api-key': SECRETS[0]! }
    await p.post('/v1/messages', anthropicBody('anth,mock-a'), auth)
    await p.post('/v1/chat/completions', openaiBody('oai,mock-o', { stream: true }), auth).then((r) => r.text())
    await p.post('/v1/messages', anthropicBody('oai,mock-o:status=500'), auth)
    await p.post('/v1/messages', anthropicBody('anth,mock-a:status=429'), auth)
    await p.post('/v1/messages', anthropicBody('anth,mock-a'), { 'x-api-key': 'not-the-key' })
    const config = await (await p.get('/api/config', auth)).text()
    assert.match(config, /mock\.test/, 'the config itself is there')
    const metrics = await (await p.get('/metrics', auth)).text()
    assert.match(metrics, /ccr_/)
    const logs = p.logs.join('\n')
    assert.ok(logs.length > 0)
    for (const s of SECRETS) {
      assert.ok(!config.includes(s), `${s} in /api/config`)
      assert.ok(!logs.includes(s), `${s} in the logs`)
      assert.ok(!metrics.includes(s), `${s} in /metrics`)
    }
    await p.close()
  })
})
