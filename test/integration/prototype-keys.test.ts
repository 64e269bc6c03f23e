/**
 * Keys named `__proto__`, `constructor` and `prototype` in a client's JSON on every request
 * route, and in config files: they stay plain data (never a prototype change, never lost where
 * the body passes through), every answer is well-formed, and Object.prototype is untouched.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseConfig } from '../../src/config/load.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import { redactConfig } from '../../src/config/redact.ts'
import { getOwn } from '../../src/lib/own.ts'
import { hardenedProxy } from '../fixtures/hardened-proxy.ts'
import { anthropicBody, openaiBody, testConfigFile } from './helpers.ts'
import { allKeys, pristinePrototypeKeys, PROTO_KEYS, protoJsonArb, protoObjectArb } from '../arbitraries/proto-json.ts'

const ROUTES = [
  '/v1/messages',
  '/v1/chat/completions',
  '/preset/fast/v1/messages',
  '/preset/fast/v1/chat/completions',
  '/v1/messages/count_tokens',
] as const
const RUNS = 40

/** A valid request for the route with `extra` spliced in as JSON text (keys stay own data). */
function requestText(path: string, model: string, extra: Record<string, unknown>): string {
  const base = path.includes('chat') ? openaiBody(model) : anthropicBody(model)
  const inner = JSON.stringify(base).slice(1, -1)
  const more = JSON.stringify(extra).slice(1, -1)
  return `{${inner}${more ? `,${more}` : ''}}`
}

describe('prototype-named keys in client JSON', () => {
  it('law: on every request route, any such keys → a well-formed answer, Object.prototype untouched', async () => {
    const p = await hardenedProxy(testConfigFile({ Presets: { fast: { route: 'anth,mock-a' } } }))
    const before = pristinePrototypeKeys()
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom('anth,mock-a', 'oai,mock-o'),
        protoObjectArb,
        protoJsonArb,
        async (path, model, extra, nested) => {
          const body = requestText(path, model, { ...extra, metadata: nested })
          const res = await p.app.request(path, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          })
          const json = (await res.json()) as { error?: { message?: unknown } }
          assert.ok(
            res.status === 200 || (res.status >= 400 && res.status < 500),
            `${path}: status ${res.status} ${JSON.stringify(json).slice(0, 200)}`,
          )
          if (res.status !== 200) assert.equal(typeof json.error?.message, 'string')
          assert.equal(({} as Record<string, unknown>).polluted, undefined)
        },
      ),
      { numRuns: RUNS },
    )
    assert.deepEqual(pristinePrototypeKeys(), before)
    await p.close()
  })

  it('law: on the other JSON routes (performance import, config reload), such keys → never a 5xx, Object.prototype untouched', async () => {
    const p = await hardenedProxy(testConfigFile())
    const before = pristinePrototypeKeys()
    // POST /performance/test starts real test jobs; its body is validated by the same schema layer.
    const routes = ['/performance/import', '/api/config/reload'] as const
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), protoObjectArb, async (path, body) => {
        const res = await p.app.request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        await res.text()
        assert.ok(res.status < 500, `${path}: status ${res.status}`)
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
      }),
      { numRuns: 30 },
    )
    assert.deepEqual(pristinePrototypeKeys(), before)
    await p.close()
  })

  it('a pass-through request keeps every prototype-named key as its own data, at the top and nested', async () => {
    const p = await hardenedProxy()
    const extra = JSON.parse(
      '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"x": 2}}, "prototype": [1]}',
    ) as Record<string, unknown>
    for (const [path, model] of [['/v1/messages', 'anth,mock-a'], ['/v1/chat/completions', 'oai,mock-o']] as const) {
      const res = await p.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: requestText(path, model, extra),
      })
      assert.equal(res.status, 200, path)
      const sent = p.upstreamBodies.at(-1)!
      for (const k of PROTO_KEYS) assert.ok(Object.hasOwn(sent, k), `${path}: upstream body lost "${k}"`)
      assert.equal(Object.getPrototypeOf(sent), Object.prototype)
      assert.equal(JSON.stringify(sent.__proto__), '{"polluted":1}')
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    await p.close()
  })
})

describe('prototype-named keys in config files', () => {
  const file = (over: Record<string, unknown>) => JSON.stringify(testConfigFile(over))

  it('law: anywhere in a config file → loads or reports errors, never throws; keys are kept; Object.prototype untouched', () => {
    const before = pristinePrototypeKeys()
    const where = fc.constantFrom('top', 'router', 'presets', 'transformerOptions', 'tierRetries', 'pricing', 'headers')
    fc.assert(
      fc.property(where, protoObjectArb, (at, obj) => {
        const text = (() => {
          const c = testConfigFile() as Record<string, unknown> & {
            Providers: Record<string, unknown>[]
            Router: Record<string, unknown>
          }
          const json = (v: unknown) => JSON.stringify(v)
          // Spliced as text so the keys reach the loader the way JSON5.parse sees them in a file.
          switch (at) {
            case 'top':
              return `{${json(c).slice(1, -1)},"extra":${json(obj)}}`
            // Replacement functions: a generated string may hold `$&`, which a replacement string would expand.
            case 'router':
              return json(c).replace('"Router":{', () => `"Router":{"x":${json(obj)},`)
            case 'presets':
              return `{${json(c).slice(1, -1)},"Presets":${json(obj)}}`
            case 'transformerOptions':
              return json(c).replace(
                '"transformer":{"use":["Anthropic"]}',
                () => `"transformer":{"use":[["customparams",${json(obj)}]]}`,
              )
            case 'tierRetries':
              return json(c).replace('"Router":{', () => `"Router":{"tierRetries":${json(obj)},`)
            case 'pricing':
              return json(c).replace('"name":"oai",', () => `"name":"oai","pricing":${json(obj)},`)
            default:
              return json(c).replace('"name":"oai",', () => `"name":"oai","headers":${json(obj)},`)
          }
        })()
        const r = parseConfig(text, {}, { knownTransformer })
        const hasProto = allKeys(obj).includes('__proto__')
        if (r.ok) {
          assert.equal(hasProto, false, 'a __proto__ key never loads silently')
          assert.deepEqual(allKeys(redactConfig(r.value.raw)), allKeys(r.value.raw), 'redaction keeps every key')
          if (at === 'top') assert.deepEqual(Object.keys((r.value.raw as { extra: object }).extra), Object.keys(obj))
        } else {
          assert.ok(r.error.length > 0 && r.error.every((e) => typeof e === 'string'))
          if (hasProto) assert.ok(r.error.some((e) => e.includes('"__proto__" is not allowed')), r.error.join('; '))
        }
      }),
      { numRuns: 150 },
    )
    assert.deepEqual(pristinePrototypeKeys(), before)
  })

  it('a preset named "constructor" is an ordinary entry; a key named "__proto__" is an error with its path, never dropped silently', () => {
    const r = parseConfig(
      file({
        Presets: JSON.parse(
          '{"constructor": {"route": "anth,mock-a"}, "prototype": {"route": "oai,mock-o"}}',
        ) as unknown,
      }),
      {},
      { knownTransformer },
    )
    assert.ok(r.ok, r.ok ? '' : r.error.join('; '))
    const presets = r.value.config.presets
    assert.deepEqual(Object.keys(presets).sort(), ['constructor', 'prototype'])
    assert.equal(getOwn(presets, 'constructor')?.router.default, 'anth,mock-a')
    assert.equal(Object.getPrototypeOf(presets), Object.prototype)
    const bad = parseConfig(file({ Presets: JSON.parse('{"__proto__": {"route": "oai,mock-o"}}') as unknown }), {}, {
      knownTransformer,
    })
    assert.equal(bad.ok, false)
    assert.deepEqual(bad.ok ? [] : bad.error, [
      'Presets.__proto__: a key named "__proto__" is not allowed (it would be silently dropped)',
    ])
  })
})
