/**
 * Named API keys through the app: authentication, per-key budget and rpm (429 in the client's
 * format with the reset), allowed models (403), rules by key name, per-key usage.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, configOf, openaiBody, testConfigFile, testProxy } from './helpers.ts'

const KEYS = [
  { name: 'ci-agents', key: 'sk-ci-0123456789', budgetUsdPerDay: 0.000001, allowedModels: ['oai,*'] },
  { name: 'humans', key: 'sk-humans-abcdef', rpm: 2 },
]
function file(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const f = testConfigFile({ APIKEY: 'sk-admin', Keys: KEYS, ...extra }, {
    rules: [{ name: 'ci', when: { apiKey: 'ci-*' }, route: 'oai,mock-o' }],
  })
  ;(f.Providers as Record<string, unknown>[])[1]!.pricing = { input_per_million: 1, output_per_million: 2 }
  return f
}
const auth = (key: string) => ({ 'x-api-key': key })

describe('named API keys', () => {
  it('APIKEY and every named key authenticate; others get a 401; a rule can test the key name', async () => {
    const p = await testProxy(file())
    assert.equal((await p.post('/v1/messages', anthropicBody('claude-sonnet'), auth('sk-nope'))).status, 401)
    const admin = await p.post('/v1/messages', anthropicBody('claude-sonnet'), auth('sk-admin'))
    assert.equal(admin.status, 200)
    assert.doesNotMatch(admin.headers.get('x-switchyard-route') ?? '', /rule=/)
    const ci = await p.post('/v1/messages', anthropicBody('claude-sonnet'), {
      authorization: 'Bearer sk-ci-0123456789',
    })
    assert.equal(ci.status, 200)
    assert.match(ci.headers.get('x-switchyard-route') ?? '', /^rule oai,mock-o; .*rule=ci/)
    await Promise.all([admin.text(), ci.text()])
    await p.close()
  })

  it("over budget: a 429 in the client's format saying when it resets; usage per key in /v1/usage", async () => {
    const p = await testProxy(file())
    await (await p.post('/v1/messages', anthropicBody('claude-sonnet'), auth('sk-ci-0123456789'))).text()
    const a = await p.post('/v1/messages', anthropicBody('claude-sonnet'), auth('sk-ci-0123456789'))
    assert.equal(a.status, 429)
    assert.ok(Number(a.headers.get('retry-after')) > 0)
    assert.equal(a.headers.get('x-should-retry'), 'false')
    const ab = (await a.json()) as { type: string; error: { type: string; message: string } }
    assert.equal(ab.error.type, 'rate_limit_error')
    assert.match(
      ab.error.message,
      /"ci-agents" has spent .* daily budget: it resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z/,
    )
    const o = await p.post('/v1/chat/completions', openaiBody('x'), auth('sk-ci-0123456789'))
    assert.equal(o.status, 429)
    assert.match(((await o.json()) as { error: { message: string } }).error.message, /resets at/)
    const u = (await (await p.app.request('/v1/usage', { headers: auth('sk-admin') })).json()) as {
      keys: Record<string, { requests: number; costUsd: number }>
    }
    assert.equal(u.keys['ci-agents']?.requests, 1)
    assert.ok((u.keys['ci-agents']?.costUsd ?? 0) > 0)
    assert.equal(u.keys.humans?.requests, 0)
    await p.close()
  })

  it('rpm per key, and the key never appears in the log', async () => {
    const p = await testProxy({ ...file(), LOG: true, LOG_LEVEL: 'debug' })
    const codes: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await p.post('/v1/messages', anthropicBody('claude-sonnet'), auth('sk-humans-abcdef'))
      codes.push(r.status)
      await r.text()
    }
    assert.deepEqual(codes, [200, 200, 429])
    const logs = p.logs.join('\n')
    assert.ok(!logs.includes('sk-humans-abcdef') && !logs.includes('sk-ci-0123456789'))
    assert.match(logs, /"key_name":"humans"/)
    await p.close()
  })

  it('the limits hold on every client format: Responses and Gemini requests count against the rpm too; counting tokens does not', async () => {
    const p = await testProxy(file())
    const gemini = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }
    const status = async (path: string, body: unknown) => {
      const r = await p.post(path, body, auth('sk-humans-abcdef'))
      await r.text()
      return r.status
    }
    assert.equal(await status('/v1beta/models/claude-sonnet:countTokens', gemini), 200)
    const codes = [
      await status('/v1/responses', { model: 'claude-sonnet', input: 'hi' }),
      await status('/v1beta/models/claude-sonnet:generateContent', gemini),
      await status('/v1/responses', { model: 'claude-sonnet', input: 'hi' }),
    ]
    assert.deepEqual(codes, [200, 200, 429])
    await p.close()
  })

  it('allowedModels: other targets are dropped from the plan; naming one outright is a 403', async () => {
    const p = await testProxy(
      file({ Keys: [{ name: 'ci-agents', key: 'sk-ci-0123456789', allowedModels: ['gpt-*'] }] }),
    )
    const ok = await p.post('/v1/messages', anthropicBody('claude-sonnet'), auth('sk-ci-0123456789'))
    assert.match(
      ok.headers.get('x-switchyard-route') ?? '',
      /^rule oai,gpt-up; /,
      "mock-o is not allowed: the rule's plan goes on to gpt-up",
    )
    await ok.text()
    const no = await p.post('/v1/messages', anthropicBody('anth,claude-up'), auth('sk-ci-0123456789'))
    assert.equal(no.status, 403)
    assert.match(
      ((await no.json()) as { error: { message: string } }).error.message,
      /"ci-agents" may not use anth,claude-up \(allowed: gpt-\*\)/,
    )
    const e =
      (await (await p.app.request('/v1/routing/explain?key=ci-agents', { headers: auth('sk-admin') })).json()) as {
        plan: string[]
        skipped: { target: string; capability: string }[]
      }
    assert.deepEqual(e.plan, ['oai,gpt-up'])
    assert.ok(e.skipped.every((k) => k.capability === 'key'))
    await p.close()
  })

  it("the day's spend survives a restart (stored per key and UTC day, never the key)", async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { createInstance } = await import('../../src/compose.ts')
    const { createMockUpstream } = await import('../../src/demo/upstream.ts')
    const { silentLogger } = await import('../../src/log.ts')
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-keys-'))
    const mock = createMockUpstream()
    const start = () =>
      createInstance(configOf(file()), { dataDir: dir, fetch: async (req) => mock.fetch(req), log: silentLogger })
    const ask = async (app: Awaited<ReturnType<typeof start>>) => {
      const r = await app.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth('sk-ci-0123456789') },
        body: JSON.stringify(anthropicBody('claude-sonnet')),
      })
      await r.text()
      return r.status
    }
    const first = await start()
    assert.equal(await ask(first), 200)
    await first.close()
    const second = await start()
    assert.equal(await ask(second), 429, 'the stored spend is over the budget after the restart')
    const u = (await (await second.app.request('/v1/usage', { headers: auth('sk-admin') })).json()) as {
      keys: Record<string, { requests: number }>
    }
    assert.equal(u.keys['ci-agents']?.requests, 1)
    await second.close()
    const { readdirSync } = await import('node:fs')
    for (const f of readdirSync(dir)) {
      assert.ok(!readFileSync(join(dir, f)).includes('sk-ci-0123456789'), `${f} holds no key`)
    }
  })
})
