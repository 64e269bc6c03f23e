import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildCandidates, providerOf, tierOf, tierTargets } from './candidates.ts'
import { routerConfig } from '../../test/arbitraries/routing.ts'

describe('buildCandidates', () => {
  const cfg = routerConfig({
    default: 'a,x',
    background: 'b,y',
    think: 'a,x',
    longContext: 'c,z',
    image: 'd,w',
    fallback: { default: ['f,1', 'b,y', 'f,2'], think: ['g,3'] },
  })

  it('lists the Router targets once, in tier order', () => {
    assert.deepEqual(tierTargets(cfg), ['a,x', 'b,y', 'c,z', 'd,w'])
    assert.equal(tierOf('c,z', cfg), 'tier-2')
    assert.equal(tierOf('elsewhere,m', cfg), 'explicit')
  })

  it('puts the scenario target, then its fallbacks, then the other tiers, without duplicates', () => {
    const c = buildCandidates('b,y', 'background', routerConfig({ ...cfg, fallback: { background: ['f,1', 'a,x'] } }))
    assert.deepEqual(c.map((x) => `${x.source}:${x.tier}:${x.target}`), [
      'primary:tier-1:b,y',
      'fallback:fallback-0:f,1',
      'fallback:fallback-1:a,x',
      'tier:tier-2:c,z',
      'tier:tier-3:d,w',
    ])
  })

  it('uses the default fallback list for explicit picks, and skips other tiers when told', () => {
    const c = buildCandidates('q,r', 'explicit', routerConfig({ ...cfg, fallbackToOtherTiers: false }))
    assert.deepEqual(c.map((x) => x.target), ['q,r', 'f,1', 'b,y', 'f,2'])
    assert.equal(c[0]?.tier, 'explicit')
  })

  it('has no fallbacks for a scenario without a list', () => {
    const c = buildCandidates('c,z', 'longContext', routerConfig({ ...cfg, fallbackToOtherTiers: false }))
    assert.deepEqual(c.map((x) => x.target), ['c,z'])
  })
})

describe('providerOf', () => {
  it('splits at the first comma only', () => {
    assert.equal(providerOf('openrouter,vendor/model,v2'), 'openrouter')
    assert.equal(providerOf('nocomma'), 'nocomma')
  })
})
