import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { interpolateEnv, isVarReference } from './interpolate.ts'
import { allKeys, pristinePrototypeKeys, protoJsonArb } from '../../test/arbitraries/proto-json.ts'

describe('interpolateEnv', () => {
  it('replaces both $VAR and ${VAR} forms, also inside longer strings', () => {
    const env = { KEY: 'secret-1', HOST: 'example.com' }
    const { value, unset } = interpolateEnv({ a: '$KEY', b: '${KEY}', c: 'https://${HOST}/v1?k=$KEY' }, env)
    assert.deepEqual(value, { a: 'secret-1', b: 'secret-1', c: 'https://example.com/v1?k=secret-1' })
    assert.deepEqual(unset, [])
  })

  it('walks nested arrays and objects and leaves keys, numbers and booleans alone', () => {
    const input = { $KEY: 1, list: [['$KEY', { deep: '${KEY}' }], 3, true, null] }
    const { value } = interpolateEnv(input, { KEY: 'v' })
    assert.deepEqual(value, { $KEY: 1, list: [['v', { deep: 'v' }], 3, true, null] })
  })

  it('leaves an unset variable as written and reports its name once', () => {
    const { value, unset } = interpolateEnv({ a: '$MISSING', b: ['${MISSING}', '$ALSO_MISSING'] }, {})
    assert.deepEqual(value, { a: '$MISSING', b: ['${MISSING}', '$ALSO_MISSING'] })
    assert.deepEqual(unset, ['ALSO_MISSING', 'MISSING'])
  })

  it('does not interpolate lowercase bare names (CCR matches [A-Z_][A-Z0-9_]* only) but does in braces', () => {
    const { value, unset } = interpolateEnv({ a: '$home', b: '${home}' }, { home: '/h' })
    assert.deepEqual(value, { a: '$home', b: '/h' })
    assert.deepEqual(unset, [])
  })

  it('does not mutate its input', () => {
    const input = { a: ['$X'] }
    interpolateEnv(input, { X: 'y' })
    assert.deepEqual(input, { a: ['$X'] })
  })

  it('law: with an empty environment every value comes back unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        assert.deepEqual(interpolateEnv(v, {}).value, v)
      }),
    )
  })

  it('law: a string without "$" is never changed', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('$')),
        fc.dictionary(fc.constantFrom('A', 'B_1', 'KEY'), fc.string()),
        (s, env) => {
          assert.equal(interpolateEnv(s, env).value, s)
        },
      ),
    )
  })
})

describe('isVarReference', () => {
  it('accepts whole-string references only', () => {
    assert.equal(isVarReference('$KEY'), true)
    assert.equal(isVarReference('${any.thing}'), true)
    assert.equal(isVarReference('Bearer $KEY'), false)
    assert.equal(isVarReference('$key'), false)
    assert.equal(isVarReference('sk-123'), false)
  })
})

describe('interpolateEnv: keys named like prototype members', () => {
  it('keeps a __proto__ key as data (assignment would lose it and set the prototype)', () => {
    const input = JSON.parse('{"__proto__": {"k": "$KEY"}, "constructor": "$KEY", "prototype": ["${KEY}"]}') as unknown
    const { value } = interpolateEnv(input, { KEY: 'v' })
    assert.equal(JSON.stringify(value), '{"__proto__":{"k":"v"},"constructor":"v","prototype":["v"]}')
    assert.equal(Object.getPrototypeOf(value), Object.prototype)
  })

  it('does not resolve ${constructor} or $__proto__-like names from Object.prototype', () => {
    const { value, unset } = interpolateEnv({ a: '${constructor}', b: '${toString}', c: '${__proto__}' }, {})
    assert.deepEqual(value, { a: '${constructor}', b: '${toString}', c: '${__proto__}' })
    assert.deepEqual(unset, ['__proto__', 'constructor', 'toString'])
  })

  it('law: every key survives, prototype-named ones included, and Object.prototype is untouched', () => {
    const before = pristinePrototypeKeys()
    fc.assert(fc.property(protoJsonArb, (v) => {
      const out = interpolateEnv(v, { KEY: 'x' }).value
      assert.deepEqual(allKeys(out), allKeys(v))
      assert.equal(JSON.stringify(interpolateEnv(v, {}).value), JSON.stringify(v))
    }))
    assert.deepEqual(pristinePrototypeKeys(), before)
  })
})
