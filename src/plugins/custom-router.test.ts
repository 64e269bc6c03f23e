import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { configOf, testConfigFile } from '../../test/integration/helpers.ts'
import { createLogger } from '../log.ts'
import { fenceRouter, routerHeaders } from './custom-router.ts'

const config = configOf(testConfigFile())
const collect = () => {
  const lines: { level: string; msg: string }[] = []
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as { level: string; msg: string }) }) }
}
const input = (body: Record<string, unknown> = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }) =>
  ({ body, tokenCount: 3, headers: new Headers({ 'x-api-key': 'k', authorization: 'Bearer k', 'x-goog-api-key': 'g', 'x-team': 't' }), format: 'anthropic' as const })

describe('fenceRouter', () => {
  it('canonicalises the target casing and hands back the body the router changed', async () => {
    const { log } = collect()
    const r = fenceRouter((req) => { req.body.extra = 1; return 'ANTH,Mock-A' }, { rawConfig: {}, providers: config.providers, log })
    const pick = await r.route(input())
    assert.equal(pick?.target, 'anth,mock-a')
    assert.equal(pick?.body.extra, 1)
  })

  it('law: the caller body is never changed, whatever the router does to its copy', async () => {
    const { log } = collect()
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (v) => {
      const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], v }
      const before = JSON.stringify(body)
      const r = fenceRouter((req) => { req.body.v = 'changed'; (req.body.messages as unknown[]).length = 0; return null }, { rawConfig: {}, providers: config.providers, log })
      assert.equal(await r.route(input(body)), undefined)
      assert.equal(JSON.stringify(body), before)
    }), { numRuns: 30 })
  })

  it('the config it sees is redacted and frozen, so a router can neither read nor change secrets', async () => {
    const { log, lines } = collect()
    let seen: unknown
    const r = fenceRouter((_req, cfg) => { seen = cfg; (cfg as { APIKEY: string }).APIKEY = 'x'; return null }, { rawConfig: { APIKEY: 'sk-real', Providers: [{ api_key: '$KEY' }] }, providers: config.providers, log })
    assert.equal(await r.route(input()), undefined)
    assert.ok(lines.some((l) => l.level === 'warn' && /threw/.test(l.msg)), 'assigning to a frozen object throws in a module')
    assert.deepEqual(seen, { APIKEY: '***', Providers: [{ api_key: '$KEY' }] })
  })

  it('a slow router is abandoned at its deadline with a warning', async () => {
    const { log, lines } = collect()
    const r = fenceRouter(() => new Promise((res) => setTimeout(() => res('anth,mock-a'), 100)), { rawConfig: {}, providers: config.providers, log, timeoutMs: 5 })
    assert.equal(await r.route(input()), undefined)
    assert.ok(lines.some((l) => /no answer within 5 ms/.test(l.msg)))
    await new Promise((res) => setTimeout(res, 110))
  })

  it('headers lose every credential-looking name', () => {
    assert.deepEqual(routerHeaders(input().headers), { 'x-team': 't' })
  })
})
