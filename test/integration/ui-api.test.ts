/**
 * What the dashboard reads and writes, without a browser: saving the config through
 * `PUT /api/config` (text or object) and CCR's `POST /api/config`, the live endpoints, the
 * offline `/docs` page and the public page shell.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { parseConfig } from '../../src/config/load.ts'
import { configFileAccess } from '../../src/config/write.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import { createLogger } from '../../src/log.ts'
import { uiPageBytes, uiPageGzipBytes } from '../../src/ui/route.ts'

const KEY = 'api-test-key'
// deno-lint-ignore no-explicit-any -- JSON answers of several routes, read field by field in the assertions
type Body = Record<string, any>
const ENV = { T_KEY: KEY, T_UP: 'sk-from-env' }
const FILE = `{
  // kept: a comment
  "APIKEY": "$T_KEY",
  "LOG": false,
  "Providers": [
    { "name": "mock", "api_base_url": "http://mock.test/v1/messages", "api_key": "\${T_UP}", "models": ["m1", "m2"], "transformer": { "use": ["Anthropic"] } },
    { "name": "lit", "api_base_url": "http://mock.test/v1/chat/completions", "api_key": "sk-literal-123", "models": ["o1"], "rpm": 100 }
  ],
  "Router": { "default": "mock,m1" },
  "StatusLine": { "enabled": true }, // a CCR key Switchyard does not use
}
`

describe('config save, live endpoints, /docs and /ui', () => {
  let dir: string
  let path: string
  let inst: AppInstance
  let reloads = 0
  const audit: string[] = []
  const logs: string[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-uiapi-'))
    path = join(dir, 'config.json')
    writeFileSync(path, FILE)
    const parsed = parseConfig(FILE, ENV, { knownTransformer })
    if (!parsed.ok) throw new Error(parsed.error.join('; '))
    const mock = createMockUpstream()
    const validate = (text: string) => {
      const r = parseConfig(text, ENV, { knownTransformer })
      return r.ok ? [] : r.error
    }
    inst = await createInstance(parsed.value.config, {
      dataDir: ':memory:',
      fetch: async (r) => mock.fetch(r),
      rawConfig: parsed.value.raw,
      log: createLogger({
        level: 'debug',
        write: (l) => {
          logs.push(l)
          if (l.includes('"audit"')) audit.push(l)
        },
      }),
      reload: async () => {
        reloads++
        return 'config reloaded'
      },
      configPath: path,
      configFile: configFileAccess(path, validate, Date.now),
    })
  })
  after(async () => {
    await inst.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const call = async (method: string, p: string, body?: unknown) => {
    const res = await inst.app.request(p, {
      method,
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, body: await res.json() as Body }
  }

  it('GET /api/config shows the text with literal secrets redacted and $VAR references as written', async () => {
    const r = await call('GET', '/api/config')
    assert.equal(r.status, 200)
    assert.equal(r.body.path, path)
    assert.match(r.body.text, /"api_key": "\$\{T_UP\}"/)
    assert.match(r.body.text, /"api_key": "\*\*\*"/)
    assert.match(r.body.text, /\/\/ kept: a comment/)
    assert.deepEqual(r.body.errors, [])
    assert.doesNotMatch(JSON.stringify(r.body), /sk-literal-123|sk-from-env|api-test-key/)
  })

  it('a PUT whose body is not JSON, or not declared JSON, is refused naming what is wrong, and nothing is written', async () => {
    const send = async (type: string, body: string) => {
      const res = await inst.app.request('/api/config', {
        method: 'PUT',
        headers: { 'x-api-key': KEY, 'content-type': type },
        body,
      })
      return [res.status, ((await res.json()) as { error: { message: string } }).error.message] as const
    }
    const form = await send('application/x-www-form-urlencoded', JSON.stringify({ text: FILE }))
    assert.deepEqual(form, [400, 'content-type: expected application/json, received application/x-www-form-urlencoded'])
    assert.deepEqual(await send('application/json', '{"text": '), [400, 'Malformed JSON in request body'])
    assert.equal(readFileSync(path, 'utf8'), FILE)
    assert.equal(reloads, 0)
  })

  it('PUT text: validated, written atomically with a backup, reloaded; a stale etag is refused', async () => {
    const got = await call('GET', '/api/config')
    const edited = (got.body.text as string).replace('"default": "mock,m1"', '"default": "mock,m2"')
    const dry = await call('PUT', '/api/config', { text: edited, dry_run: true })
    assert.equal(dry.status, 200)
    assert.equal(readFileSync(path, 'utf8'), FILE, 'a dry run writes nothing')
    const r = await call('PUT', '/api/config', { text: edited, etag: got.body.etag })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(readFileSync(path, 'utf8'), FILE.replace('"default": "mock,m1"', '"default": "mock,m2"'))
    assert.equal(readFileSync(r.body.backup, 'utf8'), FILE)
    assert.equal(reloads, 1)
    const stale = await call('PUT', '/api/config', { text: edited, etag: got.body.etag })
    assert.equal(stale.status, 409)
    assert.ok(audit.some((l) => l.includes('PUT /api/config')), 'the save is in the audit log')
    assert.ok(
      !audit.some((l) => l.includes('GET /api/config')),
      'reading the config (as the page polls) is not audited',
    )
    assert.ok(!logs.some((l) => l.includes('sk-literal-123')), 'no secret in any log line')
  })

  it('a bad edit is refused with the field and line named, and the file stays', async () => {
    const before = readFileSync(path, 'utf8')
    const got = await call('GET', '/api/config')
    const bad = await call('PUT', '/api/config', {
      text: (got.body.text as string).replace('"rpm": 100', '"rpm": "lots"'),
    })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.errors[0].path, 'Providers[1].rpm')
    assert.equal(bad.body.errors[0].line, 7)
    const syntax = await call('PUT', '/api/config', { text: '{ "Router": ' })
    assert.equal(syntax.status, 400)
    assert.match(syntax.body.errors[0].message, /JSON5/)
    assert.equal(readFileSync(path, 'utf8'), before)
  })

  it("CCR's POST shape: the whole object, *** kept as the secret, unknown keys and comments intact", async () => {
    const got = await call('GET', '/api/config')
    const config = got.body.config as { Router: Record<string, string> }
    config.Router.background = 'mock,m2'
    const r = await call('POST', '/api/config', config)
    assert.equal(r.status, 200, JSON.stringify(r.body))
    const text = readFileSync(path, 'utf8')
    assert.match(text, /"api_key": "sk-literal-123"/)
    assert.match(text, /"\$T_KEY"/)
    assert.match(text, /\/\/ a CCR key Switchyard does not use/)
    assert.match(text, /"background": "mock,m2"/)
    assert.ok(readdirSync(dir).filter((f) => f.endsWith('.bak')).length >= 2)
  })

  it('a file broken by hand is replaced whole by a valid save (nothing to keep), and a *** there is refused', async () => {
    const good = readFileSync(path, 'utf8')
    writeFileSync(path, '{ "Router": ')
    const shown = await call('GET', '/api/config')
    assert.equal(shown.body.text, null)
    assert.match(shown.body.errors[0].message, /JSON5/)
    const secret = await call('PUT', '/api/config', { text: good.replace('"sk-literal-123"', '"***"') })
    assert.equal(secret.status, 400)
    assert.match(secret.body.errors[0].message, /^Providers\[1\]\.api_key: holds a redacted value/)
    const r = await call('PUT', '/api/config', { text: good })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(readFileSync(path, 'utf8'), good)
  })

  it('live endpoints: recent requests without prompt text, the timeline, daily usage and rate budgets', async () => {
    for (let i = 0; i < 3; i++) {
      await inst.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock,m1',
          max_tokens: 20,
          messages: [{ role: 'user', content: 'a secret prompt' }],
        }),
      })
    }
    const rq = await call('GET', '/v1/requests?limit=2')
    assert.equal(rq.body.requests.length, 2)
    assert.equal(rq.body.requests[0].target, 'mock,m1')
    assert.doesNotMatch(JSON.stringify(rq.body), /secret prompt|api-test-key/)
    const tl = await call('GET', '/v1/timeline?window=15m')
    assert.equal(tl.body.t.length, 90)
    assert.ok(tl.body.requests_per_s.at(-1) > 0)
    const daily = await call('GET', '/v1/usage/daily')
    assert.equal(daily.body.days[0].requests, 3)
    const budgets = await call('GET', '/v1/rate-budgets')
    assert.deepEqual(budgets.body.providers.lit.rpm, { limit: 100, left: 100 })
  })

  it('usage per day, spend today and the timelines survive a restart (persisted in the data dir)', async () => {
    const data = join(dir, 'data')
    // Priced, so "spend today" has something to show: $1 per token.
    const priced = FILE.replace(
      '"models": ["m1", "m2"],',
      '"models": ["m1", "m2"], "pricing": { "*": { "input_per_million": 1000000, "output_per_million": 1000000 } },',
    )
    const parsed = parseConfig(priced, ENV, { knownTransformer })
    if (!parsed.ok) throw new Error(parsed.error.join('; '))
    const mock = createMockUpstream()
    const start = () =>
      createInstance(parsed.value.config, {
        dataDir: data,
        fetch: async (r) => mock.fetch(r),
        log: createLogger({ enabled: false }),
      })
    const first = await start()
    await first.app.request('/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock,m2', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    })
    await first.close()
    const second = await start()
    try {
      const days = (await (await second.app.request('/v1/usage/daily', { headers: { 'x-api-key': KEY } })).json()) as {
        days: { target: string; requests: number }[]
      }
      assert.deepEqual(days.days.map((d) => [d.target, d.requests]), [['mock,m2', 1]])
      // The Overview's "spend today" comes from the same stored rows, not from the (new, empty) timeline.
      const usage = (await (await second.app.request('/v1/usage', { headers: { 'x-api-key': KEY } })).json()) as Body
      const cost = (days.days[0] as Body).costUsd as number
      assert.ok(cost > 0, 'the request was priced')
      assert.deepEqual(usage.today, { day: new Date().toISOString().slice(0, 10), requests: 1, cost_usd: cost })
      // The 15 min and 24 h timelines come back from the store too (the request is in them, with its cost).
      for (const window of ['15m', '24h']) {
        const tl = (await (await second.app.request(`/v1/timeline?window=${window}`, { headers: { 'x-api-key': KEY } }))
          .json()) as Body
        assert.equal((tl.cost_usd as number[]).reduce((a, b) => a + b, 0), cost, window)
        assert.equal((tl.requests_per_s as number[]).filter((r) => r > 0).length, 1, window)
      }
    } finally {
      await second.close()
    }
  })

  it('/docs loads the bundled Scalar from the instance with nothing fetched elsewhere; /ui is public and light', async () => {
    const docs = await (await inst.app.request('/docs')).text()
    assert.match(docs, /<script src="\/docs\/scalar\.js"><\/script>/)
    assert.doesNotMatch(docs, /cdn\.jsdelivr|https?:\/\/(?!127\.0\.0\.1)[a-z]/i)
    assert.match(docs, /"withDefaultFonts": false/)
    const bundle = await inst.app.request('/docs/scalar.js')
    assert.equal(bundle.status, 200)
    assert.ok((await bundle.text()).length > 1_000_000)
    const page = await inst.app.request('/ui/')
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /connect-src 'self'/)
    assert.match(await page.text(), /<script src="\/ui\/app\.js" defer>/)
    assert.equal((await inst.app.request('/v1/requests')).status, 401, 'data stays behind APIKEY')
    const bytes = await uiPageBytes()
    assert.ok(bytes < 150_000, `${bytes} bytes`)
    const gz = await inst.app.request('/ui/uplot.js', { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(gz.headers.get('content-encoding'), 'gzip')
    const gzBytes = await uiPageGzipBytes()
    assert.ok(gzBytes < 50_000, `${gzBytes} bytes gzipped`)
    const again = await inst.app.request('/ui/app.js', { headers: { 'if-none-match': page.headers.get('etag') ?? '' } })
    assert.equal(again.status, 200, 'another asset has another etag')
  })
})
