/**
 * CCR parity through the app: CUSTOM_ROUTER_PATH, custom transformer classes, preset files
 * and config Presets, image and webSearch routing.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { fixture, hardenedProxy, routeOf } from '../fixtures/hardened-proxy.ts'
import { runtime } from '../../src/runtime/index.ts'

/**
 * The endless-loop marker. Deno 2.x does not stop a worker spinning in synchronous code when it
 * is terminated (docs/security.md), so there the same path is taken by a 3 s busy loop, which
 * ends by itself instead of burning a core for the rest of the suite.
 */
const STUCK = runtime.name === 'deno' ? 'BUSY-3S' : 'SPIN-FOREVER'

const say = (text: string, extra: Record<string, unknown> = {}) =>
  anthropicBody('claude-sonnet-4', { messages: [{ role: 'user', content: text }], ...extra })
const withRouter = (path: string) => testConfigFile({ CUSTOM_ROUTER_PATH: path, APIKEY: 'sk-inbound-secret-9' })
const auth = { 'x-api-key': 'sk-inbound-secret-9' }
/**
 * For the tests that are not about the deadline: a worker round trip on a busy 2-core CI machine
 * can take longer than the product's 50 ms, and then the built-in rules would answer instead of
 * the router under test. The deadline tests (SLOW, stuck, BUSY-3S) keep the real 50 ms.
 */
const roomy = { routerTimeoutMs: 2_000 }

describe('custom router (CUSTOM_ROUTER_PATH)', () => {
  it('is called first: its pick beats the built-in default and is reported as scenario custom', async () => {
    const p = await hardenedProxy(withRouter(fixture('custom-router.cjs')), roomy)
    const res = await p.post('/v1/messages', say('please ROUTE-ANTH'), auth)
    assert.equal(res.status, 200, await res.clone().text())
    assert.equal(routeOf(res), 'custom anth,mock-a')
    // The router's edits to req.body reach the upstream.
    const sent = JSON.stringify(p.upstreamBodies.at(-1))
    assert.ok(sent.includes('added by the router'))
    await p.close()
  })

  it('null falls through to the built-in rules (default, and think for a thinking request)', async () => {
    const p = await hardenedProxy(withRouter(fixture('custom-router.cjs')), roomy)
    assert.equal(routeOf(await p.post('/v1/messages', say('hello'), auth)), 'default oai,gpt-up')
    const think = await p.post(
      '/v1/messages',
      say('hello', { thinking: { type: 'enabled', budget_tokens: 2048 } }),
      auth,
    )
    assert.equal(routeOf(think), 'think anth,claude-up')
    await p.close()
  })

  for (
    const [marker, warning] of [['THROW', /threw \(router exploded\)/], ['SLOW', /no answer within 50 ms/], [
      'UNKNOWN',
      /"nowhere,model-x" names no configured provider/,
    ], ['NUMBER', /returned a number/]] as const
  ) {
    it(`a router that ${marker === 'SLOW' ? 'overruns 50 ms' : marker === 'THROW' ? 'throws' : `returns ${marker.toLowerCase()}`} → warning logged, built-in rules serve the request`, async () => {
      // Only SLOW is about the deadline: the others must get the router's own answer, however busy the machine.
      const p = await hardenedProxy(withRouter(fixture('custom-router.cjs')), marker === 'SLOW' ? {} : roomy)
      const res = await p.post('/v1/messages', say(`do ${marker}`), auth)
      assert.equal(res.status, 200)
      assert.equal(routeOf(res), 'default oai,gpt-up')
      const warn = p.logs.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) =>
        l.level === 'warn' && l.msg.startsWith('custom router')
      )
      assert.equal(warn.length, 1, p.logs.join('\n'))
      assert.match(warn[0]!.msg, warning)
      await p.close()
    })
  }

  it('a router stuck in `for (;;) {}` cannot freeze the server: it is stopped, restarted, and routes again', async () => {
    const p = await hardenedProxy(withRouter(fixture('custom-router.cjs')))
    const t0 = performance.now()
    const res = await p.post('/v1/messages', say(STUCK), auth)
    assert.equal(res.status, 200)
    assert.equal(routeOf(res), 'default oai,gpt-up')
    assert.equal((await p.app.request('/health')).status, 200)
    assert.ok(performance.now() - t0 < 5_000)
    // The worker is replaced: once the fresh one is up, the router decides again.
    let route = ''
    for (let i = 0; i < 100 && route !== 'custom anth,mock-a'; i++) {
      await new Promise((r) => setTimeout(r, 50))
      route = routeOf(await p.post('/v1/messages', say('please ROUTE-ANTH'), auth)) ?? ''
    }
    assert.equal(route, 'custom anth,mock-a')
    assert.ok(p.logs.some((l) => l.includes('its worker was stopped and is restarting')), p.logs.join('\n'))
    await p.close()
  })

  it('a router busy for 3 s is abandoned at its deadline and its late answer is never used', async () => {
    const p = await hardenedProxy(withRouter(fixture('custom-router.cjs')))
    const t0 = performance.now()
    const res = await p.post('/v1/messages', say('BUSY-3S'), auth)
    assert.equal(routeOf(res), 'default oai,gpt-up')
    assert.ok(performance.now() - t0 < 2_500, 'answered before the router finished')
    assert.equal((await p.app.request('/health')).status, 200)
    await p.close()
  })

  it('sees tokenCount and sessionId, headers without credentials, and the config redacted', async () => {
    const raw = withRouter(fixture('custom-router.cjs'))
    const p = await hardenedProxy(raw, { rawConfig: raw, ...roomy })
    const body = say('hello', { metadata: { user_id: 'user_abc_account__session_s-123' } })
    await p.post('/v1/messages', body, { ...auth, authorization: 'Bearer sk-inbound-secret-9', 'x-team': 'core' })
    const line = p.logs.map((l) => JSON.parse(l) as { msg: string }).find((l) =>
      l.msg.startsWith('custom router: seen ')
    )
    assert.ok(line, p.logs.join('\n'))
    const seen = JSON.parse(line.msg.slice('custom router: seen '.length)) as {
      headers: Record<string, string>
      config: unknown
      tokenCount: number
      sessionId?: string
    }
    assert.equal(seen.headers['x-team'], 'core')
    assert.equal(seen.headers['x-api-key'], undefined)
    assert.equal(seen.headers.authorization, undefined)
    assert.equal(seen.sessionId, 's-123')
    assert.ok(seen.tokenCount > 0)
    const cfg = JSON.stringify(seen.config)
    for (const secret of ['sk-inbound-secret-9', 'sk-ant-secret-1', 'sk-oai-secret-2']) {
      assert.ok(!cfg.includes(secret), `${secret} leaked to the router`)
    }
    assert.ok(cfg.includes('mock.test'), 'the non-secret config is there')
    await p.close()
  })

  it('an ES module default export works, also on /v1/chat/completions', async () => {
    const p = await hardenedProxy(testConfigFile({ CUSTOM_ROUTER_PATH: fixture('router-esm.mjs') }), roomy)
    const res = await p.post('/v1/chat/completions', openaiBody('gpt-up'), { 'x-team': 'vision' })
    assert.equal(res.status, 200)
    assert.equal(routeOf(res), 'custom oai,mock-o')
    await p.close()
  })

  it('a module that exports no function is an error at start, and requests still route', async () => {
    const p = await hardenedProxy(testConfigFile({ CUSTOM_ROUTER_PATH: fixture('not-a-router.mjs') }))
    assert.ok(p.logs.some((l) => l.includes('"level":"error"') && l.includes('exports no function')))
    assert.equal(routeOf(await p.post('/v1/messages', say('hello'))), 'default oai,gpt-up')
    await p.close()
  })
})

describe('custom transformers (transformers: [{path, options}])', () => {
  const file = (use: unknown[], plugins: { path: string; options?: Record<string, unknown> }[]) => ({
    ...testConfigFile(),
    transformers: plugins,
    Providers: [
      {
        name: 'anth',
        api_base_url: 'http://mock.test/v1/messages',
        api_key: 'sk-ant-secret-1',
        models: ['mock-a'],
        transformer: { use: ['Anthropic'] },
      },
      {
        name: 'oai',
        api_base_url: 'http://mock.test/v1/chat/completions',
        api_key: 'sk-oai-secret-2',
        models: ['gpt-up', 'mock-o'],
        transformer: { use },
      },
    ],
    Router: { default: 'oai,gpt-up' },
  })

  it('a plugin class is constructed with its options and its request hook rewrites the upstream body', async () => {
    const p = await hardenedProxy(
      file(['stamp'], [{ path: fixture('transformer-stamp.cjs'), options: { tag: 'team-a' } }]),
    )
    const res = await p.post('/v1/messages', say('hi'))
    assert.equal(res.status, 200)
    assert.equal(p.upstreamBodies.at(-1)?.x_stamp, 'team-a')
    assert.equal(p.upstreamBodies.at(-1)?.x_stamp_model, 'gpt-up')
    await p.close()
  })

  it('a plugin named like a built-in overrides it, and the built-in is back after close', async () => {
    const p = await hardenedProxy(
      file([['maxtoken', { max_tokens: 100 }]], [{ path: fixture('transformer-maxtoken.mjs'), options: { value: 7 } }]),
    )
    await p.post('/v1/messages', say('hi', { max_tokens: 4000 }))
    assert.equal(p.upstreamBodies.at(-1)?.max_tokens, 7)
    assert.equal(p.upstreamBodies.at(-1)?.x_override, true)
    await p.close()
    const q = await hardenedProxy(file([['maxtoken', { max_tokens: 100 }]], []))
    await q.post('/v1/messages', say('hi', { max_tokens: 4000 }))
    assert.equal(q.upstreamBodies.at(-1)?.max_tokens, 100, 'the built-in maxtoken caps again')
    await q.close()
  })

  it('an async hook (CCR transformers are async) is awaited; a nameless class is a load error; requests still succeed', async () => {
    const p = await hardenedProxy(
      file(['asyncstamp'], [{ path: fixture('transformer-async.cjs') }, { path: fixture('transformer-nameless.cjs') }]),
    )
    for (let i = 0; i < 2; i++) assert.equal((await p.post('/v1/messages', say('hi'))).status, 200)
    assert.notEqual(p.upstreamBodies.at(-1)?.x_async, undefined, 'the awaited hook changed the upstream body')
    assert.ok(p.logs.some((l) => l.includes('"level":"error"') && l.includes('has no `name`')))
    await p.close()
  })
})

describe('custom transformers cannot freeze the server', () => {
  const file = () => ({
    ...testConfigFile(),
    transformers: [{ path: fixture('transformer-spin.cjs') }],
    Providers: [
      {
        name: 'anth',
        api_base_url: 'http://mock.test/v1/messages',
        api_key: 'sk-ant-secret-1',
        models: ['mock-a'],
        transformer: { use: ['Anthropic'] },
      },
      {
        name: 'oai',
        api_base_url: 'http://mock.test/v1/chat/completions',
        api_key: 'sk-oai-secret-2',
        models: ['gpt-up'],
        transformer: { use: ['spin'] },
      },
    ],
    Router: { default: 'oai,gpt-up' },
  })

  it('a hook stuck in `for (;;) {}` leaves the body unchanged at its deadline; the worker is restarted and transforms again', async () => {
    const p = await hardenedProxy(file())
    const t0 = performance.now()
    const res = await p.post('/v1/messages', say(STUCK))
    assert.equal(res.status, 200)
    assert.ok(performance.now() - t0 < 5_000)
    assert.equal(p.upstreamBodies.at(-1)?.x_spin_ok, undefined, 'the stuck hook changed nothing')
    assert.equal((await p.app.request('/health')).status, 200)
    let stamped: unknown
    for (let i = 0; i < 100 && stamped === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50))
      await p.post('/v1/messages', say('hello'))
      stamped = p.upstreamBodies.at(-1)?.x_spin_ok
    }
    assert.equal(stamped, true)
    assert.ok(p.logs.some((l) => l.includes('transformer spin: still busy')), p.logs.join('\n'))
    await p.close()
  })
})

describe('presets', () => {
  const presetDir = fixture('presets')
  const file = () =>
    testConfigFile({
      Presets: { shadowed: { route: 'oai,mock-o' }, inline: { Router: { default: 'anth,claude-up' } } },
    })

  it('a <name>.json file (ccr-rust shape) serves /preset/{name}/v1/messages and /v1/chat/completions', async () => {
    const p = await hardenedProxy(file(), { presetDir })
    const a = await p.post('/preset/fast/v1/messages', say('hello'))
    assert.equal(a.status, 200)
    assert.equal(routeOf(a), 'default anth,mock-a')
    const o = await p.post('/preset/fast/v1/chat/completions', openaiBody('anything'))
    assert.equal(o.status, 200)
    assert.equal(routeOf(o), 'default anth,mock-a')
    await p.close()
  })

  it('a <name>/config.json Router routes images and webSearch by its own keys', async () => {
    const p = await hardenedProxy(file(), { presetDir })
    const image = {
      role: 'user',
      content: [{ type: 'text', text: 'what is this' }, {
        type: 'image',
        source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
      }],
    }
    assert.equal(
      routeOf(await p.post('/preset/vision/v1/messages', anthropicBody('claude-sonnet-4', { messages: [image] }))),
      'image anth,claude-up',
    )
    const search = say('news', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] })
    assert.equal(routeOf(await p.post('/preset/vision/v1/messages', search)), 'webSearch anth,mock-a')
    assert.equal(routeOf(await p.post('/preset/vision/v1/messages', say('plain'))), 'default oai,mock-o')
    await p.close()
  })

  it('config Presets win over a file of the same name; a bad file is skipped with a warning; an unknown preset is a 404', async () => {
    const p = await hardenedProxy(file(), { presetDir })
    assert.equal(routeOf(await p.post('/preset/shadowed/v1/messages', say('x'))), 'default oai,mock-o')
    assert.equal(routeOf(await p.post('/preset/inline/v1/messages', say('x'))), 'default anth,claude-up')
    assert.ok(p.logs.some((l) => l.includes('preset \\"broken\\"') && l.includes('"level":"warn"')), p.logs.join('\n'))
    const missing = await p.post('/preset/broken/v1/messages', say('x'))
    assert.equal(missing.status, 404)
    const body = (await missing.json()) as { type: string; error: { message: string } }
    assert.equal(body.type, 'error')
    assert.match(body.error.message, /Preset "broken" is not configured/)
    await p.close()
  })
})

describe('image and webSearch routing through the main Router', () => {
  const file = () => testConfigFile({}, { image: 'anth,claude-up', webSearch: 'oai,mock-o' })
  const png = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }

  it('an image in the last user message (directly or in a tool_result) routes to Router.image', async () => {
    const p = await hardenedProxy(file())
    const direct = anthropicBody('claude-sonnet-4', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, png] }],
    })
    assert.equal(routeOf(await p.post('/v1/messages', direct)), 'image anth,claude-up')
    const inTool = anthropicBody('claude-sonnet-4', {
      messages: [
        { role: 'user', content: 'take a screenshot' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shot', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [png] }] },
      ],
    })
    assert.equal(routeOf(await p.post('/v1/messages', inTool)), 'image anth,claude-up')
    await p.close()
  })

  it('an image only in an earlier message does not; a web_search tool routes to Router.webSearch', async () => {
    const p = await hardenedProxy(file())
    const earlier = anthropicBody('claude-sonnet-4', {
      messages: [{ role: 'user', content: [png] }, { role: 'assistant', content: 'a cat' }, {
        role: 'user',
        content: 'thanks',
      }],
    })
    assert.equal(routeOf(await p.post('/v1/messages', earlier)), 'default oai,gpt-up')
    const search = say('latest news', { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] })
    const res = await p.post('/v1/messages', search)
    assert.equal(res.status, 200)
    assert.equal(routeOf(res), 'webSearch oai,mock-o')
    await p.close()
  })
})
