import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseToolArgs, repairToolArgsText } from './tool-args.ts'

describe('tool args', () => {
  it('parses, repairs, and falls back', () => {
    assert.deepEqual(parseToolArgs('{"city":"Paris"}'), { city: 'Paris' })
    assert.deepEqual(parseToolArgs('{"city":"Paris"'), { city: 'Paris' })
    assert.deepEqual(parseToolArgs(''), {})
    assert.deepEqual(parseToolArgs('[1]'), { value: [1] })
    assert.equal(repairToolArgsText('{"a":1'), '{"a":1}')
    assert.equal(repairToolArgsText(''), '{}')
    assert.equal(repairToolArgsText('{"a": 1}'), '{"a": 1}')
  })
})
