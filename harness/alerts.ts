/**
 * `bun run harness alerts`: a whole Switchyard instance in process on a simulated clock, one
 * mock target whose latency steps ×3 mid-run (and later recovers), and a real webhook sink on
 * 127.0.0.1. The run passes when the degradation alert reaches the sink with its evidence
 * (ratio, baseline, window) and the webhook's secret header, resolves once after the recovery,
 * and the secret shows up in no log line. Takes well
 * under a second of wall time: the mock's waits advance the simulated clock.
 */
import { createInstance } from '../src/compose.ts'
import { parseConfig } from '../src/config/load.ts'
import { createMockUpstream } from '../src/demo/upstream.ts'
import { knownTransformer } from '../src/formats/index.ts'
import { createLogger } from '../src/log.ts'
import { seededRandom } from '../src/lib/rng.ts'
import { runtime } from '../src/runtime/index.ts'

export interface AlertScenarioOptions {
  /** Requests before the step (the baseline), default 40; after it, default 30; then up to 60 at the old speed until the alerts resolve. */
  readonly before?: number
  readonly after?: number
  /** Latency factor of the step, default 3. */
  readonly factor?: number
}

export interface WebhookDelivery {
  readonly authorization: string | null
  readonly body: {
    readonly text?: string
    readonly event?: string
    readonly alert?: { readonly rule?: string; readonly subject?: string; readonly evidence?: Record<string, unknown> }
  }
}

export interface AlertScenarioReport {
  readonly ok: boolean
  readonly problems: string[]
  /** Requests after the step until the first alert fired. */
  readonly firedAfter?: number
  /** Requests after the recovery until every alert resolved. */
  readonly resolvedAfter?: number
  readonly deliveries: WebhookDelivery[]
  readonly firing: string[]
  readonly metricsLine?: string
}

const SECRET = 'Bearer hook-secret-0123'
const TARGET = 'mock,mock-o'

export async function runAlertScenario(o: AlertScenarioOptions = {}): Promise<AlertScenarioReport> {
  const before = o.before ?? 40
  const after = o.after ?? 30
  const factor = o.factor ?? 3
  const deliveries: WebhookDelivery[] = []
  const sink = await runtime.serve(async (req) => {
    deliveries.push({
      authorization: req.headers.get('authorization'),
      body: await req.json() as WebhookDelivery['body'],
    })
    return new Response('ok')
  }, { port: 0, hostname: '127.0.0.1' })
  let t = 1_767_225_600_000
  const now = () => t
  let degraded = false
  const mock = createMockUpstream({
    now,
    sleep: async (ms, signal) => {
      if (!signal.aborted) t += ms
    },
    defaults: { ttftMs: 200, delayMs: 20, chunks: 10 },
  })
  const file = {
    LOG: true,
    Providers: [{
      name: 'mock',
      api_base_url: 'http://mock.test/v1/chat/completions',
      api_key: 'sk-mock',
      models: ['mock-o'],
    }],
    Router: { default: TARGET },
    Alerts: {
      evaluateIntervalMs: 3_600_000,
      webhooks: [{ url: `http://127.0.0.1:${sink.port}/hook`, headers: { authorization: SECRET } }],
      rules: { latency: { minDurationMs: 0 }, ttft: { minDurationMs: 0 } },
    },
  }
  const parsed = parseConfig(JSON.stringify(file), {}, { knownTransformer })
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  const logs: string[] = []
  const inst = await createInstance(parsed.value.config, {
    dataDir: ':memory:',
    now,
    random: seededRandom(18),
    log: createLogger({ level: 'info', write: (l) => logs.push(l), now }),
    sleep: async (ms, signal) => {
      if (!signal.aborted) t += ms
      return !signal.aborted
    },
    fetch: async (req) => {
      if (!degraded) return await mock.fetch(req)
      const headers = new Headers(req.headers)
      headers.set('x-mock-ttft', String(200 * factor))
      headers.set('x-mock-delay', String(20 * factor))
      return await mock.fetch(new Request(req, { headers }))
    },
    webhookFetch: (req) => fetch(req),
  })
  const problems: string[] = []
  let firedAfter: number | undefined
  let resolvedAfter: number | undefined
  try {
    const send = async () => {
      const res = await inst.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-4',
          max_tokens: 64,
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      })
      await res.text()
      t += 1_000
    }
    for (let i = 0; i < before; i++) await send()
    if (inst.insights.alerts.firing().length > 0) {
      problems.push(`alerts fired before the step: ${inst.insights.alerts.firing().map((a) => a.rule).join(', ')}`)
    }
    degraded = true
    for (let i = 1; i <= after; i++) {
      await send()
      if (firedAfter === undefined && inst.insights.alerts.firing().length > 0) firedAfter = i
    }
    const firing = inst.insights.alerts.firing().map((a) => `${a.rule} ${a.subject}`)
    // Recovery: the target is fast again; every alert resolves, once.
    degraded = false
    for (let i = 1; i <= 60 && resolvedAfter === undefined; i++) {
      await send()
      if (inst.insights.alerts.firing().length === 0) resolvedAfter = i
    }
    await inst.insights.webhooks.idle()
    if (firedAfter !== undefined && resolvedAfter === undefined) {
      problems.push('the alerts did not resolve after recovery')
    }
    const events = deliveries.map((d) => `${d.body.event} ${d.body.alert?.rule}`)
    if (new Set(events).size !== events.length) problems.push(`an alert was delivered twice: ${events.join(', ')}`)
    if (firedAfter === undefined) problems.push('no alert fired after the step')
    const hit = deliveries.find((d) =>
      d.body.event === 'fire' && (d.body.alert?.rule === 'latency_degraded' || d.body.alert?.rule === 'ttft_degraded')
    )
    if (!hit) problems.push('no degradation alert reached the webhook sink')
    else {
      const ev = hit.body.alert?.evidence ?? {}
      if (hit.authorization !== SECRET) problems.push('the webhook header was not sent')
      if (!(Number(ev.ratio) >= 2) || !(Number(ev.baseline_ms) > 0) || typeof ev.window !== 'string') {
        problems.push(`evidence incomplete: ${JSON.stringify(ev)}`)
      }
      if (!hit.body.text?.includes(TARGET)) problems.push('the Slack text does not name the target')
    }
    if (logs.some((l) => l.includes('hook-secret'))) problems.push('the webhook secret appeared in a log line')
    const metrics = await (await inst.app.request('/metrics')).text()
    const metricsLine = metrics.split('\n').find((l) => l.startsWith('switchyard_alerts_firing{'))
    if (firedAfter !== undefined && !metricsLine?.endsWith(' 0')) {
      problems.push(`switchyard_alerts_firing does not show the resolved alert: ${metricsLine}`)
    }
    return {
      ok: problems.length === 0,
      problems,
      ...(firedAfter !== undefined ? { firedAfter } : {}),
      ...(resolvedAfter !== undefined ? { resolvedAfter } : {}),
      deliveries,
      firing,
      ...(metricsLine ? { metricsLine } : {}),
    }
  } finally {
    await inst.close()
    await sink.stop(true)
  }
}
