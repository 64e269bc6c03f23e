/**
 * Trend maths over a time series of (time, value) points: least-squares slope, change points
 * (two-sided Page–Hinkley on the residuals against an EWMA of the series, restarted after each
 * change) and the hour-of-week index (0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC).
 */
import { type PageHinkley, pageHinkley, PH_EMPTY } from './detectors.ts'

export interface Point {
  readonly t: number
  readonly v: number
}

const HOUR_MS = 3_600_000

/** Least-squares slope in value units per hour; undefined with fewer than 2 distinct times. */
export function slopePerHour(points: readonly Point[]): number | undefined {
  const n = points.length
  if (n < 2) return undefined
  let st = 0
  let sv = 0
  for (const p of points) {
    st += p.t
    sv += p.v
  }
  const mt = st / n
  const mv = sv / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv)
    den += (p.t - mt) ** 2
  }
  return den === 0 ? undefined : (num / den) * HOUR_MS
}

export interface ChangePoint {
  readonly t: number
  readonly direction: 'up' | 'down'
  /** Mean of the series after the change over the mean before it (both since the previous change). */
  readonly ratio: number
}

export interface ChangeParams {
  /** Residuals are relative: (v − ewma) / ewma. Changes smaller than `delta` never accumulate. */
  readonly delta: number
  readonly lambda: number
  readonly alpha: number
}

export const DEFAULT_CHANGE: ChangeParams = { delta: 0.25, lambda: 2, alpha: 0.2 }

/** Change points of a series (sorted by time), oldest first. */
export function changePoints(points: readonly Point[], p: ChangeParams = DEFAULT_CHANGE): ChangePoint[] {
  const out: ChangePoint[] = []
  let level: number | undefined
  let up: PageHinkley = PH_EMPTY
  let down: PageHinkley = PH_EMPTY
  let segStart = 0
  for (let i = 0; i < points.length; i++) {
    const v = points[i]!.v
    if (!Number.isFinite(v)) continue
    if (level === undefined || level === 0) {
      level = v
      continue
    }
    const r = (v - level) / Math.abs(level)
    const u = pageHinkley(up, r, p)
    const d = pageHinkley(down, -r, p)
    up = u.state
    down = d.state
    if (u.alarm || d.alarm) {
      // The change started where the cumulative sum was last at its minimum; report it at this point.
      const before = mean(points.slice(segStart, i).map((x) => x.v))
      const after = v
      out.push({ t: points[i]!.t, direction: u.alarm ? 'up' : 'down', ratio: before > 0 ? after / before : 1 })
      level = v
      up = PH_EMPTY
      down = PH_EMPTY
      segStart = i
      continue
    }
    level += p.alpha * (v - level)
  }
  return out
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)

/** 0 = Monday 00:00–01:00 UTC … 167 = Sunday 23:00–24:00 UTC. */
export function hourOfWeek(t: number): number {
  // Arithmetic rather than a Date (one per finished request): the epoch began on a Thursday,
  // hour 72 of a week counted from Monday; UTC has no leap hours. Truncated as a Date truncates.
  return (((Math.floor(Math.trunc(t) / HOUR_MS) + 72) % 168) + 168) % 168
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const

/** `"Tue 14:00 UTC"` for hour-of-week 38. */
export function hourOfWeekLabel(h: number): string {
  return `${DAYS[Math.floor(h / 24) % 7]} ${String(h % 24).padStart(2, '0')}:00 UTC`
}

export interface ProfileBucket {
  readonly hour: number
  readonly mean: number
  readonly samples: number
}

/**
 * Hours whose mean is at least `factor` × the median of the hourly means (with at least
 * `minSamples` samples): the recurring slow hours of a provider.
 */
export function slowHours(profile: readonly ProfileBucket[], factor = 1.5, minSamples = 3): ProfileBucket[] {
  const usable = profile.filter((b) => b.samples >= minSamples)
  if (usable.length < 3) return []
  const sorted = usable.map((b) => b.mean).sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]!
  return usable.filter((b) => b.mean >= factor * median)
}
