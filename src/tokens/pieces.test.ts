import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base'
import { TokenCache } from './cache.ts'
import { buildConversation } from './estimate.bench.ts'
import { APPROX_BYTES_PER_TOKEN, countText, estimateTokens, utf8Length } from './estimate.ts'
import { MAX_RUN, pieceEnd, SLICE } from './pieces.ts'
import { walkBody } from './walk.ts'

const SEED = 1111
const direct = (s: string): number => countTokens(s, { disallowedSpecial: new Set() })

function pieces(text: string): string[] {
  const out: string[] = []
  for (let start = 0; start < text.length;) {
    const end = pieceEnd(text, start)
    out.push(text.slice(start, end))
    start = end
  }
  return out
}

/** Longest run of UTF-16 units that are all whitespace or all not. */
function longestRun(p: string): number {
  let best = 0
  let run = 0
  let prev: boolean | undefined
  for (const ch of p.split('')) {
    const s = /\s/.test(ch)
    run = s === prev ? run + 1 : 1
    prev = s
    best = Math.max(best, run)
  }
  return best
}

describe('bounded tokenizing of hostile text', () => {
  it('counts 40 KB of one character and 15k CJK characters in bounded time (was 2.5 s and 3.7 s)', () => {
    for (const s of ['a'.repeat(40_000), '漢'.repeat(15_000), ' '.repeat(200_000), '!'.repeat(100_000)]) {
      const t0 = performance.now()
      const n = countText(s)
      const ms = performance.now() - t0
      assert.ok(ms < 500, `${s.slice(0, 1)} × ${s.length}: ${ms.toFixed(0)} ms`)
      const bytes = utf8Length(s)
      assert.ok(n <= bytes && n >= Math.ceil(bytes / 128), `${n} tokens for ${bytes} bytes`)
    }
  })

  it('law: pieces cover the text, never split a surrogate pair, and no run inside one is longer than MAX_RUN (+1)', () => {
    const runs = fc.array(
      fc.tuple(fc.constantFrom('a', ' ', '漢', '😀', '\n', '.', '7'), fc.integer({ min: 1, max: 700 })),
      { maxLength: 8 },
    )
    fc.assert(
      fc.property(runs, (rs) => {
        const text = rs.map(([c, n]) => c.repeat(n)).join('')
        const ps = pieces(text)
        assert.equal(ps.join(''), text)
        for (const p of ps) {
          assert.notEqual(p.charCodeAt(0) & 0xfc00, 0xdc00, 'a piece starts with a low surrogate')
          assert.ok(
            longestRun(p) <= MAX_RUN + 1,
            `a run of ${longestRun(p)} (one more only to keep a surrogate pair whole)`,
          )
        }
      }),
      { seed: SEED, numRuns: 200 },
    )
  })

  it('counts ordinary text exactly: a 150k-token conversation sliced into pieces sums to the direct count', () => {
    const body = buildConversation(7, 30)
    let checked = 0
    walkBody(body, {
      text(_c, text) {
        if (text.length > 0) {
          assert.equal(countText(text), direct(text))
          checked++
        }
      },
      fixed() {},
    })
    const long = Array.from({ length: 4 }, () => (body['system'] as { text: string }[]).map((b) => b.text).join('\n'))
      .join(' ')
    assert.ok(long.length > 4 * SLICE, 'the long text is sliced several times')
    assert.ok(pieces(long).length > 1)
    assert.equal(countText(long), direct(long))
    assert.ok(checked > 100)
  })

  it('stops tokenizing when the budget is spent, estimates the rest from bytes, and caches only exact counts', () => {
    let t = 0
    const now = (): number => (t += 1) // every clock read is one millisecond later
    const cache = new TokenCache({ minChars: 1 })
    const short = 'hello there, general'
    const huge = 'word '.repeat(100_000)
    const body = { messages: [{ role: 'user', content: short }, { role: 'user', content: huge }] }
    const e = estimateTokens(body, cache, { now, ms: 3 })
    assert.equal(cache.peek(short), direct(short))
    assert.equal(cache.peek(huge), undefined, 'an approximate count is not memoised')
    const exact = estimateTokens(body)
    assert.equal(e.total - exact.total, Math.ceil(utf8Length(huge) / APPROX_BYTES_PER_TOKEN) - direct(huge))
    assert.deepEqual(
      estimateTokens(body, new TokenCache(), { now: () => 0, ms: 3 }),
      exact,
      'within budget it is exact',
    )
  })

  it('bounds a 5 MB single-character message by the budget (was minutes)', () => {
    const huge = 'x'.repeat(5_000_000)
    const t0 = performance.now()
    const e = estimateTokens({ messages: [{ role: 'user', content: huge }] }, new TokenCache(), {
      now: () => performance.now(),
      ms: 20,
    })
    const ms = performance.now() - t0
    assert.ok(ms < 1_000, `${ms.toFixed(0)} ms`)
    assert.ok(e.total >= Math.ceil(5_000_000 / 128))
  })
})
