/**
 * Alert delivery to webhooks: one JSON POST per alert event and webhook, with a Slack-compatible
 * `text` field, retried with exponential backoff on network errors, 429 and 5xx. Delivery runs
 * in the background behind a bounded queue: `deliver` never waits and never throws, so a slow
 * or broken webhook cannot hold up a request. Header values and URLs are secrets (a Slack
 * webhook URL is its own credential): logs name a webhook by its index only.
 */
import { timerDelay } from '../lib/clock.ts'
import type { AlertEvent, AlertSink } from './alerts.ts'

export interface WebhookTarget {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

export interface WebhookOptions {
  readonly webhooks: readonly WebhookTarget[]
  readonly fetch: (req: Request) => Promise<Response>
  /** Waits between retries; a timer by default (tests pass a simulated one). */
  readonly sleep?: (ms: number) => Promise<void>
  readonly log?: (message: string, fields: Record<string, unknown>) => void
  /** Tries per delivery (first one included); default 4. */
  readonly attempts?: number
  /** Backoff before retry n is base × 2^(n−1); default 500 ms. */
  readonly baseBackoffMs?: number
  /** Deadline of one POST; default 5 s. */
  readonly timeoutMs?: number
  /** Deliveries waiting at most; later ones are dropped (and logged). Default 100. */
  readonly maxQueue?: number
  /**
   * Fleet mode: `instance` goes into every payload; `claim` is asked before a fleet-wide
   * rule's event goes out (FLEET_WIDE_RULES) and false means another instance delivered it.
   */
  readonly fleet?: { readonly instance: string; claim(e: AlertEvent): Promise<boolean> }
}

/**
 * Rules whose condition every instance of a fleet sees alike (shared breakers, the shared
 * test budget, the leader's test results): their webhooks go out once per fleet transition.
 * The others are about what each instance observed and are delivered by each, naming it.
 */
export const FLEET_WIDE_RULES: ReadonlySet<string> = new Set([
  'breaker_open',
  'perf_budget_low',
  'active_tests_failing',
])

/** The JSON body of a webhook POST. */
export function webhookPayload(e: AlertEvent, instance?: string): Record<string, unknown> {
  const a = e.alert
  const head = e.kind === 'fire' ? `[FIRING ${a.severity}]` : '[RESOLVED]'
  const figures = Object.entries(e.kind === 'fire' ? a.evidence : (a.resolution ?? a.evidence)).map(([k, v]) =>
    `${k}=${v}`
  ).join(', ')
  const where = instance === undefined || FLEET_WIDE_RULES.has(a.rule) ? '' : ` [instance ${instance}]`
  return {
    text: `${head} ${a.rule} ${a.subject}${where}: ${a.message} (${figures})`,
    event: e.kind,
    alert: a,
    ...(instance === undefined ? {} : { instance }),
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, timerDelay(ms)))

export class WebhookSender implements AlertSink {
  readonly #o: WebhookOptions
  readonly #queue: { index: number; body: string; kind: string }[] = []
  #running: Promise<void> | undefined
  /** Fleet claims in the order the events came (a resolve never overtakes its fire). */
  #claims: Promise<void> = Promise.resolve()
  #closed = false
  /** Deliveries that succeeded / gave up / were dropped at the queue bound. */
  readonly counts = { delivered: 0, failed: 0, dropped: 0 }

  constructor(o: WebhookOptions) {
    this.#o = o
  }

  deliver(e: AlertEvent): void {
    if (this.#closed || this.#o.webhooks.length === 0) return
    const fleet = this.#o.fleet
    if (fleet && FLEET_WIDE_RULES.has(e.alert.rule)) {
      // Never waits: the claim's round trip happens beside the request that raised the alert.
      this.#claims = this.#claims.then(() => fleet.claim(e)).then((mine) => {
        if (mine) this.#enqueue(e)
      }, () => this.#enqueue(e))
      return
    }
    this.#enqueue(e)
  }

  #enqueue(e: AlertEvent): void {
    if (this.#closed) return
    const body = JSON.stringify(webhookPayload(e, this.#o.fleet?.instance))
    for (let index = 0; index < this.#o.webhooks.length; index++) {
      if (this.#queue.length >= (this.#o.maxQueue ?? 100)) {
        this.counts.dropped++
        this.#o.log?.('alert webhook queue full: delivery dropped', { webhook: index, alert: e.alert.id })
        continue
      }
      this.#queue.push({ index, body, kind: e.kind })
    }
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined
    })
  }

  /** Resolves when the queue is empty (tests, and shutdown). */
  async idle(): Promise<void> {
    await this.#claims
    while (this.#running) await this.#running
  }

  /** Stops taking deliveries; queued ones are dropped. */
  close(): void {
    this.#closed = true
    this.#queue.length = 0
  }

  async #drain(): Promise<void> {
    for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
      if (await this.#send(job.index, job.body)) this.counts.delivered++
      else this.counts.failed++
    }
  }

  async #send(index: number, body: string): Promise<boolean> {
    const hook = this.#o.webhooks[index]!
    const attempts = Math.max(1, this.#o.attempts ?? 4)
    let last = ''
    for (let i = 0; i < attempts && !this.#closed; i++) {
      if (i > 0) await (this.#o.sleep ?? defaultSleep)((this.#o.baseBackoffMs ?? 500) * 2 ** (i - 1))
      try {
        const res = await this.#o.fetch(
          new Request(hook.url, {
            method: 'POST',
            headers: { ...hook.headers, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(timerDelay(this.#o.timeoutMs ?? 5_000)),
          }),
        )
        await res.body?.cancel()
        if (res.ok) return true
        last = `status ${res.status}`
        if (res.status < 500 && res.status !== 429) break
      } catch (e) {
        last = e instanceof Error ? e.name : 'error'
      }
    }
    this.#o.log?.('alert webhook delivery failed', { webhook: index, attempts, last })
    return false
  }
}
