import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { jsonDepth } from './json-depth.ts'

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf))
  if (v !== null && typeof v === 'object') return 1 + Math.max(0, ...Object.values(v).map(depthOf))
  return 0
}

describe('jsonDepth', () => {
  it('law: equals the nesting of the parsed value, brackets and escapes inside strings included', () => {
    const tricky = fc.constantFrom('[', ']', '{', '}', '\\"[', '\\', '"', '\\\\', '\u0000')
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        tricky,
        fc.integer(),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), tricky), tie('v'), { maxKeys: 3 }),
      ),
    })).v
    fc.assert(fc.property(value, (v) => assert.equal(jsonDepth(JSON.stringify(v)), depthOf(v))), {
      seed: 5,
      numRuns: 500,
    })
  })

  it('stops early past the limit and is linear: 10 MB of brackets in well under a second', () => {
    const deep = '['.repeat(5_000_000) + ']'.repeat(5_000_000)
    const t0 = performance.now()
    assert.equal(jsonDepth(deep, 128), 129)
    assert.equal(jsonDepth('[1,[2,[3]]]'), 3)
    assert.ok(performance.now() - t0 < 1_000)
  })
})
