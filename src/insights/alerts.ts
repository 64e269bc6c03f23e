/**
 * The alert engine. Live samples (one per finished attempt) feed per-target detectors
 * (analysis/detectors.ts); `evaluate()` (on a timer, and after each sample for that target's
 * rules) steps every rule's hysteresis, so each alert fires once and resolves once, carrying
 * its evidence. Fired and resolved alerts go to the sinks (log, metrics, history, webhooks);
 * a sink that throws is ignored, so nothing here can fail a request. Rules and defaults:
 * docs/alerts.md.
 */
import { providerOf } from '../routing/candidates.ts'
import type { AlertRules } from '../config/alerts.ts'
import {
  DEFAULT_RATIO,
  type Hysteresis,
  hysteresis,
  HYSTERESIS_IDLE,
  RATIO_EMPTY,
  ratioDetector,
  type RatioParams,
  type RatioState,
  type RatioView,
  ratioView,
} from '../analysis/detectors.ts'

export const ALERT_RULES = [
  'latency_degraded',
  'ttft_degraded',
  'throughput_low',
  'success_rate_low',
  'breaker_open',
  'token_drift_critical',
  'perf_budget_low',
  'active_tests_failing',
  'routing_shift',
] as const
export type AlertRule = (typeof ALERT_RULES)[number]
export type Severity = 'warning' | 'critical'

export const SEVERITY: Readonly<Record<AlertRule, Severity>> = {
  latency_degraded: 'warning',
  ttft_degraded: 'warning',
  throughput_low: 'warning',
  success_rate_low: 'critical',
  breaker_open: 'critical',
  token_drift_critical: 'warning',
  perf_budget_low: 'warning',
  active_tests_failing: 'warning',
  routing_shift: 'warning',
}

/** Numbers and short strings only: the figures, the window and the baseline an alert was decided on. */
export type Evidence = Readonly<Record<string, number | string>>

export interface Alert {
  /** `rule:subject:firedAt`. */
  readonly id: string
  readonly rule: AlertRule
  /** The target, tier or `perf` the alert is about. */
  readonly subject: string
  readonly severity: Severity
  readonly state: 'firing' | 'resolved'
  readonly firedAt: number
  readonly resolvedAt?: number
  readonly message: string
  readonly evidence: Evidence
  /** The figures when it resolved. */
  readonly resolution?: Evidence
}

export interface AlertEvent {
  readonly kind: 'fire' | 'resolve'
  readonly alert: Alert
}

export interface AlertSink {
  deliver(e: AlertEvent): void
}

/** One finished upstream attempt of a target. */
export interface TargetSample {
  readonly target: string
  readonly ok: boolean
  readonly latencyMs?: number
  readonly ttftMs?: number
  readonly tokensPerSec?: number
}

/** What the time-based rules read, each optional (a rule whose input is missing never fires). */
export interface AlertInputs {
  breakers?(): Iterable<{ readonly target: string; readonly state: string; readonly retryInMs: number }>
  drift?(): {
    readonly tiers: Readonly<Record<string, { readonly lastPct: number; readonly samples: number }>>
    readonly warnPct: number
    readonly criticalPct: number
  }
  budget?(): { readonly limit: number; readonly used: number } | undefined
  activeRuns?(since: number): Iterable<{ readonly target: string; readonly ok: boolean }>
  /** Requests per target in `[from, to)`. */
  requests?(from: number, to: number): ReadonlyMap<string, number>
}

export interface AlertEngineOptions {
  readonly rules: AlertRules
  readonly now: () => number
  readonly inputs?: AlertInputs
  readonly sinks?: readonly AlertSink[]
  /** Which alerts fire and each rule's hysteresis, from an engine before (a reload); none when absent. */
  readonly memory?: AlertMemory
}

/** The config key of each rule (`Alerts.rules.<key>.enabled`). */
const RULE_CONFIG: Readonly<Record<AlertRule, keyof AlertRules>> = {
  latency_degraded: 'latency',
  ttft_degraded: 'ttft',
  throughput_low: 'throughput',
  success_rate_low: 'successRate',
  breaker_open: 'breaker',
  token_drift_critical: 'drift',
  perf_budget_low: 'budget',
  active_tests_failing: 'activeTests',
  routing_shift: 'routingShift',
}

/**
 * Which alerts fire, where each rule's hysteresis stands and each target's detectors (its
 * latency and TTFT baselines, its recent outcomes): handed from one engine to the next, so a
 * config reload neither fires again what fires already (a second webhook for one outage), nor
 * forgets to resolve it, nor resolves a ratio alert that still holds while cold baselines warm
 * up. Opaque outside this module.
 */
export class AlertMemory {
  /** @internal */
  readonly targets = new Map<string, TargetState>()
  /** @internal */
  readonly hyst = new Map<string, Hysteresis>()
  /** @internal */
  readonly heldRules = new Map<AlertRule, number>()
  /** @internal */
  readonly firing = new Map<string, Alert>()

  /** The ids of the alerts firing. */
  firingIds(): Set<string> {
    return new Set([...this.firing.values()].map((a) => a.id))
  }

  /**
   * Forgets the alerts of rules `rules` turns off (all of them when `alertsOn` is false): nothing
   * would ever step them again.
   */
  retainEnabled(rules: AlertRules, alertsOn = true): void {
    for (const key of new Set([...this.hyst.keys(), ...this.firing.keys()])) {
      const rule = key.slice(0, key.indexOf('\u0000')) as AlertRule
      if (alertsOn && rules[RULE_CONFIG[rule]]?.enabled !== false) continue
      if (this.hyst.delete(key)) {
        const n = (this.heldRules.get(rule) ?? 1) - 1
        if (n > 0) this.heldRules.set(rule, n)
        else this.heldRules.delete(rule)
      }
      this.firing.delete(key)
    }
  }

  /** Forgets the detectors of targets on `providers` (a reload removed them or pointed them elsewhere). */
  forgetProviders(providers: ReadonlySet<string>): void {
    for (const target of this.targets.keys()) if (providers.has(providerOf(target))) this.targets.delete(target)
  }
}

interface TargetState {
  latency: RatioState
  ttft: RatioState
  /** Fast EWMA of tokens/s. */
  tps?: number
  /** Ring of the last outcomes (1 ok, 0 failed). */
  readonly outcomes: Uint8Array
  next: number
  count: number
}

/** Targets with detector state kept at most. */
const MAX_TARGETS = 1024
const HOUR = 3_600_000
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d

export class AlertEngine {
  readonly #o: AlertEngineOptions
  readonly #targets: Map<string, TargetState>
  readonly #hyst: Map<string, Hysteresis>
  /** How many subjects of each rule have an entry in `#hyst` (a rule absent here holds none). */
  readonly #heldRules: Map<AlertRule, number>
  readonly #firing: Map<string, Alert>
  readonly #latency: RatioParams
  readonly #ttft: RatioParams

  constructor(o: AlertEngineOptions) {
    this.#o = o
    const memory = o.memory ?? new AlertMemory()
    memory.retainEnabled(o.rules)
    this.#hyst = memory.hyst
    this.#heldRules = memory.heldRules
    this.#firing = memory.firing
    this.#targets = memory.targets
    const ratio = (r: AlertRules['latency']): RatioParams => ({
      ...DEFAULT_RATIO,
      ratio: r.ratio,
      resolveRatio: r.resolveRatio,
      warmup: r.warmupSamples,
    })
    this.#latency = ratio(o.rules.latency)
    this.#ttft = ratio(o.rules.ttft)
  }

  /** Feeds one attempt into its target's detectors and evaluates that target's rules. */
  observe(s: TargetSample): void {
    const t = this.#state(s.target)
    if (!t) return
    const w = t.outcomes.length
    t.outcomes[t.next] = s.ok ? 1 : 0
    t.next = (t.next + 1) % w
    t.count = Math.min(w, t.count + 1)
    if (s.ok) {
      if (s.latencyMs !== undefined) t.latency = ratioDetector(t.latency, s.latencyMs, this.#latency)
      if (s.ttftMs !== undefined) t.ttft = ratioDetector(t.ttft, s.ttftMs, this.#ttft)
      if (s.tokensPerSec !== undefined && Number.isFinite(s.tokensPerSec)) {
        t.tps = t.tps === undefined ? s.tokensPerSec : t.tps + 0.3 * (s.tokensPerSec - t.tps)
      }
    }
    this.#evaluateTarget(s.target, t)
  }

  /** Steps every rule at the current time. */
  evaluate(): void {
    for (const [target, t] of this.#targets) this.#evaluateTarget(target, t)
    this.#breakers()
    this.#drift()
    this.#budget()
    this.#activeTests()
    this.#routingShift()
  }

  /** Alerts firing now, oldest first. */
  firing(): Alert[] {
    return [...this.#firing.values()].sort((a, b) => a.firedAt - b.firedAt)
  }

  /** Per target and metric, the current level over its baseline (1 until the baseline is seeded). */
  baselineRatios(): { target: string; metric: 'latency' | 'ttft'; ratio: number; baseline?: number }[] {
    return [...this.#targets].flatMap(([target, t]) =>
      ([['latency', t.latency, this.#latency], ['ttft', t.ttft, this.#ttft]] as const).map(([metric, s, p]) => {
        const v = ratioView(s, p)
        return v.ready ? { target, metric, ratio: v.ratio, baseline: v.baseline } : { target, metric, ratio: 1 }
      })
    )
  }

  #state(target: string): TargetState | undefined {
    let t = this.#targets.get(target)
    if (!t) {
      if (this.#targets.size >= MAX_TARGETS) return undefined
      t = {
        latency: RATIO_EMPTY,
        ttft: RATIO_EMPTY,
        outcomes: new Uint8Array(this.#o.rules.successRate.window),
        next: 0,
        count: 0,
      }
      this.#targets.set(target, t)
    }
    return t
  }

  /**
   * Runs for every finished request of a target. Nothing here makes a closure: a function
   * whose variables a closure captures allocates its scope on every call, even on the usual
   * path where no rule fires. The steps that build evidence and messages are methods of their own.
   */
  #evaluateTarget(target: string, t: TargetState): void {
    const r = this.#o.rules
    if (r.latency.enabled) this.#ratioRule(target, 'latency_degraded', t.latency)
    if (r.ttft.enabled) this.#ratioRule(target, 'ttft_degraded', t.ttft)
    const tp = r.throughput
    if (
      tp.enabled && tp.minTokensPerSec > 0 && t.tps !== undefined &&
      !this.#idle('throughput_low', t.tps < tp.minTokensPerSec)
    ) this.#throughputStep(target, t.tps)
    const sr = r.successRate
    if (sr.enabled) {
      const half = Math.ceil(t.outcomes.length / 2)
      let ok = 0
      for (let i = 0; i < t.count; i++) ok += t.outcomes[i]!
      const rate = t.count === 0 ? 1 : ok / t.count
      const fire = t.count >= half && rate < sr.min
      if (!this.#idle('success_rate_low', fire)) this.#successStep(target, t, { rate, fire })
    }
  }

  #throughputStep(target: string, tps: number): void {
    const tp = this.#o.rules.throughput
    this.#step(
      {
        rule: 'throughput_low',
        subject: target,
        fire: tps < tp.minTokensPerSec,
        clear: tps >= tp.minTokensPerSec * 1.2,
        minDurationMs: tp.minDurationMs,
      },
      () => ({
        metric: 'tokens_per_sec',
        value: round(tps),
        threshold: tp.minTokensPerSec,
        min_duration_ms: tp.minDurationMs,
        window: 'EWMA α=0.3 of streamed attempts',
      }),
      (e) => `${target} generates ${e.value} tokens/s, under the ${e.threshold} tokens/s threshold`,
    )
  }

  #successStep(target: string, t: TargetState, { rate, fire }: { rate: number; fire: boolean }): void {
    const sr = this.#o.rules.successRate
    this.#step(
      {
        rule: 'success_rate_low',
        subject: target,
        fire,
        clear: rate >= sr.resolveAt,
        minDurationMs: sr.minDurationMs,
      },
      () => ({
        metric: 'success_rate',
        value: round(rate, 3),
        threshold: sr.min,
        resolve_at: sr.resolveAt,
        samples: t.count,
        window: `last ${t.outcomes.length} attempts`,
      }),
      (e) =>
        `success rate of ${target} is ${
          round(Number(e.value) * 100)
        } % over its last ${e.samples} attempts (threshold ${round(sr.min * 100)} %)`,
    )
  }

  /**
   * One of the two ratio rules (latency, TTFT) of a target (enabled). A detector that is not
   * alarmed cannot be degraded, so with nothing held for the rule there is nothing to step and
   * no view to compute.
   */
  #ratioRule(target: string, rule: 'latency_degraded' | 'ttft_degraded', s: RatioState): void {
    if (!s.alarmed && !this.#heldRules.has(rule)) return
    const p = rule === 'latency_degraded' ? this.#latency : this.#ttft
    const v = ratioView(s, p)
    if (!this.#idle(rule, v.degraded)) this.#ratioStep(target, rule, { s, v, p })
  }

  #ratioStep(
    target: string,
    rule: 'latency_degraded' | 'ttft_degraded',
    { s, v, p }: { s: RatioState; v: RatioView; p: RatioParams },
  ): void {
    const latency = rule === 'latency_degraded'
    const cfg = latency ? this.#o.rules.latency : this.#o.rules.ttft
    const unit = latency ? 'latency' : 'TTFT'
    this.#step(
      { rule, subject: target, fire: v.degraded, clear: v.recovered, minDurationMs: cfg.minDurationMs },
      () => ({
        metric: `${unit.toLowerCase()}_ms`,
        value_ms: round(v.current),
        baseline_ms: round(v.baseline),
        ratio: round(v.ratio, 2),
        fire_ratio: p.ratio,
        resolve_ratio: p.resolveRatio,
        samples: s.n,
        min_duration_ms: cfg.minDurationMs,
        window: `EWMA α=${p.fastAlpha} vs baseline EWMA α=${p.baselineAlpha} (Page–Hinkley δ=${
          round(p.ph.delta, 3)
        } λ=${p.ph.lambda})`,
      }),
      (e) => `${unit} of ${target} is ${e.ratio}× its baseline (${e.value_ms} ms vs ${e.baseline_ms} ms)`,
    )
  }

  /**
   * Nothing to step: the rule does not fire and holds no state for any subject (what `#step`
   * would find out after building its key). Checked first so a healthy request allocates nothing.
   */
  #idle(rule: AlertRule, fire: boolean): boolean {
    return !fire && !this.#heldRules.has(rule)
  }

  #breakers(): void {
    if (!this.#o.rules.breaker.enabled || !this.#o.inputs?.breakers) return
    for (const b of this.#o.inputs.breakers()) {
      this.#step(
        {
          rule: 'breaker_open',
          subject: b.target,
          fire: b.state === 'open',
          clear: b.state === 'closed',
          minDurationMs: 0,
        },
        () => ({ state: b.state, retry_in_ms: round(b.retryInMs, 0) }),
        () => `circuit breaker of ${b.target} is open`,
      )
    }
  }

  #drift(): void {
    const cfg = this.#o.rules.drift
    const d = cfg.enabled ? this.#o.inputs?.drift?.() : undefined
    if (!d) return
    for (const [tier, s] of Object.entries(d.tiers)) {
      const abs = Math.abs(s.lastPct)
      // Too few samples to call it drift: never fires (one short prompt is off by a few framing tokens).
      const enough = s.samples >= cfg.minSamples
      this.#step(
        {
          rule: 'token_drift_critical',
          subject: tier,
          fire: enough && abs >= d.criticalPct,
          clear: abs < d.warnPct,
          minDurationMs: 0,
        },
        () => ({
          metric: 'drift_pct',
          value: round(s.lastPct),
          critical_pct: d.criticalPct,
          warn_pct: d.warnPct,
          samples: s.samples,
          min_samples: cfg.minSamples,
          window: 'last request',
        }),
        (e) => `token estimate of ${tier} is off by ${e.value} % (critical at ${d.criticalPct} %)`,
      )
    }
  }

  #budget(): void {
    const cfg = this.#o.rules.budget
    const b = cfg.enabled ? this.#o.inputs?.budget?.() : undefined
    if (!b || b.limit <= 0) return
    const used = b.used / b.limit
    this.#step(
      {
        rule: 'perf_budget_low',
        subject: 'perf',
        fire: used >= cfg.fireAt,
        clear: used < cfg.resolveAt,
        minDurationMs: 0,
      },
      () => ({
        metric: 'budget_used_fraction',
        value: round(used, 3),
        used_tokens: b.used,
        limit_tokens: b.limit,
        fire_at: cfg.fireAt,
        window: 'today (UTC)',
      }),
      (e) =>
        `active tests have spent ${round(Number(e.value) * 100)} % of today's token budget (${b.used} of ${b.limit})`,
    )
  }

  #activeTests(): void {
    const cfg = this.#o.rules.activeTests
    if (!cfg.enabled || !this.#o.inputs?.activeRuns) return
    const now = this.#o.now()
    const per = new Map<string, { runs: number; failed: number }>()
    for (const r of this.#o.inputs.activeRuns(now - HOUR)) {
      const c = per.get(r.target) ?? { runs: 0, failed: 0 }
      c.runs++
      if (!r.ok) c.failed++
      per.set(r.target, c)
    }
    // Targets with an alert but no runs in the hour resolve (nothing is failing any more).
    for (const a of this.#firing.values()) {
      if (a.rule === 'active_tests_failing' && !per.has(a.subject)) per.set(a.subject, { runs: 0, failed: 0 })
    }
    for (const [target, c] of per) {
      const rate = c.runs === 0 ? 0 : c.failed / c.runs
      this.#step(
        {
          rule: 'active_tests_failing',
          subject: target,
          fire: c.runs >= cfg.minRuns && rate > cfg.maxFailureRate,
          clear: rate <= cfg.maxFailureRate / 2,
          minDurationMs: 0,
        },
        () => ({
          metric: 'failure_rate',
          value: round(rate, 3),
          runs: c.runs,
          failed: c.failed,
          threshold: cfg.maxFailureRate,
          window: 'last hour',
        }),
        (e) => `${e.failed} of ${e.runs} active test runs of ${target} failed in the last hour`,
      )
    }
  }

  #routingShift(): void {
    const cfg = this.#o.rules.routingShift
    if (!cfg.enabled || !this.#o.inputs?.requests) return
    const now = this.#o.now()
    const w = cfg.minutes * 60_000
    const before = this.#o.inputs.requests(now - 2 * w, now - w)
    const after = this.#o.inputs.requests(now - w, now)
    const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
    const nb = sum(before)
    const na = sum(after)
    const enough = nb >= cfg.minRequests && na >= cfg.minRequests
    for (const target of new Set([...before.keys(), ...after.keys()])) {
      const sb = nb === 0 ? 0 : (100 * (before.get(target) ?? 0)) / nb
      const sa = na === 0 ? 0 : (100 * (after.get(target) ?? 0)) / na
      const moved = Math.abs(sa - sb)
      this.#step(
        {
          rule: 'routing_shift',
          subject: target,
          fire: enough && moved >= cfg.points,
          clear: !enough || moved < cfg.points / 2,
          minDurationMs: 0,
        },
        () => ({
          metric: 'traffic_share_pct',
          before_pct: round(sb),
          after_pct: round(sa),
          moved_points: round(moved),
          threshold_points: cfg.points,
          requests_before: nb,
          requests_after: na,
          window: `${cfg.minutes} min vs the ${cfg.minutes} min before`,
        }),
        (e) => `traffic share of ${target} moved from ${e.before_pct} % to ${e.after_pct} % within ${cfg.minutes} min`,
      )
    }
  }

  #step(
    c: { rule: AlertRule; subject: string; fire: boolean; clear: boolean; minDurationMs: number },
    evidence: () => Evidence,
    message: (e: Evidence) => string,
  ): void {
    const key = `${c.rule}\u0000${c.subject}`
    const held = this.#hyst.get(key)
    // The common case, every request on a healthy target: idle and not firing stays idle, no event.
    if (held === undefined && !c.fire) return
    const now = this.#o.now()
    const prev = held ?? HYSTERESIS_IDLE
    const { state, event } = hysteresis(prev, { fire: c.fire, clear: c.clear, now }, c.minDurationMs)
    if (!state.firing && state.since === undefined) {
      if (held !== undefined) this.#held(c.rule, -1)
      this.#hyst.delete(key)
    } else {
      if (held === undefined) this.#held(c.rule, 1)
      this.#hyst.set(key, state)
    }
    if (event === 'fire') {
      const e = evidence()
      const alert: Alert = {
        id: `${c.rule}:${c.subject}:${Math.round(now)}`,
        rule: c.rule,
        subject: c.subject,
        severity: SEVERITY[c.rule],
        state: 'firing',
        firedAt: now,
        message: message(e),
        evidence: e,
      }
      this.#firing.set(key, alert)
      this.#emit({ kind: 'fire', alert })
    } else if (event === 'resolve') {
      const was = this.#firing.get(key)
      this.#firing.delete(key)
      if (was) {
        this.#emit({ kind: 'resolve', alert: { ...was, state: 'resolved', resolvedAt: now, resolution: evidence() } })
      }
    }
  }

  #held(rule: AlertRule, by: 1 | -1): void {
    const n = (this.#heldRules.get(rule) ?? 0) + by
    if (n > 0) this.#heldRules.set(rule, n)
    else this.#heldRules.delete(rule)
  }

  #emit(e: AlertEvent): void {
    for (const s of this.#o.sinks ?? []) {
      try {
        s.deliver(e)
      } catch {
        // A sink's failure is its own: the next sink still gets the alert.
      }
    }
  }
}
