import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { select } from './select.ts'
import type { Scored } from './types.ts'
import { seededRandom } from '../lib/rng.ts'

const s = (key: string, score: number, inFlight = 0, explore = false): Scored => ({ key, score, inFlight, explore })
const scoredArb = fc.uniqueArray(
  fc.record({
    key: fc.string({ minLength: 1, maxLength: 4 }),
    score: fc.double({ min: 0, max: 1, noNaN: true }),
    inFlight: fc.nat(20),
    explore: fc.boolean(),
  }),
  { selector: (x) => x.key, maxLength: 8 },
)
const optsArb = fc.record({
  band: fc.double({ min: 0, max: 1, noNaN: true }),
  exploreShare: fc.double({ min: 0, max: 1, noNaN: true }),
})

function heads(
  items: readonly Scored[],
  n: number,
  seed: number,
  opts = { band: 0.05, exploreShare: 0 },
): Map<string, number> {
  const r = seededRandom(seed)
  const counts = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const k = select(items, opts, r)[0]?.key ?? ''
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  return counts
}

describe('select', () => {
  it('property: the result is a permutation of the input', () => {
    fc.assert(fc.property(scoredArb, optsArb, fc.integer(), (items, opts, seed) => {
      const out = select(items, opts, seededRandom(seed))
      return out.length === items.length &&
        [...out].map((x) => x.key).sort().join('|') === items.map((x) => x.key).sort().join('|')
    }))
  })

  it('property: deterministic for a given random', () => {
    fc.assert(
      fc.property(
        scoredArb,
        optsArb,
        fc.integer(),
        (items, opts, seed) =>
          select(items, opts, seededRandom(seed)).map((x) => x.key).join('|') ===
            select(items, opts, seededRandom(seed)).map((x) => x.key).join('|'),
      ),
    )
  })

  it('property: without exploration the head is within the band of the best', () => {
    fc.assert(
      fc.property(
        scoredArb.filter((xs) => xs.length > 0),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        (items, band, seed) => {
          const best = Math.max(...items.map((x) => x.score))
          return (select(items, { band, exploreShare: 0 }, seededRandom(seed))[0]?.score ?? -1) >= best - band
        },
      ),
    )
  })

  it('shares traffic between equal targets instead of herding on one', () => {
    const counts = heads([s('a', 0.8), s('b', 0.8), s('c', 0.3)], 2_000, 7)
    const a = counts.get('a') ?? 0
    const b = counts.get('b') ?? 0
    assert.equal(counts.get('c'), undefined)
    assert.ok(a > 700 && b > 700, `a=${a} b=${b}`)
  })

  it('sends the head to the less loaded of two band members', () => {
    const counts = heads([s('busy', 0.8, 10), s('idle', 0.8, 0)], 1_000, 3)
    assert.ok((counts.get('idle') ?? 0) > (counts.get('busy') ?? 0) * 2)
  })

  it('keeps score order after the head, so the rest is the failover sequence', () => {
    const out = select([s('c', 0.1), s('a', 0.9), s('b', 0.5)], { band: 0, exploreShare: 0 }, seededRandom(1))
    assert.deepEqual(out.map((x) => x.key), ['a', 'b', 'c'])
  })

  it('explores a new target with a capped share', () => {
    const n = 4_000
    const counts = heads([s('a', 0.9), s('new', 0.5, 0, true)], n, 11, { band: 0.05, exploreShare: 0.1 })
    const share = (counts.get('new') ?? 0) / n
    assert.ok(share > 0.05 && share <= 0.13, `share ${share}`)
  })
})
