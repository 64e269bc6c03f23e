import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAX_NAME_CHARS, nameProblem } from './names.ts'

const INHERITED = Object.getOwnPropertyNames(Object.prototype)

/** The rule as it reads: every comma-separated part, trimmed, checked against the reserved names. */
function reference(name: string): string | undefined {
  if (name.length > MAX_NAME_CHARS) return `is longer than ${MAX_NAME_CHARS} characters`
  // deno-lint-ignore no-control-regex -- control characters are what the rule refuses
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character'
  for (const part of name.split(',')) {
    if (INHERITED.includes(part.trim())) return `uses the reserved name "${part.trim()}"`
  }
  return undefined
}

describe('nameProblem', () => {
  it('refuses a reserved part wherever it is and however it is padded, as the plain rule does', () => {
    const space = fc.constantFrom('', ' ', '\u00a0', '\u3000', '\ufeff', '\u2028', '  ')
    const part = fc.oneof(
      fc.constantFrom(...INHERITED, 'toStringx', 'xconstructor', 'proto', 'anth', 'mock-a:chunks=5'),
      fc.string({ maxLength: 8 }),
    )
    const padded = fc.tuple(space, part, space).map(([a, p, b]) => a + p + b)
    fc.assert(
      fc.property(fc.array(padded, { minLength: 1, maxLength: 4 }), (parts) => {
        const name = parts.join(',')
        assert.equal(nameProblem(name), reference(name), JSON.stringify(name))
      }),
      { numRuns: 3000 },
    )
  })

  it('names the reserved part', () => {
    assert.equal(nameProblem('anth, __proto__ '), 'uses the reserved name "__proto__"')
    assert.equal(nameProblem('constructor'), 'uses the reserved name "constructor"')
    assert.equal(nameProblem('anth,mock-a'), undefined)
    assert.equal(nameProblem('anth,toStringy'), undefined)
  })
})
