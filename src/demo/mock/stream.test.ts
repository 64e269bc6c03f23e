import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { coalescedSleep, timerSleep } from './stream.ts'

describe('sleeps', () => {
  it('coalescedSleep resolves every waiter, no earlier than asked, in due order', async () => {
    const sleep = coalescedSleep()
    const signal = new AbortController().signal
    const order: number[] = []
    const t0 = performance.now()
    await Promise.all([15, 5, 5, 10].map((ms, i) =>
      sleep(ms, signal).then(() => {
        order.push(i)
        assert.ok(performance.now() - t0 >= ms - 1, `waiter ${i} woke early`)
      })
    ))
    assert.deepEqual(order.slice(0, 2).sort(), [1, 2])
    assert.deepEqual(order.slice(2), [3, 0])
  })

  it('both sleeps end at once when the signal aborts', async () => {
    for (const sleep of [coalescedSleep(), timerSleep]) {
      const ac = new AbortController()
      const p = sleep(60_000, ac.signal)
      ac.abort()
      await p // would hang the test for a minute if the abort were ignored
      await sleep(60_000, ac.signal) // already aborted: returns at once
    }
  })
})
