/**
 * Routing experiments (`Router.experiments`): each splits one scenario's traffic between
 * targets by percent, sticky per session (analysis/experiments.ts), and keeps per-arm figures
 * (requests, errors, latency, tokens, cost) with 95 % intervals. With `autoStop`, an arm whose
 * error rate or latency interval lies wholly above another running arm's, both past
 * `minSamples`, is stopped: its sessions move to the arms still running. The last running arm
 * is never stopped.
 */
import type { ExperimentConfig } from '../config/alerts.ts'
import type { RouterConfig, Scenario } from '../config/types.ts'
import type { ExperimentPick, ExperimentRouter } from '../deps.ts'
import { armAt, sessionPoint } from '../analysis/experiments.ts'
import {
  addSample,
  clearlyWorse,
  type Interval,
  meanInterval,
  type Moments,
  NO_MOMENTS,
  wilson,
} from '../analysis/intervals.ts'

/** One finished request of an arm. */
export interface ArmOutcome {
  readonly ok: boolean
  readonly latencyMs?: number
  readonly tokens?: number
  readonly costUsd?: number
}

interface ArmState {
  requests: number
  errors: number
  latency: Moments
  tokens: number
  costUsd: number
  /** Per request with known usage / known price, for their intervals. */
  tokensPer: Moments
  costPer: Moments
  stopped?: { at: number; reason: string }
}

export interface ArmReport {
  readonly name: string
  readonly target?: string
  readonly optimization?: string
  readonly percent: number
  readonly state: 'running' | 'stopped'
  readonly stopped_reason?: string
  readonly stopped_at?: number
  readonly requests: number
  readonly errors: number
  readonly error_rate?: Interval
  readonly latency_ms?: Interval
  readonly tokens: number
  readonly cost_usd: number
  readonly tokens_per_request?: Interval
  readonly cost_per_request_usd?: Interval
}

export interface ExperimentReport {
  readonly id: string
  readonly scenario: string
  readonly enabled: boolean
  readonly auto_stop: boolean
  readonly min_samples: number
  readonly arms: ArmReport[]
}

const opt = <K extends string>(k: K, v: Interval | undefined) => (v ? { [k]: v } as Record<K, Interval> : {})

export class Experiments implements ExperimentRouter {
  readonly #byScenario = new Map<string, ExperimentConfig>()
  readonly #byId = new Map<string, { cfg: ExperimentConfig; arms: Map<string, ArmState> }>()
  readonly #now: () => number
  readonly #log: (message: string, fields: Record<string, unknown>) => void

  /** Per strategy arm (`experiment/arm`), the Router it plans with: made once, so the plan's memo keeps working. */
  readonly #routers = new Map<string, RouterConfig>()

  constructor(
    configs: readonly ExperimentConfig[],
    opts: { router: RouterConfig; now: () => number; log?: (message: string, fields: Record<string, unknown>) => void },
  ) {
    this.#now = opts.now
    this.#log = opts.log ?? (() => {})
    for (const cfg of configs) {
      for (const a of cfg.arms) {
        if (a.optimization) this.#routers.set(`${cfg.id}/${a.name}`, { ...opts.router, optimization: a.optimization })
      }
      this.#byId.set(cfg.id, {
        cfg,
        arms: new Map(
          cfg.arms.map((
            a,
          ) => [a.name, {
            requests: 0,
            errors: 0,
            latency: NO_MOMENTS,
            tokens: 0,
            costUsd: 0,
            tokensPer: NO_MOMENTS,
            costPer: NO_MOMENTS,
          }]),
        ),
      })
      if (cfg.enabled) this.#byScenario.set(cfg.scenario, cfg)
    }
  }

  pick(q: { scenario: Scenario; sessionId?: string; random: () => number }): ExperimentPick | undefined {
    const cfg = this.#byScenario.get(q.scenario)
    if (!cfg) return undefined
    const state = this.#byId.get(cfg.id)!
    const stopped = new Set([...state.arms].filter(([, s]) => s.stopped).map(([n]) => n))
    const point = q.sessionId ? sessionPoint(cfg.id, q.sessionId) : q.random() * 100
    const arm = armAt(cfg.arms, point, stopped)
    if (!arm) return undefined
    const router = this.#routers.get(`${cfg.id}/${arm.name}`)
    return {
      experiment: cfg.id,
      arm: arm.name,
      ...(arm.target ? { target: arm.target } : {}),
      ...(router ? { router } : {}),
    }
  }

  /** Records a finished request of `experiment/arm` and applies the stop rule. */
  record(tag: string, o: ArmOutcome): void {
    const slash = tag.lastIndexOf('/')
    const exp = this.#byId.get(tag.slice(0, slash))
    const arm = exp?.arms.get(tag.slice(slash + 1))
    if (!exp || !arm) return
    arm.requests++
    if (!o.ok) arm.errors++
    else if (o.latencyMs !== undefined) arm.latency = addSample(arm.latency, o.latencyMs)
    arm.tokens += o.tokens ?? 0
    arm.costUsd += o.costUsd ?? 0
    if (o.tokens !== undefined) arm.tokensPer = addSample(arm.tokensPer, o.tokens)
    if (o.costUsd !== undefined) arm.costPer = addSample(arm.costPer, o.costUsd)
    if (exp.cfg.autoStop && !arm.stopped) this.#maybeStop(exp.cfg, exp.arms, tag.slice(slash + 1))
  }

  #maybeStop(cfg: ExperimentConfig, arms: Map<string, ArmState>, name: string): void {
    const a = arms.get(name)!
    const running = [...arms].filter(([, s]) => !s.stopped)
    if (running.length < 2) return
    const opts = { higherIsWorse: true, minSamples: cfg.minSamples }
    for (const [other, b] of running) {
      if (other === name) continue
      const errs = clearlyWorse(wilson(a.errors, a.requests), wilson(b.errors, b.requests), opts)
      const slow = clearlyWorse(meanInterval(a.latency), meanInterval(b.latency), opts)
      if (!errs && !slow) continue
      a.stopped = {
        at: this.#now(),
        reason: `${errs ? 'error rate' : 'latency'} clearly worse than arm ${other} (95 % intervals do not overlap)`,
      }
      this.#log('experiment arm stopped', { experiment: cfg.id, arm: name, reason: a.stopped.reason })
      return
    }
  }

  report(): ExperimentReport[] {
    return [...this.#byId.values()].map(({ cfg, arms }) => ({
      id: cfg.id,
      scenario: cfg.scenario,
      enabled: cfg.enabled,
      auto_stop: cfg.autoStop,
      min_samples: cfg.minSamples,
      arms: cfg.arms.map((c) => {
        const s = arms.get(c.name)!
        const err = wilson(s.errors, s.requests)
        const lat = meanInterval(s.latency)
        return {
          name: c.name,
          ...(c.target ? { target: c.target } : {}),
          ...(c.optimization ? { optimization: c.optimization } : {}),
          percent: c.percent,
          state: s.stopped ? 'stopped' : 'running',
          ...(s.stopped ? { stopped_reason: s.stopped.reason, stopped_at: s.stopped.at } : {}),
          requests: s.requests,
          errors: s.errors,
          ...opt('error_rate', err),
          ...opt('latency_ms', lat),
          tokens: s.tokens,
          cost_usd: s.costUsd,
          ...opt('tokens_per_request', meanInterval(s.tokensPer)),
          ...opt('cost_per_request_usd', meanInterval(s.costPer)),
        }
      }),
    }))
  }
}
