import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configOf, testConfigFile } from '../../test/integration/helpers.ts'
import { createLogger } from '../log.ts'
import { routerHeaders, workerRouter } from './custom-router.ts'
import { moduleUrlOf } from './load.ts'

const config = configOf(testConfigFile())
const collect = () => {
  const lines: { level: string; msg: string }[] = []
  return {
    lines,
    log: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as { level: string; msg: string }) }),
  }
}
/**
 * The deadline for the tests not about it: a worker round trip on a busy CI machine can exceed the
 * product's 50 ms, and a timed-out call would not show what the router did. The slow-router test sets its own.
 */
const roomy = 2_000
const input = (body: Record<string, unknown> = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }) => ({
  body,
  tokenCount: 3,
  headers: new Headers({ 'x-api-key': 'k', authorization: 'Bearer k', 'x-goog-api-key': 'g', 'x-team': 't' }),
  format: 'anthropic' as const,
})

/** Router modules, all written before any is imported (Bun's resolver caches a directory's listing). */
const dir = mkdtempSync(join(tmpdir(), 'switchyard-routers-'))
const SOURCES = {
  casing: `(req) => { req.body.extra = 1; return 'ANTH,Mock-A' }`,
  mutating: `(req) => { req.body.v = 'changed'; req.body.messages.length = 0; return null }`,
  frozen: `(req, cfg) => { req.log.info('seen ' + JSON.stringify(cfg)); cfg.APIKEY = 'x'; return null }`,
  slow: `() => new Promise((res) => setTimeout(() => res('anth,mock-a'), 100))`,
}
const url = Object.fromEntries(
  Object.entries(SOURCES).map(([k, src]) => {
    const path = join(dir, `${k}.mjs`)
    writeFileSync(path, `'use strict'\nexport default ${src}\n`)
    return [k, moduleUrlOf(path)]
  }),
) as Record<keyof typeof SOURCES, string>

describe('custom router in a worker', () => {
  it('canonicalises the target casing and hands back the body the router changed', async () => {
    const { log } = collect()
    const r = await workerRouter({
      moduleUrl: url.casing,
      rawConfig: {},
      providers: config.providers,
      log,
      timeoutMs: roomy,
    })
    const pick = await r.route(input())
    assert.equal(pick?.target, 'anth,mock-a')
    assert.equal(pick?.body.extra, 1)
    r.close?.()
  })

  it('law: the caller body is never changed, whatever the router does to its copy', async () => {
    const { log } = collect()
    const r = await workerRouter({
      moduleUrl: url.mutating,
      rawConfig: {},
      providers: config.providers,
      log,
      timeoutMs: roomy,
    })
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (v) => {
        const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], v }
        const before = JSON.stringify(body)
        assert.equal(await r.route(input(body)), undefined)
        assert.equal(JSON.stringify(body), before)
      }),
      { seed: 17, numRuns: 30 },
    )
    r.close?.()
  })

  it('the config it sees is redacted and frozen, so a router can neither read nor change secrets', async () => {
    const { log, lines } = collect()
    const r = await workerRouter({
      moduleUrl: url.frozen,
      rawConfig: { APIKEY: 'sk-real', Providers: [{ api_key: '$KEY' }] },
      providers: config.providers,
      log,
      timeoutMs: roomy,
    })
    assert.equal(await r.route(input()), undefined)
    assert.ok(
      lines.some((l) => l.level === 'warn' && /threw/.test(l.msg)),
      'assigning to a frozen object throws in strict code',
    )
    const seen = lines.find((l) => l.msg.startsWith('custom router: seen '))
    assert.deepEqual(JSON.parse(seen!.msg.slice('custom router: seen '.length)), {
      APIKEY: '***',
      Providers: [{ api_key: '$KEY' }],
    })
    r.close?.()
  })

  it('a slow router is abandoned at its deadline with a warning, and not counted as stuck', async () => {
    const { log, lines } = collect()
    const r = await workerRouter({ moduleUrl: url.slow, rawConfig: {}, providers: config.providers, log, timeoutMs: 5 })
    assert.equal(await r.route(input()), undefined)
    assert.ok(lines.some((l) => /no answer within 5 ms/.test(l.msg)))
    await new Promise((res) => setTimeout(res, 300))
    assert.ok(!lines.some((l) => /still busy/.test(l.msg)), 'an async wait is not synchronous code')
    r.close?.()
  })

  it('headers lose every credential-looking name', () => {
    assert.deepEqual(routerHeaders(input().headers), { 'x-team': 't' })
  })
})
