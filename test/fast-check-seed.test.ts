/** The property tests run from a fixed seed: the set-up is preloaded by both runners. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DEFAULT_SEED } from './fast-check-seed.ts'

describe('fast-check seed', () => {
  it('is fixed for every property test (bunfig.toml preload / deno test --preload)', () => {
    const seed = fc.readConfigureGlobal().seed
    assert.equal(
      typeof seed,
      'number',
      'the seed set-up was not preloaded: run through npm test, or add --preload test/fast-check-seed.ts',
    )
    if (!process.env.FC_SEED) assert.equal(seed, DEFAULT_SEED)
  })

  it('a failing property reports the seed it ran with, so the failure replays', () => {
    let message = ''
    try {
      fc.assert(fc.property(fc.nat(), (n) => n < 0))
    } catch (e) {
      message = (e as Error).message
    }
    assert.match(message, new RegExp(`seed: ${fc.readConfigureGlobal().seed}`))
  })
})
