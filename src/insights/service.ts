/**
 * The analysis layer of one instance: it watches finished requests (a TraceObserver), keeps
 * the live series, runs the alert engine on a timer and delivers alerts to the log, metrics,
 * the persisted history and webhooks, and runs the routing experiments. The composition root
 * builds it; the routes read it. Recommendations are computed on request and never change the
 * config.
 */
import { type AlertsConfig, alertsSchema, type ExperimentConfig } from '../config/alerts.ts'
import type { Config } from '../config/types.ts'
import type { ProxyError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Registry } from '../metrics/registry.ts'
import type { PlannedTarget, RequestTrace } from '../proxy/types.ts'
import { failureReasonOf } from '../routing/routing-engine.ts'
import type { AlertStore } from '../store/alerts.ts'
import type { SeriesStore } from '../store/series.ts'
import type { TraceObserver } from '../telemetry.ts'
import { hourOfWeek } from '../analysis/trends.ts'
import { timerDelay } from '../lib/clock.ts'
import {
  type Alert,
  ALERT_RULES,
  AlertEngine,
  type AlertEvent,
  type AlertInputs,
  type AlertMemory,
  type AlertSink,
  type TargetSample,
} from './alerts.ts'
import { Experiments } from './experiments.ts'
import { type Sample, SeriesBook } from './series.ts'
import { type ActiveRun, recommendations, targetTrend, TREND_WINDOWS, type TrendWindow } from './views.ts'
import { type WebhookOptions, WebhookSender } from './webhooks.ts'

export interface InsightsOptions {
  readonly config: Config
  readonly now: () => number
  readonly log: Logger
  readonly registry: Registry
  readonly inputs: Omit<AlertInputs, 'requests'>
  /** Active-test runs of a target since a time (the performance store). */
  readonly activeHistory: (target: string, since: number) => readonly ActiveRun[]
  readonly history?: AlertStore
  /** Where the hour buckets of the live series persist (7-day trends survive a restart). */
  readonly seriesStore?: SeriesStore
  /** For webhooks; the global fetch when absent. */
  readonly fetch?: (req: Request) => Promise<Response>
  readonly sleep?: (ms: number) => Promise<void>
  /** Fleet mode: webhooks of fleet-wide rules once per fleet, and the instance named in payloads. */
  readonly fleet?: WebhookOptions['fleet']
  /** The alerts firing before a reload, and their rules' hysteresis (see `AlertMemory`). */
  readonly alertMemory?: AlertMemory
}

/** Recent alerts kept in memory when there is no store. */
const MEMORY_HISTORY = 200

export class Insights {
  readonly series = new SeriesBook()
  readonly alerts: AlertEngine
  readonly experiments: Experiments | undefined
  readonly webhooks: WebhookSender
  readonly observer: TraceObserver
  readonly config: AlertsConfig
  readonly #o: InsightsOptions
  readonly #recent: Alert[] = []
  #timer: ReturnType<typeof setInterval> | undefined
  /** Removes this engine's collector from the registry (which outlives a reload). */
  readonly #offCollect: () => void

  constructor(o: InsightsOptions) {
    this.#o = o
    this.config = o.config.alerts ?? alertsSchema().parse({})
    this.#loadSeries()
    const experiments: readonly ExperimentConfig[] = o.config.router.experiments ?? []
    this.experiments = experiments.length > 0
      ? new Experiments(experiments, { router: o.config.router, now: o.now, log: (m, f) => o.log.warn(m, f) })
      : undefined
    this.webhooks = new WebhookSender({
      webhooks: this.config.webhooks,
      fetch: o.fetch ?? ((r) => fetch(r)),
      ...(o.sleep ? { sleep: o.sleep } : {}),
      log: (m, f) => o.log.warn(m, f),
      ...(o.fleet ? { fleet: o.fleet } : {}),
    })
    const firing = o.registry.gauge(
      'switchyard_alerts_firing',
      'Alerts firing now (1), by rule, subject and severity; 0 once resolved',
      { labelNames: ['alert', 'subject', 'severity'], maxLabelValues: 64 },
    )
    const events = o.registry.counter(
      'switchyard_alert_events_total',
      'Alert events by rule and kind (fire, resolve)',
      { labelNames: ['alert', 'event'], maxLabelValues: ALERT_RULES.length + 1 },
    )
    const ratio = o.registry.gauge(
      'switchyard_baseline_ratio',
      'Current EWMA over its baseline, per target and metric (latency, ttft); 1 until seeded',
      { labelNames: ['target', 'metric'], maxLabelValues: 64 },
    )
    this.#offCollect = o.registry.onCollect(() => {
      // Set afresh: the registry outlives a reload, and a target the new config dropped must go.
      ratio.clear()
      for (const r of this.alerts.baselineRatios()) ratio.labels(r.target, r.metric).set(r.ratio)
    })
    const sinks: AlertSink[] = [
      { deliver: (e) => this.#logEvent(e) },
      {
        deliver: (e) => {
          firing.labels(e.alert.rule, e.alert.subject, e.alert.severity).set(e.kind === 'fire' ? 1 : 0)
          events.labels(e.alert.rule, e.kind).inc()
        },
      },
      { deliver: (e) => this.#remember(e.alert) },
      this.webhooks,
    ]
    this.alerts = new AlertEngine({
      rules: this.config.rules,
      now: o.now,
      sinks,
      ...(o.alertMemory ? { memory: o.alertMemory } : {}),
      inputs: { ...o.inputs, requests: (from, to) => this.#requests(from, to) },
    })
    // Alerts a reload carried over fire still: this instance's metrics say so from the start.
    for (const a of this.alerts.firing()) firing.labels(a.rule, a.subject, a.severity).set(1)
    this.observer = {
      request: (trace) => this.#request(trace),
      attemptFailed: (t, e) => this.#attemptFailed(t, e),
    }
  }

  /** Evaluates the time-based rules (and saves the series) every `evaluateIntervalMs` until `stop()`. */
  start(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => this.evaluate(), timerDelay(this.config.evaluateIntervalMs))
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  stop(): void {
    this.#offCollect()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.saveSeries()
    this.webhooks.close()
  }

  /** Writes the hour buckets changed since the last save; a failing store is logged, never thrown. */
  saveSeries(): void {
    const rows = this.series.takeDirty()
    if (!this.#o.seriesStore || rows.length === 0) return
    try {
      this.#o.seriesStore.save(rows, this.#o.now())
    } catch (e) {
      this.#o.log.warn('series store write failed', { error: e instanceof Error ? e.message : String(e) })
    }
  }

  #loadSeries(): void {
    if (!this.#o.seriesStore) return
    try {
      this.series.seed(this.#o.seriesStore.load(this.#o.now() - TREND_WINDOWS['7d'].spanMs), hourOfWeek)
    } catch (e) {
      this.#o.log.warn('series store read failed', { error: e instanceof Error ? e.message : String(e) })
    }
  }

  evaluate(): void {
    this.saveSeries()
    if (!this.config.enabled) return
    try {
      this.alerts.evaluate()
    } catch (e) {
      this.#o.log.warn('alert evaluation failed', { error: e instanceof Error ? e.message : String(e) })
    }
  }

  /** Firing alerts, and the history (persisted when there is a store), newest first. */
  alertsView(limit = 100): { firing: Alert[]; history: Alert[] } {
    const history = this.#o.history ? (this.#o.history.list(limit) as Alert[]) : this.#recent.slice(-limit).reverse()
    return { firing: this.alerts.firing(), history }
  }

  trends(q: { target?: string; window: TrendWindow }) {
    const now = this.#o.now()
    const targets = q.target ? [q.target] : this.series.keys().filter((k) => !k.includes('|'))
    const ratios = this.alerts.baselineRatios()
    return targets.map((target) =>
      targetTrend({
        target,
        window: q.window,
        now,
        series: this.series,
        active: this.#o.activeHistory(target, now - TREND_WINDOWS[q.window].spanMs),
        baseline: Object.fromEntries(ratios.filter((r) => r.target === target).map((r) => [r.metric, r.ratio])),
      })
    )
  }

  recommendations() {
    const router = this.#o.config.router as unknown as Record<string, unknown>
    return recommendations({
      now: this.#o.now(),
      series: this.series,
      current: (s) => (typeof router[s] === 'string' ? router[s] as string : undefined),
    })
  }

  #requests(from: number, to: number): Map<string, number> {
    const out = new Map<string, number>()
    for (const k of this.series.keys()) {
      if (!k.includes('|')) {
        const n = this.series.total(k, { from, to }).requests
        if (n > 0) out.set(k, n)
      }
    }
    return out
  }

  #request(trace: RequestTrace): void {
    // A cache hit measured no upstream: it would only drag the baselines down.
    if (trace.cache === 'hit') return
    const u = trace.usage
    const ok = trace.status >= 200 && trace.status < 300 && trace.failure === undefined
    if (trace.experiment !== undefined) {
      this.experiments?.record(trace.experiment, {
        ok,
        ...(trace.durationMs !== undefined ? { latencyMs: trace.durationMs } : {}),
        ...(u ? { tokens: u.inputTokens + u.outputTokens } : {}),
        ...(trace.costUsd !== undefined ? { costUsd: trace.costUsd } : {}),
      })
    }
    if (!trace.target) return
    const at = this.#o.now()
    const ttft = trace.stream && ok ? trace.ttfbMs : undefined
    // Filled field by field (same keys, same order as before): spreads of optional parts cost an object each.
    const sample: { -readonly [K in keyof Sample]: Sample[K] } = { at, ok }
    if (trace.durationMs !== undefined) sample.latencyMs = trace.durationMs
    if (ttft !== undefined) sample.ttftMs = ttft
    if (u) {
      sample.outputTokens = u.outputTokens
      sample.inputTokens = u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens
    }
    if (trace.costUsd !== undefined) sample.costUsd = trace.costUsd
    const how = hourOfWeek(at)
    this.series.record(`${trace.scenario}|${trace.target}`, sample, how)
    // A failed request's failure was already counted per attempt (attemptFailed).
    if (!ok) return
    this.series.record(trace.target, sample, how)
    const gen = ttft !== undefined && trace.durationMs !== undefined ? trace.durationMs - ttft : 0
    const tps = u && u.outputTokens > 1 && gen > 0 ? ((u.outputTokens - 1) / gen) * 1000 : undefined
    if (this.config.enabled) {
      const observed: { -readonly [K in keyof TargetSample]: TargetSample[K] } = { target: trace.target, ok: true }
      if (sample.latencyMs !== undefined) observed.latencyMs = sample.latencyMs
      if (ttft !== undefined) observed.ttftMs = ttft
      if (tps !== undefined) observed.tokensPerSec = tps
      this.alerts.observe(observed)
    }
  }

  #attemptFailed(t: PlannedTarget, e: ProxyError): void {
    // Only what the upstream did counts: not the request's own fault, not our own admission
    // (an open breaker or a local rate limit skips the target without asking it).
    if (failureReasonOf(e) === 'client_error' || e.kind === 'rate_limited') return
    const at = this.#o.now()
    this.series.record(t.key, { at, ok: false }, hourOfWeek(at))
    if (this.config.enabled) this.alerts.observe({ target: t.key, ok: false })
  }

  #logEvent(e: AlertEvent): void {
    const a = e.alert
    const fields = {
      alert: a.rule,
      subject: a.subject,
      severity: a.severity,
      message: a.message,
      evidence: e.kind === 'fire' ? a.evidence : a.resolution,
    }
    if (e.kind === 'fire') this.#o.log.warn('alert firing', fields)
    else this.#o.log.info('alert resolved', fields)
  }

  #remember(a: Alert): void {
    if (this.#o.history) {
      try {
        this.#o.history.save(a)
      } catch (err) {
        this.#o.log.warn('alert history write failed', { error: err instanceof Error ? err.message : String(err) })
      }
      return
    }
    const i = this.#recent.findIndex((x) => x.id === a.id)
    if (i >= 0) this.#recent[i] = a
    else this.#recent.push(a)
    if (this.#recent.length > MEMORY_HISTORY) this.#recent.shift()
  }
}
