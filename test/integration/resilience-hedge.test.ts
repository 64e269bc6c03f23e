/**
 * Hedged streams (`Router.hedge`): a stream whose first event is later than its target's usual
 * p95 gets the next candidate started too; the first to commit answers, the other is cancelled.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sseEvents } from './helpers.ts'
import { ask, routeOf, simConfig, type SimProxy, simProxy } from './resilience-helpers.ts'

async function stream(p: SimProxy): Promise<Response> {
  const res = await p.post(ask('claude-sonnet-4', { stream: true }))
  assert.equal(sseEvents(await res.clone().text()).at(-1)?.event, 'message_stop')
  return res
}

describe('resilience: hedged streams', () => {
  // The adaptive first-event timeout is pinned at 60 s (floor = ceiling): only the hedge can
  // answer this test in time, the silent primary is never timed out.
  const router = {
    default: 'oai,mock-o:ttft=20',
    background: 'anth,mock-a',
    firstTokenTimeoutMs: 60_000,
    firstTokenFloorMs: 60_000,
  }

  it('a warm primary that goes quiet is hedged with the next candidate, which answers; the primary is cancelled', async () => {
    let quiet = false
    const p = await simProxy(simConfig({ ...router, hedge: true }), {
      inject: (req) => (quiet && req.url.includes('/chat/') ? { 'x-mock-stall': '0' } : undefined),
    })
    for (let i = 0; i < 4; i++) assert.equal(routeOf(await stream(p)).target, 'oai,mock-o:ttft=20')
    quiet = true
    const res = await stream(p)
    assert.deepEqual(
      routeOf(res),
      { target: 'anth,mock-a', tier: 'tier-1', attempts: 2, fallback: 0 },
      'both tries counted; the hedge answered',
    )
    await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(p.mock.attempts().slice(-2).map((a) => [a.baseModel, a.outcome]), [['mock-o', 'aborted'], [
      'mock-a',
      'ok',
    ]])
    p.close()
  })

  it('off by default: a quiet primary is only left when its first-event timeout fires, then the next target is tried', async () => {
    let quiet = false
    const p = await simProxy(simConfig({ ...router, firstTokenFloorMs: 200 }), {
      inject: (req) => (quiet && req.url.includes('/chat/') ? { 'x-mock-stall': '0' } : undefined),
    })
    for (let i = 0; i < 4; i++) await stream(p)
    quiet = true
    const res = await stream(p)
    assert.deepEqual(
      routeOf(res),
      { target: 'anth,mock-a', tier: 'tier-1', attempts: 2, fallback: 1 },
      'a failover, not a hedge',
    )
    p.close()
  })
})
