/**
 * The active performance testing engine: runs jobs of tests against targets under its own
 * concurrency limit and daily token budget, records every run in the performance store, and
 * re-runs all tests every `testIntervalMinutes` when enabled. Clock and timers are injected.
 */
import type { PerformanceConfig } from '../config/types.ts'
import { ProbeGate, realScheduler } from './gate.ts'
import type { Scheduler, SharedBudget } from './gate.ts'
import { Semaphore } from './semaphore.ts'
import { runTest } from './run-test.ts'
import { TEST_TYPES } from './types.ts'
import type { ProbeSender, RunRecord, TestResult, TestType } from './types.ts'
import { timerDelay } from '../lib/clock.ts'

/** Where finished runs go (the PerformanceStore satisfies it). */
export interface RunSink {
  recordRuns(runs: readonly RunRecord[]): void
  prune(): number
  /** Tokens (input + output) of runs since an instant: today's spend survives a restart. */
  tokensSince?(since: number): number
}

export interface PerfEngineOptions {
  readonly config: PerformanceConfig
  /** Every configured `provider,model`; tested when `config.models` is empty. */
  readonly targets: readonly string[]
  readonly sender: ProbeSender
  readonly store?: RunSink
  readonly now: () => number
  readonly scheduler?: Scheduler
  /** Rounds per test (default: config.minTestCount, at least 1). */
  readonly runsPerTest?: number
  /** Parallel requests of the `concurrent` test (default 4). */
  readonly concurrency?: number
  /** Finished jobs kept for GET /performance/test/{id} (default 50). */
  readonly keepJobs?: number
  /** Delay of the first scheduled run after start() (default: one interval; 0 tests at once). */
  readonly firstRunDelayMs?: number
  /**
   * Fleet mode: whether this instance holds the fleet's test-schedule lease. Scheduled runs
   * happen on the leader only; absent, this instance always runs its schedule.
   */
  readonly leader?: () => boolean
  /** Fleet mode: the daily token budget every instance's tests spend together. */
  readonly sharedBudget?: SharedBudget
  /** Called after each finished test (the CLI's progress bar). */
  readonly onResult?: (job: JobView, result: TestResult) => void
  readonly log?: (message: string) => void
}

export type JobStatus = 'running' | 'done' | 'stopped'

export interface JobView {
  readonly id: string
  readonly status: JobStatus
  readonly trigger: 'manual' | 'schedule'
  readonly createdAt: number
  readonly finishedAt?: number
  readonly models: readonly string[]
  readonly types: readonly TestType[]
  readonly progress: { readonly done: number; readonly total: number }
  readonly results: readonly TestResult[]
}

export interface EngineHealth {
  readonly state: 'disabled' | 'idle' | 'running' | 'stopped'
  readonly enabled: boolean
  readonly lastRunAt?: number
  readonly lastJobId?: string
  readonly nextRunAt?: number
  readonly runningJobs: number
  readonly inFlightRequests: number
  readonly budget: ReturnType<ProbeGate['budget']>
}

type Job = { -readonly [K in keyof JobView]: JobView[K] } & { done?: Promise<JobView> }

/** Runs performance test jobs, on demand and on a schedule. */
export class PerfEngine {
  readonly #o: PerfEngineOptions
  readonly #gate: ProbeGate
  readonly #sem: Semaphore
  readonly #sched: Scheduler
  readonly #jobs = new Map<string, Job>()
  #seq = 0
  #timer: unknown
  #nextRunAt: number | undefined
  #lastRunAt: number | undefined
  #lastJobId: string | undefined
  #stopped = false

  constructor(o: PerfEngineOptions) {
    this.#o = o
    this.#sched = o.scheduler ?? realScheduler
    this.#sem = new Semaphore(o.config.maxConcurrentTests)
    this.#gate = new ProbeGate({
      sender: o.sender,
      now: o.now,
      scheduler: this.#sched,
      dailyTokenBudget: o.config.dailyTokenBudget,
      timeoutMs: o.config.testTimeoutSeconds * 1000,
      spentToday: o.store?.tokensSince?.(startOfUtcDay(o.now())) ?? 0,
      ...(o.sharedBudget ? { shared: o.sharedBudget } : {}),
    })
  }

  /** The targets a job tests by default: config `models`, else every configured target. */
  defaultModels(): readonly string[] {
    return this.#o.config.models.length > 0 ? this.#o.config.models : this.#o.targets
  }

  /** Problems with a job request (unknown targets or types); empty when it may start. */
  validate(req: { models?: readonly string[]; types?: readonly string[] }): string[] {
    const known = new Set([...this.#o.targets, ...this.#o.config.models])
    const issues = (req.models ?? []).filter((m) => !known.has(m)).map((m) =>
      `unknown model "${m}": expected a configured "provider,model"`
    )
    const types = new Set<string>(TEST_TYPES)
    return issues.concat(
      (req.types ?? []).filter((t) => !types.has(t)).map((t) =>
        `unknown test type "${t}": expected one of ${TEST_TYPES.join(', ')}`
      ),
    )
  }

  /** Start a job in the background and return its id at once. */
  startJob(
    req: { models?: readonly string[]; types?: readonly TestType[] } = {},
    trigger: JobView['trigger'] = 'manual',
  ): string {
    const models = [...new Set(req.models && req.models.length > 0 ? req.models : this.defaultModels())]
    const types = req.types && req.types.length > 0 ? TEST_TYPES.filter((t) => req.types?.includes(t)) : [...TEST_TYPES]
    const id = `perf_${this.#o.now().toString(36)}_${(++this.#seq).toString(36)}`
    const job: Job = {
      id,
      status: 'running',
      trigger,
      createdAt: this.#o.now(),
      models,
      types,
      progress: { done: 0, total: models.length * types.length },
      results: [],
    }
    this.#jobs.set(id, job)
    this.#lastRunAt = job.createdAt
    this.#lastJobId = id
    job.done = this.#run(job)
    this.#trimJobs()
    return id
  }

  /** A job's status and results so far, or undefined for an unknown (or forgotten) id. */
  job(id: string): JobView | undefined {
    const j = this.#jobs.get(id)
    return j ? view(j) : undefined
  }

  /** Resolves when the job has finished. */
  async waitJob(id: string): Promise<JobView | undefined> {
    return this.#jobs.get(id)?.done
  }

  /** Begin scheduled runs (when enabled); the first comes after `firstRunDelayMs` (default one interval). */
  start(): void {
    this.#stopped = false
    this.#gate.resume()
    if (this.#o.config.enabled) this.#arm(this.#o.firstRunDelayMs)
  }

  /**
   * Stop scheduling and abort tests in flight; running jobs end as `stopped`. Resolves once they
   * have ended (their last results recorded), so the stores they write may be closed after it.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#sched.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#nextRunAt = undefined
    this.#gate.stop()
    await Promise.allSettled(
      [...this.#jobs.values()].flatMap((j) => (j.status === 'running' && j.done ? [j.done] : [])),
    )
  }

  /** Engine state for GET /health/performance. */
  health(): EngineHealth {
    const runningJobs = [...this.#jobs.values()].filter((j) => j.status === 'running').length
    const state = this.#stopped ? 'stopped' : runningJobs > 0 ? 'running' : this.#o.config.enabled ? 'idle' : 'disabled'
    return {
      state,
      enabled: this.#o.config.enabled,
      runningJobs,
      inFlightRequests: this.#gate.inFlight(),
      budget: this.#gate.budget(),
      ...(this.#lastRunAt !== undefined ? { lastRunAt: this.#lastRunAt } : {}),
      ...(this.#lastJobId !== undefined ? { lastJobId: this.#lastJobId } : {}),
      ...(this.#nextRunAt !== undefined ? { nextRunAt: this.#nextRunAt } : {}),
    }
  }

  #arm(delayMs?: number): void {
    const wait = Math.max(0, delayMs ?? Math.max(1, this.#o.config.testIntervalMinutes) * 60_000)
    this.#nextRunAt = this.#o.now() + wait
    this.#timer = this.#sched.setTimeout(() => this.#onTick(), timerDelay(wait))
  }

  #onTick(): void {
    if (this.#stopped) return
    this.#o.store?.prune()
    // A slow scheduled job is not stacked on itself: skip this tick and try at the next.
    const busy = [...this.#jobs.values()].some((j) => j.status === 'running' && j.trigger === 'schedule')
    if (busy) this.#o.log?.('Skipped a scheduled performance run as the previous one is still running')
    else if (this.#o.leader && !this.#o.leader()) {
      this.#o.log?.('Skipped a scheduled performance run: another instance of the fleet leads the schedule')
    } else this.startJob({}, 'schedule')
    this.#arm()
  }

  async #run(job: Job): Promise<JobView> {
    const runs = Math.max(1, this.#o.runsPerTest ?? this.#o.config.minTestCount)
    const tasks = job.models.flatMap((target) => job.types.map((type) => ({ target, type })))
    await Promise.all(tasks.map(({ target, type }) =>
      this.#sem.run(async () => {
        const result = await runTest(type, target, {
          send: this.#gate.send,
          now: this.#o.now,
          runs,
          maxTokens: this.#o.config.maxTokensPerTest,
          ...(this.#o.concurrency !== undefined ? { concurrency: this.#o.concurrency } : {}),
        })
        this.#finishTest(job, result)
      })
    ))
    job.status = job.results.some((r) => r.stoppedReason !== undefined) || this.#stopped ? 'stopped' : 'done'
    job.finishedAt = this.#o.now()
    return view(job)
  }

  #finishTest(job: Job, result: TestResult): void {
    job.results = [...job.results, result]
    job.progress = { done: job.progress.done + 1, total: job.progress.total }
    try {
      if (result.runs.length > 0) this.#o.store?.recordRuns(result.runs)
    } catch (e) {
      this.#o.log?.(`Cannot record performance runs of ${result.target}: ${e instanceof Error ? e.message : String(e)}`)
    }
    this.#o.onResult?.(view(job), result)
  }

  #trimJobs(): void {
    const keep = this.#o.keepJobs ?? 50
    for (const [id, j] of this.#jobs) {
      if (this.#jobs.size <= keep) break
      if (j.status !== 'running') this.#jobs.delete(id)
    }
  }
}

function startOfUtcDay(now: number): number {
  return now - (((now % 86_400_000) + 86_400_000) % 86_400_000)
}

function view(j: Job): JobView {
  const { done: _done, ...rest } = j
  return { ...rest, progress: { ...rest.progress }, results: [...rest.results] }
}
