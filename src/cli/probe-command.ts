/**
 * `switchyard probe`: run the performance tests once against the configured targets and print
 * a table, with a progress bar, without starting the server. The lead wires argv to this.
 */
import { configuredTargets } from '../config/targets.ts'
import type { Config } from '../config/types.ts'
import { systemClock } from '../lib/clock.ts'
import { PerfEngine } from '../perf/engine.ts'
import type { RunSink } from '../perf/engine.ts'
import type { Scheduler } from '../perf/gate.ts'
import { TEST_TYPES } from '../perf/types.ts'
import type { ProbeSender, TestResult, TestType } from '../perf/types.ts'

export interface ProbeCommandOptions {
  readonly config: Config
  readonly sender: ProbeSender
  readonly models?: readonly string[]
  readonly type?: TestType
  readonly out: (line: string) => void
  readonly isTTY: boolean
  readonly now?: () => number
  readonly scheduler?: Scheduler
  /** Record the runs too (e.g. the proxy's performance store); default: print only. */
  readonly store?: RunSink
}

/** A fixed-width progress bar: `[#####-----] 3/8`. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.round((done / total) * width) : width
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`
}

const fmt = (x: number | undefined, digits = 0): string => (x === undefined ? '-' : x.toFixed(digits))

/** The result table: one row per target and test type, columns aligned. */
export function resultTable(results: readonly TestResult[]): string[] {
  const head = ['target', 'test', 'runs', 'ok %', 'p50 ms', 'p95 ms', 'p99 ms', 'ttft p50', 'tok/s', 'note']
  const rows = results.map((r) => [
    r.target,
    r.type,
    String(r.runs.length),
    fmt(r.successRate * 100),
    fmt(r.latencyMs?.p50),
    fmt(r.latencyMs?.p95),
    fmt(r.latencyMs?.p99),
    fmt(r.ttftMs?.p50),
    fmt(r.tokensPerSec?.mean, 1),
    r.stoppedReason ?? (r.runs.find((x) => !x.ok)?.error ?? ''),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(
      '  ',
    ).trimEnd()
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
}

/**
 * Run the tests once and print the table. Exit code 0 when every test had a successful run
 * and none was cut short, 1 otherwise, 2 for an unusable request (unknown model).
 */
export async function runProbeCommand(opts: ProbeCommandOptions): Promise<number> {
  const targets = configuredTargets(opts.config)
  let last = ''
  const engine = new PerfEngine({
    config: opts.config.performance,
    targets,
    sender: opts.sender,
    now: opts.now ?? systemClock(),
    ...(opts.scheduler ? { scheduler: opts.scheduler } : {}),
    ...(opts.store ? { store: opts.store } : {}),
    onResult: (job, result) => {
      const bar = `${progressBar(job.progress.done, job.progress.total)} ${result.target} ${result.type}`
      // On a terminal, redraw the bar in place (cursor up, clear line); in a log, one line per step.
      opts.out(opts.isTTY && last !== '' ? `\x1b[1A\x1b[2K${bar}` : bar)
      last = bar
    },
  })
  const issues = engine.validate({
    ...(opts.models ? { models: opts.models } : {}),
    ...(opts.type ? { types: [opts.type] } : {}),
  })
  if (issues.length > 0 || engine.defaultModels().length + (opts.models?.length ?? 0) === 0) {
    opts.out(`Cannot probe: ${issues.length > 0 ? issues.join('; ') : 'no provider models are configured'}`)
    return 2
  }
  const types = opts.type ? [opts.type] : [...TEST_TYPES]
  opts.out(
    `Probing ${(opts.models?.length ? opts.models : engine.defaultModels()).length} target(s) with ${
      types.join(', ')
    } tests`,
  )
  const job = await engine.waitJob(engine.startJob({ ...(opts.models ? { models: opts.models } : {}), types }))
  const results = [...(job?.results ?? [])].sort((a, b) =>
    a.target.localeCompare(b.target) || types.indexOf(a.type) - types.indexOf(b.type)
  )
  for (const l of resultTable(results)) opts.out(l)
  const budget = engine.health().budget
  opts.out(`Tokens spent: ${budget.used} (test budget ${budget.limit} a day)`)
  return results.every((r) => r.successRate > 0 && r.stoppedReason === undefined) ? 0 : 1
}
