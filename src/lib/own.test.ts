import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { getOwn, mapValues, setOwn } from './own.ts'

describe('own-property helpers', () => {
  it('setOwn keeps a key named __proto__ as data and leaves the prototype alone', () => {
    const o: Record<string, unknown> = {}
    setOwn(o, '__proto__', { polluted: true })
    assert.equal(Object.getPrototypeOf(o), Object.prototype)
    assert.deepEqual(Object.keys(o), ['__proto__'])
    assert.equal((o as { polluted?: unknown }).polluted, undefined)
    assert.equal(JSON.stringify(o), '{"__proto__":{"polluted":true}}')
  })

  it('getOwn finds own keys only, never constructor/toString/__proto__ from Object.prototype', () => {
    const m: Record<string, number> = { a: 1 }
    assert.equal(getOwn(m, 'a'), 1)
    for (const k of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) assert.equal(getOwn(m, k), undefined, k)
    assert.equal(getOwn(JSON.parse('{"constructor": 2}') as Record<string, number>, 'constructor'), 2)
  })

  it('mapValues copies every key, prototype-named ones included', () => {
    const src = JSON.parse('{"__proto__": 1, "constructor": 2, "prototype": 3, "x": 4}') as Record<string, number>
    const out = mapValues(src, (v) => v * 10)
    assert.deepEqual(Object.entries(out), [['__proto__', 10], ['constructor', 20], ['prototype', 30], ['x', 40]])
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
  })
})
