/**
 * GET /metrics/performance as Prometheus text exposition (format 0.0.4). Pure: it renders
 * what the store and the engine report, nothing else.
 */
import type { TargetMetrics } from './aggregate.ts'
import type { EngineHealth } from './engine.ts'

type Labels = Readonly<Record<string, string>>
interface Family {
  readonly name: string
  readonly help: string
  readonly type: 'gauge' | 'counter'
  readonly samples: [Labels, number | undefined][]
}

/** Escape a label value as the exposition format requires (backslash, quote, newline). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function renderFamily(f: Family): string[] {
  const rows = f.samples.filter((s): s is [Labels, number] => s[1] !== undefined && Number.isFinite(s[1]))
  if (rows.length === 0) return []
  const line = ([labels, v]: [Labels, number]): string => {
    const ls = Object.entries(labels).map(([k, x]) => `${k}="${escapeLabel(x)}"`).join(',')
    return `${f.name}${ls ? `{${ls}}` : ''} ${v}`
  }
  return [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...rows.map(line)]
}

/** Performance metrics per target plus engine state, as Prometheus text. */
export function renderPerformanceMetrics(
  metrics: readonly TargetMetrics[],
  health: EngineHealth,
  scores: Readonly<Record<string, number>> = {},
): string {
  const t = (m: TargetMetrics): Labels => ({ target: m.target, provider: m.provider, model: m.model })
  const per = (f: (m: TargetMetrics) => number | undefined): [Labels, number | undefined][] =>
    metrics.map((m) => [t(m), f(m)])
  const families: Family[] = [
    {
      name: 'switchyard_perf_latency_ms',
      help: 'Active test latency per target (avg, p95, p99 over recent runs)',
      type: 'gauge',
      samples: metrics.flatMap((m) =>
        [[{ ...t(m), stat: 'avg' }, m.avgLatencyMs], [{ ...t(m), stat: 'p95' }, m.p95LatencyMs], [{
          ...t(m),
          stat: 'p99',
        }, m.p99LatencyMs]] as [Labels, number | undefined][]
      ),
    },
    {
      name: 'switchyard_perf_ttft_ms',
      help: 'Active test mean time to first token per target',
      type: 'gauge',
      samples: per((m) => m.avgTtftMs),
    },
    {
      name: 'switchyard_perf_tokens_per_second',
      help: 'Active test mean output tokens per second per target',
      type: 'gauge',
      samples: per((m) => m.tokensPerSec),
    },
    {
      name: 'switchyard_perf_success_ratio',
      help: 'Share of successful test runs per target',
      type: 'gauge',
      samples: per((m) => m.successRate),
    },
    {
      name: 'switchyard_perf_test_runs',
      help: 'Test runs the per-target figures come from',
      type: 'gauge',
      samples: per((m) => m.testCount),
    },
    {
      name: 'switchyard_perf_last_tested_seconds',
      help: 'Unix time of the newest test run per target',
      type: 'gauge',
      samples: per((m) => m.lastTested / 1000),
    },
    {
      name: 'switchyard_perf_score',
      help: 'Combined performance score per target (0 to 1)',
      type: 'gauge',
      samples: per((m) => scores[m.target]),
    },
    {
      name: 'switchyard_perf_budget_remaining_tokens',
      help: "Tokens left in today's test budget",
      type: 'gauge',
      samples: [[{}, health.budget.remaining]],
    },
    {
      name: 'switchyard_perf_budget_used_tokens',
      help: 'Tokens spent by tests today',
      type: 'gauge',
      samples: [[{}, health.budget.used]],
    },
    {
      name: 'switchyard_perf_running_jobs',
      help: 'Performance test jobs running now',
      type: 'gauge',
      samples: [[{}, health.runningJobs]],
    },
    {
      name: 'switchyard_perf_next_run_seconds',
      help: 'Unix time of the next scheduled run',
      type: 'gauge',
      samples: [[{}, health.nextRunAt === undefined ? undefined : health.nextRunAt / 1000]],
    },
  ]
  return families.flatMap(renderFamily).join('\n') + '\n'
}
