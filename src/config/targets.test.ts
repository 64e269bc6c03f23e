import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { ProviderConfig } from './types.ts'
import { configuredTargets } from './targets.ts'

describe('configuredTargets', () => {
  it('lists every provider,model pair in config order', () => {
    const p = (name: string, models: string[]) => ({ name, models }) as unknown as ProviderConfig
    assert.deepEqual(configuredTargets({ providers: [p('a', ['m1', 'm2']), p('b', ['m,3'])] }), [
      'a,m1',
      'a,m2',
      'b,m,3',
    ])
  })
})
