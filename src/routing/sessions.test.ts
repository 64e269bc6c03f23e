import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sessionUsageLru } from './sessions.ts'

describe('sessionUsageLru', () => {
  it('keeps the latest value per session and evicts the least recently set beyond capacity', () => {
    const s = sessionUsageLru(2)
    s.set('a', 1)
    s.set('b', 2)
    s.set('a', 3)
    s.set('c', 4)
    assert.equal(s.get('a'), 3)
    assert.equal(s.get('b'), undefined)
    assert.equal(s.get('c'), 4)
  })
})
