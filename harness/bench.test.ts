import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { interleaved } from './bench.ts'

describe('bench interleaving', () => {
  it('law: sides alternate A B A B and each side gets exactly `rounds` results in order', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 6 }), async (rounds) => {
      const order: string[] = []
      let n = 0
      const [a, b] = await interleaved(rounds, async () => {
        order.push('A')
        return n++
      }, async () => {
        order.push('B')
        return n++
      })
      assert.equal(order.join(''), 'AB'.repeat(rounds))
      assert.deepEqual(a, Array.from({ length: rounds }, (_, i) => 2 * i))
      assert.deepEqual(b, Array.from({ length: rounds }, (_, i) => 2 * i + 1))
    }))
  })
})
