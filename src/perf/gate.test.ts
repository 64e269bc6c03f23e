import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FakeScheduler } from '../../test/doubles/fake-scheduler.ts'
import { BUDGET_EXHAUSTED, ENGINE_STOPPED, ProbeGate } from './gate.ts'
import { Semaphore } from './semaphore.ts'
import type { ProbeSender } from './types.ts'

const T0 = Date.UTC(2026, 0, 1, 10)
const body = { model: 'p,m', max_tokens: 50 }

function gate(sender: ProbeSender, budget = 1000, timeoutMs = 1000) {
  const sched = new FakeScheduler(T0)
  return { sched, g: new ProbeGate({ sender, now: sched.now, scheduler: sched, dailyTokenBudget: budget, timeoutMs }) }
}

describe('ProbeGate', () => {
  it('settles the reservation with the usage the upstream reported', async () => {
    const { g } = gate(async () => ({ ok: true, totalMs: 5, outputTokens: 12, inputTokens: 30 }))
    const r = await g.send('p,m', body, 80)
    assert.equal(r.kind, 'done')
    assert.deepEqual({ used: g.budget().used, reserved: g.budget().reserved, remaining: g.budget().remaining }, {
      used: 42,
      reserved: 0,
      remaining: 958,
    })
  })
  it('charges a failure without usage its input estimate', async () => {
    const { g } = gate(async () => ({ ok: false, error: 'x', totalMs: 5, outputTokens: 0 }))
    await g.send('p,m', body, 80)
    assert.equal(g.budget().used, 30)
  })
  it('refuses once the budget cannot cover a reservation, without calling the sender', async () => {
    let calls = 0
    const { g } = gate(async () => {
      calls++
      return { ok: true, totalMs: 1, outputTokens: 50, inputTokens: 30 }
    }, 170)
    assert.equal((await g.send('p,m', body, 80)).kind, 'done')
    assert.deepEqual(await g.send('p,m', body, 100), { kind: 'refused', reason: BUDGET_EXHAUSTED })
    assert.equal(calls, 1)
  })
  it('with a fleet budget: refused when the fleet has spent it (the local hold given back); settled there too', async () => {
    const settled: [number, number][] = []
    let fleetSays: boolean | undefined = false
    const shared = {
      reserve: async () => fleetSays,
      settle: (r: number, s: number) => {
        settled.push([r, s])
      },
    }
    let calls = 0
    const sched = new FakeScheduler(T0)
    const g = new ProbeGate({
      sender: async () => {
        calls++
        return { ok: true, totalMs: 5, outputTokens: 12, inputTokens: 30 }
      },
      now: sched.now,
      scheduler: sched,
      dailyTokenBudget: 1000,
      timeoutMs: 1000,
      shared,
    })
    assert.deepEqual(await g.send('p,m', body, 80), { kind: 'refused', reason: BUDGET_EXHAUSTED })
    assert.deepEqual([calls, g.budget().reserved, g.budget().used], [0, 0, 0])
    fleetSays = true
    assert.equal((await g.send('p,m', body, 80)).kind, 'done')
    assert.deepEqual(settled, [[80, 42]])
    fleetSays = undefined // Redis did not answer: the local budget decides alone, nothing to settle
    assert.equal((await g.send('p,m', body, 80)).kind, 'done')
    assert.deepEqual(settled, [[80, 42]])
  })
  it('a sender that throws becomes a failed outcome', async () => {
    const { g } = gate(async () => {
      throw new TypeError('connection reset')
    })
    const r = await g.send('p,m', body, 80)
    assert.ok(r.kind === 'done' && !r.outcome.ok && r.outcome.error === 'connection reset')
  })
  it('stop aborts in-flight probes and refuses new ones until resumed', async () => {
    let seen: AbortSignal | undefined
    const { g } = gate((req) => {
      seen = req.signal
      return new Promise(() => {})
    })
    const pending = g.send('p,m', body, 80)
    await Promise.resolve()
    assert.equal(g.inFlight(), 1)
    g.stop()
    const r = await pending
    assert.ok(r.kind === 'done' && r.outcome.error === ENGINE_STOPPED)
    assert.equal(seen?.aborted, true)
    assert.deepEqual(await g.send('p,m', body, 80), { kind: 'refused', reason: ENGINE_STOPPED })
    g.resume()
    assert.equal(g.inFlight(), 0)
    assert.equal(g.budget().reserved, 0, 'an aborted probe releases its reservation')
  })
})

describe('Semaphore', () => {
  it('law: never more than `permits` tasks run at once, and every task runs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 20 }),
        async (permits, waits) => {
          const sem = new Semaphore(permits)
          let running = 0
          let peak = 0
          const done = await Promise.all(waits.map((w, i) =>
            sem.run(async () => {
              running++
              peak = Math.max(peak, running)
              for (let k = 0; k < w; k++) await Promise.resolve()
              running--
              return i
            })
          ))
          assert.ok(peak <= permits)
          assert.deepEqual(done, waits.map((_, i) => i))
        },
      ),
    )
  })
  it('releases the permit when a task throws', async () => {
    const sem = new Semaphore(1)
    await assert.rejects(sem.run(async () => {
      throw new Error('boom')
    }))
    assert.equal(await sem.run(async () => 7), 7)
  })
})
