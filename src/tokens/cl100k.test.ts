import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base'
import { countCl100k } from './cl100k.ts'
import { buildConversation } from './estimate.bench.ts'

const reference = (s: string): number => countTokens(s, { disallowedSpecial: new Set() })

// Pieces that exercise every branch of the split and the merge: contractions, digits, runs of
// spaces and newlines, multi-byte letters, astral characters, lone surrogates, a BOM, special-token text.
const ATOMS = [
  'a',
  'b',
  ' ',
  '  ',
  '\n',
  '\r\n',
  '\t',
  'é',
  'ß',
  '中',
  '文',
  '😀',
  '\ud800',
  '\udc00',
  '\ufffd',
  '\ufeff',
  "'s",
  "'LL",
  '123',
  '4567',
  '<|endoftext|>',
  '.',
  '!!',
  '{"a":',
  '}',
  '    ',
  'Ω',
  'ñ',
  '\u0301',
  'x',
  'Z',
  '_',
  '-',
  '🇺🇸',
  '\u200b',
  'function',
  ' the',
  'ab\u0000',
]

describe('countCl100k', () => {
  it('counts a 150k-token conversation exactly as gpt-tokenizer does', () => {
    const text = JSON.stringify(buildConversation(1, 170))
    assert.equal(countCl100k(text), reference(text))
  })

  it('agrees with gpt-tokenizer on strings of tricky pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ATOMS), { maxLength: 40 }), (parts) => {
        const s = parts.join('')
        assert.equal(countCl100k(s), reference(s))
      }),
      { numRuns: 3000 },
    )
  })

  it('agrees with gpt-tokenizer on arbitrary UTF-16 and Unicode strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => assert.equal(countCl100k(s), reference(s))),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
        (s) => {
          assert.equal(countCl100k(s), reference(s))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('counts the empty string as 0 and special-token text as plain text', () => {
    assert.equal(countCl100k(''), 0)
    assert.equal(countCl100k('<|endoftext|>'), reference('<|endoftext|>'))
    assert.ok(countCl100k('<|endoftext|>') > 1)
  })
})
