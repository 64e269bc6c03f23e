/**
 * Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 */

/** What rendering reads of one labelled series (the registry's `Series` has this shape). */
export interface Series {
  readonly labelValues: readonly string[]
  readonly value: number
  /** Histograms: per-bucket (non-cumulative) counts, last slot is +Inf. */
  readonly buckets: Float64Array | undefined
  readonly sum: number
  readonly count: number
}

/** What rendering reads of one metric family; declared here so the format does not depend on the registry. */
export interface Family {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly labelNames: readonly string[]
  readonly bucketBounds: readonly number[] | undefined
  readonly series: { values(): Iterable<Series> }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Label values escape backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text escapes backslash and newline only. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** Go-style float formatting: +Inf, -Inf, NaN, else the shortest round-trip decimal. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return Number.isNaN(v) ? 'NaN' : String(v)
}

function labelSet(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`)
  if (extra !== undefined) parts.push(extra)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function histogramLines(f: Family, s: Series): string {
  const bounds = f.bucketBounds ?? []
  let out = ''
  let cumulative = 0
  for (let i = 0; i <= bounds.length; i++) {
    cumulative += s.buckets?.[i] ?? 0
    const le = i < bounds.length ? formatValue(bounds[i] ?? Infinity) : '+Inf'
    out += `${f.name}_bucket${labelSet(f.labelNames, s.labelValues, `le="${le}"`)} ${formatValue(cumulative)}\n`
  }
  const ls = labelSet(f.labelNames, s.labelValues)
  return `${out}${f.name}_sum${ls} ${formatValue(s.sum)}\n${f.name}_count${ls} ${formatValue(s.count)}\n`
}

/** HELP, TYPE and every series of one family. */
export function renderFamily(f: Family): string {
  let out = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`
  for (const s of f.series.values()) {
    out += f.type === 'histogram'
      ? histogramLines(f, s)
      : `${f.name}${labelSet(f.labelNames, s.labelValues)} ${formatValue(s.value)}\n`
  }
  return out
}
