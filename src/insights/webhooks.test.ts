import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { openStore } from '../store/db.ts'
import { AlertStore } from '../store/alerts.ts'
import type { Alert, AlertEvent } from './alerts.ts'
import { webhookPayload, WebhookSender } from './webhooks.ts'

const alert: Alert = {
  id: 'breaker_open:p,m:1000',
  rule: 'breaker_open',
  subject: 'p,m',
  severity: 'critical',
  state: 'firing',
  firedAt: 1_000,
  message: 'circuit breaker of p,m is open',
  evidence: { state: 'open', retry_in_ms: 5000 },
}
const fire: AlertEvent = { kind: 'fire', alert }

function sender(responses: (number | 'throw')[], opts: { maxQueue?: number } = {}) {
  const seen: Request[] = []
  const waits: number[] = []
  const logs: string[] = []
  const s = new WebhookSender({
    webhooks: [{ url: 'http://127.0.0.1:9/hook?token=abc', headers: { authorization: 'Bearer s3cret' } }],
    fetch: async (req) => {
      seen.push(req)
      const r = responses.shift() ?? 200
      if (r === 'throw') throw new TypeError('connection refused')
      return new Response('', { status: r })
    },
    sleep: async (ms) => {
      waits.push(ms)
    },
    log: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
    ...opts,
  })
  return { s, seen, waits, logs }
}

describe('webhooks', () => {
  it('POSTs JSON with a Slack-compatible text, the alert and the configured headers', async () => {
    const w = sender([200])
    w.s.deliver(fire)
    await w.s.idle()
    assert.equal(w.seen.length, 1)
    const req = w.seen[0]!
    assert.equal(req.method, 'POST')
    assert.equal(req.headers.get('authorization'), 'Bearer s3cret')
    assert.equal(req.headers.get('content-type'), 'application/json')
    const body = await req.json() as { text: string; event: string; alert: Alert }
    assert.equal(
      body.text,
      '[FIRING critical] breaker_open p,m: circuit breaker of p,m is open (state=open, retry_in_ms=5000)',
    )
    assert.equal(body.event, 'fire')
    assert.deepEqual(body.alert, alert)
    assert.deepEqual(w.s.counts, { delivered: 1, failed: 0, dropped: 0 })
  })

  it('retries network errors, 429 and 5xx with exponential backoff, then gives up without throwing', async () => {
    const w = sender(['throw', 503, 429, 200])
    w.s.deliver(fire)
    await w.s.idle()
    assert.equal(w.seen.length, 4)
    assert.deepEqual(w.waits, [500, 1_000, 2_000])
    assert.equal(w.s.counts.delivered, 1)
    const dead = sender([500, 500, 500, 500, 500])
    dead.s.deliver(fire)
    await dead.s.idle()
    assert.equal(dead.seen.length, 4)
    assert.equal(dead.s.counts.failed, 1)
    // The log names the webhook by index: no URL (it may be the credential), no header.
    assert.equal(dead.logs.length, 1)
    assert.match(dead.logs[0]!, /"webhook":0/)
    assert.ok(
      !dead.logs[0]!.includes('s3cret') && !dead.logs[0]!.includes('token=abc') && !dead.logs[0]!.includes('127.0.0.1'),
    )
  })

  it('a 4xx other than 429 is not retried', async () => {
    const w = sender([404])
    w.s.deliver(fire)
    await w.s.idle()
    assert.equal(w.seen.length, 1)
    assert.equal(w.s.counts.failed, 1)
  })

  it('deliver returns at once; past the queue bound deliveries are dropped and counted', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const s = new WebhookSender({
      webhooks: [{ url: 'http://127.0.0.1:9/hook', headers: {} }],
      fetch: async () => {
        await gate
        return new Response('')
      },
      maxQueue: 2,
    })
    for (let i = 0; i < 5; i++) s.deliver(fire)
    // One in flight, two queued, two dropped.
    assert.equal(s.counts.dropped, 2)
    release()
    await s.idle()
    assert.equal(s.counts.delivered, 3)
  })

  it('a resolve payload says so and carries the resolution', () => {
    const body = webhookPayload({
      kind: 'resolve',
      alert: { ...alert, state: 'resolved', resolvedAt: 2_000, resolution: { state: 'closed', retry_in_ms: 0 } },
    })
    assert.equal(body.text, '[RESOLVED] breaker_open p,m: circuit breaker of p,m is open (state=closed, retry_in_ms=0)')
    assert.equal(body.event, 'resolve')
  })
})

describe('alert history store', () => {
  it('keeps alerts newest first, updates them on resolve, trims to its size and closes firing ones on restart, not those a reload carried', () => {
    const store = openStore(':memory:')
    const h = new AlertStore(store, { historySize: 3, now: 0 })
    for (let i = 1; i <= 4; i++) h.save({ ...alert, id: `a${i}`, firedAt: i })
    assert.deepEqual(h.list().map((a) => a.id), ['a4', 'a3', 'a2'])
    h.save({ ...alert, id: 'a4', firedAt: 4, state: 'resolved', resolvedAt: 9, resolution: { state: 'closed' } })
    assert.deepEqual(h.list()[0], {
      ...alert,
      id: 'a4',
      firedAt: 4,
      state: 'resolved',
      resolvedAt: 9,
      resolution: { state: 'closed' },
    })
    const again = new AlertStore(store, { historySize: 3, now: 100 })
    const a3 = again.list().find((a) => a.id === 'a3')!
    assert.equal(a3.state, 'resolved')
    assert.equal(a3.resolvedAt, 100)
    assert.deepEqual(a3.resolution, { reason: 'restart' })
    // A reload's engine carries a firing alert over: its row stays open.
    again.save({ ...alert, id: 'a5', firedAt: 5 })
    const reloaded = new AlertStore(store, { historySize: 3, now: 200, stillFiring: new Set(['a5']) })
    assert.equal(reloaded.list().find((a) => a.id === 'a5')?.state, 'firing')
    store.close()
  })
})
