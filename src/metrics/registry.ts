/**
 * A small metrics registry: counters, gauges and fixed-bucket histograms with pre-resolved
 * label handles. Resolve a handle once (`requests.labels('tier-0')`, cached in a Map) and the
 * hot path is `handle.inc()`: no label strings built, nothing allocated. Each label keeps at
 * most `maxLabelValues` distinct values; later values share one `other` series, so a client
 * that sends random model names cannot grow /metrics without bound.
 */
import { renderFamily } from './exposition.ts'

export type MetricType = 'counter' | 'gauge' | 'histogram'

export const OVERFLOW_LABEL = 'other'

/** One labelled series. Counters only go up; gauges may `set`; histograms `observe`. */
export interface Series {
  readonly labelValues: readonly string[]
  value: number
  /** Histograms: per-bucket (non-cumulative) counts, last slot is +Inf. */
  readonly buckets: Float64Array | undefined
  sum: number
  count: number
}

export interface MetricOptions {
  readonly labelNames?: readonly string[]
  /** Distinct values kept per label before overflowing into `other`; default 64. */
  readonly maxLabelValues?: number
}

/** The state of one metric family, shared by its handles. */
export class Family {
  readonly series = new Map<string, Series>()
  readonly #seen: Set<string>[]
  readonly #max: number

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
    readonly bucketBounds: readonly number[] | undefined,
    maxLabelValues: number,
  ) {
    this.#seen = labelNames.map(() => new Set<string>())
    this.#max = maxLabelValues
  }

  /** The series for these label values (capped per label), created on first use. */
  resolve(values: readonly string[]): { series: Series; overflowed: boolean } {
    let overflowed = false
    const capped = values.map((v, i) => {
      const c = this.#cap(i, v)
      if (c !== v) overflowed = true
      return c
    })
    const key = capped.join('\u0001')
    let series = this.series.get(key)
    if (series === undefined) {
      const buckets = this.bucketBounds === undefined ? undefined : new Float64Array(this.bucketBounds.length + 1)
      series = { labelValues: capped, value: 0, buckets, sum: 0, count: 0 }
      this.series.set(key, series)
    }
    return { series, overflowed }
  }

  /** Forgets every series (and the values seen per label): for gauges set afresh at each scrape. */
  clear(): void {
    this.series.clear()
    for (const seen of this.#seen) seen.clear()
  }

  #cap(i: number, v: string): string {
    const seen = this.#seen[i]
    if (seen === undefined || seen.has(v)) return v
    if (seen.size >= this.#max) return OVERFLOW_LABEL
    seen.add(v)
    return v
  }
}

abstract class Metric<H> {
  readonly #handles = new Map<string, H>()
  readonly #bySeries = new Map<Series, H>()
  protected readonly family: Family

  constructor(family: Family) {
    this.family = family
    if (family.labelNames.length === 0) this.labels()
  }

  protected abstract make(series: Series): H

  /** The handle for these label values; cached, so calling it again allocates nothing. */
  labels(...values: string[]): H {
    const key = values.length === 1 ? (values[0] ?? '') : values.join('\u0001')
    const cached = this.#handles.get(key)
    if (cached !== undefined) return cached
    if (values.length !== this.family.labelNames.length) {
      throw new Error(
        `Cannot resolve ${this.family.name}: expected labels (${
          this.family.labelNames.join(', ')
        }), got ${values.length} values`,
      )
    }
    const { series, overflowed } = this.family.resolve(values)
    let h = this.#bySeries.get(series)
    if (h === undefined) {
      h = this.make(series)
      this.#bySeries.set(series, h)
    }
    // Overflowed values are not cached under their own key, so the cache stays bounded too.
    if (!overflowed) this.#handles.set(key, h)
    return h
  }

  /** The handle of an unlabelled metric. */
  get unlabelled(): H {
    return this.labels()
  }

  /**
   * Drops every series of this family: a gauge that mirrors a set of things (targets) set afresh
   * at each scrape, so what left the set (a provider a reload removed) leaves /metrics too.
   * Handles taken before are stale: take them again with `labels`.
   */
  clear(): void {
    this.#handles.clear()
    this.#bySeries.clear()
    this.family.clear()
  }
}

export interface CounterHandle {
  inc(n?: number): void
}
export interface GaugeHandle {
  set(v: number): void
  inc(n?: number): void
  dec(n?: number): void
}
export interface HistogramHandle {
  observe(v: number): void
}

export class Counter extends Metric<CounterHandle> {
  protected make(s: Series): CounterHandle {
    return {
      inc: (n = 1) => {
        if (n > 0) s.value += n
      },
    }
  }
}

export class Gauge extends Metric<GaugeHandle> {
  protected make(s: Series): GaugeHandle {
    return {
      set: (v) => {
        s.value = v
      },
      inc: (n = 1) => {
        s.value += n
      },
      dec: (n = 1) => {
        s.value -= n
      },
    }
  }
}

export class Histogram extends Metric<HistogramHandle> {
  protected make(s: Series): HistogramHandle {
    const bounds = this.family.bucketBounds ?? []
    const buckets = s.buckets ?? new Float64Array(1)
    return {
      observe: (v) => {
        let i = 0
        while (i < bounds.length && v > (bounds[i] ?? Infinity)) i++
        buckets[i] = (buckets[i] ?? 0) + 1
        s.sum += v
        s.count++
      },
    }
  }
}

export class Registry {
  readonly #families: Family[] = []
  readonly #collectors: (() => void)[] = []

  /**
   * The family `name`, made on first use. Registering it again with the same type and labels
   * gives the same family (an instance a reload built goes on counting where the one it
   * replaced stopped); anything else is a programming error.
   */
  #family(name: string, help: string, type: MetricType, opts: MetricOptions, buckets?: readonly number[]): Family {
    const labelNames = opts.labelNames ?? []
    const known = this.#families.find((f) => f.name === name)
    if (known) {
      if (known.type !== type || known.labelNames.join() !== labelNames.join()) {
        throw new Error(`Cannot register metric "${name}" twice with another type or labels`)
      }
      return known
    }
    const f = new Family(name, help, type, labelNames, buckets, opts.maxLabelValues ?? 64)
    this.#families.push(f)
    return f
  }

  counter(name: string, help: string, opts: MetricOptions = {}): Counter {
    return new Counter(this.#family(name, help, 'counter', opts))
  }

  gauge(name: string, help: string, opts: MetricOptions = {}): Gauge {
    return new Gauge(this.#family(name, help, 'gauge', opts))
  }

  /** `buckets` are upper bounds in ascending order; +Inf is implied. */
  histogram(name: string, help: string, buckets: readonly number[], opts: MetricOptions = {}): Histogram {
    return new Histogram(this.#family(name, help, 'histogram', opts, [...buckets].sort((a, b) => a - b)))
  }

  /**
   * Run `fn` before every render, e.g. to set gauges that mirror routing state, in the order
   * registered. Returns what removes it (an instance that closes must not leave its collector,
   * nor what it holds, behind in a registry that outlives it).
   */
  onCollect(fn: () => void): () => void {
    this.#collectors.push(fn)
    return () => {
      const i = this.#collectors.indexOf(fn)
      if (i >= 0) this.#collectors.splice(i, 1)
    }
  }

  /** The Prometheus text exposition (version 0.0.4) of every family. */
  render(): string {
    for (const fn of this.#collectors) fn()
    return this.#families.map(renderFamily).join('')
  }
}
