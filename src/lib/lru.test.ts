import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { LruMap } from './lru.ts'

describe('LruMap', () => {
  it('setNewest makes a key the newest, and drops the oldest past the bound', () => {
    const m = new LruMap<string, number>(2)
    m.setNewest('a', 1)
    m.setNewest('b', 2)
    m.setNewest('a', 3) // a is now newer than b
    m.setNewest('c', 4)
    assert.deepEqual([...m], [['a', 3], ['c', 4]])
    const none = new LruMap<string, number>(0)
    none.setNewest('d', 5)
    assert.equal(none.size, 0, 'a bound of 0 keeps nothing')
  })
})
