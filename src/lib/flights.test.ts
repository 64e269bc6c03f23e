import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { SharedFlights } from './flights.ts'

describe('SharedFlights', () => {
  it('callers of a key in flight share its work; once it settles, the next call works again', async () => {
    const flights = new SharedFlights<string, number>()
    let runs = 0
    let done!: (n: number) => void
    const work = () => {
      runs++
      return new Promise<number>((r) => (done = r))
    }
    const both = Promise.all([flights.run('k', work), flights.run('k', work)])
    done(7)
    assert.deepEqual(await both, [7, 7])
    assert.equal(runs, 1)
    const again = flights.run('k', work)
    done(8)
    assert.equal(await again, 8)
    assert.equal(runs, 2)
  })

  it('a failed flight frees its key too; other keys run on their own', async () => {
    const flights = new SharedFlights<string, string>()
    await assert.rejects(flights.run('k', () => Promise.reject(new Error('down'))))
    assert.equal(await flights.run('k', async () => 'up'), 'up')
    const [a, b] = await Promise.all([flights.run('a', async () => 'A'), flights.run('b', async () => 'B')])
    assert.deepEqual([a, b], ['A', 'B'])
  })
})
