import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fnv1a, noteToolName, restoreToolName, sanitizeToolId, shortToolName } from './ids.ts'

describe('ids and tool names', () => {
  it('keeps valid ids and sanitizes others distinctly', () => {
    assert.equal(sanitizeToolId('toolu_01A'), 'toolu_01A')
    const a = sanitizeToolId('functions.Bash:0')
    assert.match(a, /^[a-zA-Z0-9_-]+$/)
    assert.notEqual(sanitizeToolId('call_x|fc_y'), sanitizeToolId('call_x.fc_y'))
  })
  it('law: sanitized ids always match the Anthropic pattern and are deterministic', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), (id) => {
      assert.match(sanitizeToolId(id), /^[a-zA-Z0-9_-]+$/)
      assert.equal(sanitizeToolId(id), sanitizeToolId(id))
    }))
  })
  it('shortens names over 64 chars and restores them', () => {
    const long = `mcp__server__${'x'.repeat(70)}`
    const map: Record<string, string> = {}
    const short = noteToolName(map, long)
    assert.equal(short.length, 64)
    assert.equal(short, shortToolName(long))
    assert.equal(restoreToolName(map, short), long)
    assert.equal(noteToolName(map, 'Bash'), 'Bash')
    assert.equal(fnv1a('a') === fnv1a('b'), false)
  })
})
