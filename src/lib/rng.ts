/**
 * A seeded PRNG (mulberry32), shared by the proxy, the tests and the harness so that every
 * random choice can be replayed from its seed.
 * @example const r = seededRandom(42); r() // 0.6011037519201636
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
