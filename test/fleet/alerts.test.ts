/**
 * Fleet mode: alert webhooks of fleet-wide rules go out once per fleet transition, claimed in a
 * real Redis (its own redis-server on a free port); per-instance rules name their instance.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type Fleet, startFleet } from '../../src/fleet/fleet.ts'
import type { Alert, AlertEvent } from '../../src/insights/alerts.ts'
import { WebhookSender } from '../../src/insights/webhooks.ts'
import { silentLogger } from '../../src/log.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'

const alert = (rule: Alert['rule'], firedAt: number): Alert => ({
  id: `${rule}:p,m:${firedAt}`,
  rule,
  subject: 'p,m',
  severity: 'critical',
  state: 'firing',
  firedAt,
  message: 'm',
  evidence: { x: 1 },
})
const ev = (kind: AlertEvent['kind'], rule: Alert['rule'], firedAt: number): AlertEvent => ({
  kind,
  alert: kind === 'fire'
    ? alert(rule, firedAt)
    : { ...alert(rule, firedAt), state: 'resolved', resolvedAt: firedAt + 1 },
})

describe('alert webhooks across the fleet', () => {
  let redis: TestRedis
  const open: Fleet[] = []
  before(async () => {
    redis = await startRedis()
  })
  after(async () => {
    await Promise.all(open.map((f) => f.close()))
    await redis.stop()
  })

  it('three instances: a breaker alert is delivered once per transition, a per-instance one by each, naming it', async () => {
    const posts: { event: string; rule: string; instance?: string; text: string }[] = []
    const senders: WebhookSender[] = []
    for (const id of ['a', 'b', 'c']) {
      const f = await startFleet({
        redis: redis.url,
        keyPrefix: 'al1:',
        commandTimeoutMs: 1_000,
        heartbeatMs: 200,
        leaseTtlMs: 30_000,
        cluster: false,
        instanceId: id,
      }, { log: silentLogger, version: 'test' })
      open.push(f)
      senders.push(
        new WebhookSender({
          webhooks: [{ url: 'http://127.0.0.1:9/hook', headers: {} }],
          fetch: async (req) => {
            const b = await req.json() as { event: string; alert: { rule: string }; instance?: string; text: string }
            posts.push({
              event: b.event,
              rule: b.alert.rule,
              text: b.text,
              ...(b.instance ? { instance: b.instance } : {}),
            })
            return new Response('')
          },
          fleet: { instance: f.id, claim: (e) => f.alerts.claim(e) },
        }),
      )
    }
    const all = async (e: (i: number) => AlertEvent) => {
      senders.forEach((s, i) => s.deliver(e(i)))
      await Promise.all(senders.map((s) => s.idle()))
    }
    // Each instance fires on its own clock (ids differ): the fleet still delivers one.
    await all((i) => ev('fire', 'breaker_open', 1_000 + i))
    await all((i) => ev('resolve', 'breaker_open', 1_000 + i))
    await all((i) => ev('fire', 'breaker_open', 5_000 + i))
    assert.deepEqual(posts.map((p) => p.event), ['fire', 'resolve', 'fire'])
    assert.ok(posts.every((p) => p.instance !== undefined && !p.text.includes('[instance')))
    posts.length = 0
    await all((i) => ev('fire', 'latency_degraded', 2_000 + i))
    assert.deepEqual(posts.map((p) => p.instance).sort(), ['a', 'b', 'c'])
    assert.ok(posts.every((p) => p.text.includes(`[instance ${p.instance}]`)))
    posts.length = 0
    // Redis gone: a claim cannot be made, so every instance delivers (twice beats never).
    await redis.kill()
    try {
      await all((i) => ev('resolve', 'breaker_open', 5_000 + i))
      assert.equal(posts.length, 3)
    } finally {
      await redis.restart()
    }
  })
})
