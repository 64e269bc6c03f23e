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

  it('law: on any text, JSON or not, the same depth as a reading one character at a time', () => {
    const piece = fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ',', ':', ' ', '\u00e9')
    const text = fc.array(piece, { maxLength: 60 }).map((p) => p.join(''))
    fc.assert(fc.property(text, (t) => assert.equal(jsonDepth(t), depthReadingEachCharacter(t))), {
      seed: 11,
      numRuns: 2000,
    })
  })

  it('stops early past the limit; strings hide brackets, an escaped quote does not end one', () => {
    assert.equal(jsonDepth('['.repeat(5_000_000) + ']'.repeat(5_000_000), 128), 129)
    assert.equal(jsonDepth('[1,[2,[3]]]'), 3)
    assert.equal(jsonDepth('["a\\\\\\"[", [1]]'), 2)
    assert.equal(jsonDepth('["\\"[[", "]]"]'), 1)
    assert.equal(jsonDepth('["\\\\", [["x"]]]'), 3)
    assert.equal(jsonDepth('["never closed [[['), 1)
  })
})

/** The reading this module replaced: in a string, a backslash skips the next character and a quote ends it. */
function depthReadingEachCharacter(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) max = Math.max(max, ++depth)
    else if (c === 93 || c === 125) depth--
  }
  return max
}
