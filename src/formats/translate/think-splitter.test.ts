import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createThinkSplitter, splitThink } from './think-splitter.ts'
import type { ThinkSegment } from './think-splitter.ts'
import { contentPieceArb } from '../../../test/arbitraries/formats.ts'

const joinKind = (segs: readonly ThinkSegment[], k: ThinkSegment['kind']) =>
  segs.filter((s) => s.kind === k).map((s) => s.text).join('')

describe('think splitter', () => {
  it('splits a leading think section and drops whitespace after it', () => {
    assert.deepEqual(splitThink('  <think>plan</think>\n\nanswer'), { thinking: 'plan', text: 'answer' })
    assert.deepEqual(splitThink('<think>\n  plan\n</think>\n\nanswer'), { thinking: 'plan\n', text: 'answer' })
  })
  it('accepts another tag pair', () => {
    assert.deepEqual(splitThink('<thinking>a</thinking>b', { tags: ['<thinking>', '</thinking>'] }), {
      thinking: 'a',
      text: 'b',
    })
    assert.deepEqual(splitThink('<think>a</think>b', { tags: ['<thinking>', '</thinking>'] }), {
      thinking: '',
      text: '<think>a</think>b',
    })
  })
  it('treats a later <think> as literal text', () => {
    assert.deepEqual(splitThink('code: <think>x</think>'), { thinking: '', text: 'code: <think>x</think>' })
  })
  it('handles a closing tag only (template inserted <think>) when the section starts open', () => {
    assert.deepEqual(splitThink('reasoning</think>answer', { startsOpen: true }), {
      thinking: 'reasoning',
      text: 'answer',
    })
    assert.deepEqual(splitThink('reasoning</think>answer'), { thinking: '', text: 'reasoning</think>answer' })
  })
  it('relabels an unclosed thinks-open text as the answer', () => {
    assert.deepEqual(splitThink('just an answer', { startsOpen: true }), { thinking: '', text: 'just an answer' })
  })
  it('holds back tags split across chunks', () => {
    const s = createThinkSplitter()
    const segs = [...s.push('<th'), ...s.push('ink>abc</th'), ...s.push('ink>'), ...s.push(' hi'), ...s.flush()]
    assert.deepEqual(segs, [{ kind: 'thinking', text: 'abc' }, { kind: 'text', text: 'hi' }])
  })
  it('law: any chunking of the content gives the same thinking and text as the whole string', () => {
    fc.assert(fc.property(fc.array(contentPieceArb, { maxLength: 12 }), (pieces) => {
      const whole = createThinkSplitter()
      const all = [...whole.push(pieces.join('')), ...whole.flush()]
      const chunked = createThinkSplitter()
      const parts = [...pieces.flatMap((p) => chunked.push(p)), ...chunked.flush()]
      assert.equal(joinKind(parts, 'thinking'), joinKind(all, 'thinking'))
      assert.equal(joinKind(parts, 'text'), joinKind(all, 'text'))
    }))
  })
})
