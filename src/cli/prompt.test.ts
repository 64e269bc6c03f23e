import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { editLine, type LineState } from './prompt.ts'

const typed = (...chunks: string[]): LineState => chunks.reduce<LineState>((s, c) => editLine(s, c), { text: '' })

describe('editLine', () => {
  it('adds printable characters and ends at Enter (CR or LF), ignoring what follows', () => {
    assert.deepEqual(typed('sk-', 'abc\rmore'), { text: 'sk-abc', done: true })
    assert.deepEqual(typed('x\n'), { text: 'x', done: true })
  })

  it('Backspace removes one character (a whole emoji), Ctrl-U the line, other controls nothing', () => {
    assert.deepEqual(typed('ab\x7f', 'c'), { text: 'ac' })
    assert.deepEqual(typed('a😀\b'), { text: 'a' })
    assert.deepEqual(typed('abc\x15d\x1b\t'), { text: 'd' })
  })

  it('Ctrl-C cancels; Ctrl-D cancels only an empty line', () => {
    assert.deepEqual(typed('abc\x03'), { text: '', cancelled: true })
    assert.deepEqual(typed('\x04'), { text: '', cancelled: true })
    assert.deepEqual(typed('a\x04'), { text: 'a' })
  })
})
