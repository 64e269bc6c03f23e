/**
 * Change detectors as pure reducers: the clock is an argument, nothing is read or drawn here.
 *
 * - `pageHinkley`: one-sided Page–Hinkley (a CUSUM) on a stream of residuals; it alarms when
 *   the cumulative excess over the drift allowance `delta` rises `lambda` above its minimum.
 * - `hysteresis`: fire once a condition has held for `minDurationMs`, resolve once its
 *   resolve condition has held as long; one `fire` and one `resolve` event per episode.
 * - `ratioDetector`: the degradation detector of the alert engine. It keeps a slow baseline
 *   (EWMA of log values, frozen while the detector is alarmed so it never learns the
 *   degradation), a fast EWMA for the current level, and Page–Hinkley on the log ratio of
 *   each sample to the baseline. It reports `degraded` while Page–Hinkley is alarmed and the
 *   fast level is at least `ratio` × baseline; `recovered` once the fast level is back under
 *   `resolveRatio` × baseline.
 */

export interface PageHinkley {
  /** Cumulative sum of (x − delta). */
  readonly sum: number
  /** Its minimum so far. */
  readonly min: number
}

export const PH_EMPTY: PageHinkley = { sum: 0, min: 0 }

export interface PageHinkleyParams {
  /** Drift allowance per sample: shifts smaller than this never accumulate. */
  readonly delta: number
  /** Alarm threshold on sum − min. */
  readonly lambda: number
}

/** The detector after residual `x`, and whether it is alarmed. */
export function pageHinkley(s: PageHinkley, x: number, p: PageHinkleyParams): { state: PageHinkley; alarm: boolean } {
  const state = pageHinkleyStep(s, x, p)
  return { state, alarm: alarmed(state, p) }
}

/** The state alone (`ratioDetector` runs per request: no result pair). */
function pageHinkleyStep(s: PageHinkley, x: number, p: PageHinkleyParams): PageHinkley {
  if (!Number.isFinite(x)) return s
  const sum = s.sum + x - p.delta
  return { sum, min: Math.min(s.min, sum) }
}

const alarmed = (s: PageHinkley, p: PageHinkleyParams) => s.sum - s.min > p.lambda

export interface Hysteresis {
  readonly firing: boolean
  /** When the pending transition's condition started holding (undefined: none pending). */
  readonly since?: number
}

export const HYSTERESIS_IDLE: Hysteresis = { firing: false }

export type HysteresisEvent = 'fire' | 'resolve' | undefined

/**
 * Steps the hysteresis with the two conditions seen at `now`: `fire` (the alert condition) and
 * `clear` (the resolve condition, stricter than "not fire" so values near the edge do not flap).
 */
export function hysteresis(
  s: Hysteresis,
  cond: { fire: boolean; clear: boolean; now: number },
  minDurationMs: number,
): { state: Hysteresis; event: HysteresisEvent } {
  const want = s.firing ? cond.clear : cond.fire
  if (!want) return { state: { firing: s.firing }, event: undefined }
  const since = s.since ?? cond.now
  if (cond.now - since < minDurationMs) return { state: { firing: s.firing, since }, event: undefined }
  return { state: { firing: !s.firing }, event: s.firing ? 'resolve' : 'fire' }
}

export interface RatioParams {
  /** Samples that seed the baseline before anything can alarm. */
  readonly warmup: number
  /** Weight of a sample in the slow baseline (per sample, on log values). */
  readonly baselineAlpha: number
  /** Weight of a sample in the fast level. */
  readonly fastAlpha: number
  /** Degraded at fast ≥ ratio × baseline (with Page–Hinkley alarmed). */
  readonly ratio: number
  /** Recovered at fast < resolveRatio × baseline. */
  readonly resolveRatio: number
  readonly ph: PageHinkleyParams
  /** `up`: bigger is worse (latency); `down`: smaller is worse (tokens/s). */
  readonly direction: 'up' | 'down'
  /**
   * Samples a shift may stay alarmed under `ratio` before it becomes the new baseline: a
   * lasting 1.5× change is a new normal, not a reason to stop learning forever.
   */
  readonly relearnAfter: number
}

/** Defaults: a ×2 lasting rise is "degraded"; see docs/alerts.md for the bounds the tests show. */
export const DEFAULT_RATIO: RatioParams = {
  warmup: 20,
  baselineAlpha: 0.02,
  fastAlpha: 0.3,
  ratio: 2,
  resolveRatio: 1.3,
  ph: { delta: Math.log(1.5), lambda: 3 },
  direction: 'up',
  relearnAfter: 200,
}

export interface RatioState {
  readonly n: number
  /** EWMA of log(sample) (the baseline), once seeded. */
  readonly logBase: number
  /** EWMA of log(sample), fast. */
  readonly logFast: number
  readonly ph: PageHinkley
  readonly alarmed: boolean
  /** Samples in a row alarmed but under `ratio`. */
  readonly mild?: number
}

export const RATIO_EMPTY: RatioState = { n: 0, logBase: 0, logFast: 0, ph: PH_EMPTY, alarmed: false }

export interface RatioView {
  /** Seeded and past warm-up. */
  readonly ready: boolean
  readonly baseline: number
  readonly current: number
  /** current / baseline, oriented so that > 1 is worse. */
  readonly ratio: number
  readonly degraded: boolean
  readonly recovered: boolean
}

/** The detector after one positive sample (non-positive and non-finite samples are ignored). */
export function ratioDetector(s: RatioState, sample: number, p: RatioParams): RatioState {
  if (!(sample > 0) || !Number.isFinite(sample)) return s
  const x = Math.log(sample)
  if (s.n === 0) return { n: 1, logBase: x, logFast: x, ph: PH_EMPTY, alarmed: false }
  const n = s.n + 1
  const logFast = s.logFast + p.fastAlpha * (x - s.logFast)
  if (n <= p.warmup) {
    // Warm-up: the baseline is the running mean of the first samples.
    return { n, logBase: s.logBase + (x - s.logBase) / n, logFast, ph: PH_EMPTY, alarmed: false }
  }
  const residual = (p.direction === 'up' ? 1 : -1) * (x - s.logBase)
  const stepped = pageHinkleyStep(s.ph, residual, p.ph)
  const worse = orientedRatio(s.logBase, logFast, p)
  // Alarmed from Page–Hinkley's alarm until the level is back under resolveRatio.
  const alarm = s.alarmed ? worse >= p.resolveRatio : alarmed(stepped, p.ph)
  const mild = alarm && worse < p.ratio ? (s.mild ?? 0) + 1 : 0
  // A shift that stayed alarmed but mild for long enough is the new baseline.
  if (mild > p.relearnAfter) return { n, logBase: logFast, logFast, ph: PH_EMPTY, alarmed: false }
  // A recovered detector starts a fresh change test; the baseline learns only while not alarmed.
  const ph = s.alarmed && !alarm ? PH_EMPTY : stepped
  const logBase = alarm ? s.logBase : s.logBase + p.baselineAlpha * (x - s.logBase)
  // `mild` only when set, as before; written out rather than spread (a spread is an object more per sample).
  return mild > 0 ? { n, logBase, logFast, ph, alarmed: alarm, mild } : { n, logBase, logFast, ph, alarmed: alarm }
}

function orientedRatio(logBase: number, logFast: number, p: RatioParams): number {
  return Math.exp((p.direction === 'up' ? 1 : -1) * (logFast - logBase))
}

/** What the detector says now. */
export function ratioView(s: RatioState, p: RatioParams): RatioView {
  const ready = s.n > p.warmup
  const ratio = s.n === 0 ? 1 : orientedRatio(s.logBase, s.logFast, p)
  return {
    ready,
    baseline: Math.exp(s.logBase),
    current: Math.exp(s.logFast),
    ratio,
    degraded: ready && s.alarmed && ratio >= p.ratio,
    recovered: !ready || ratio < p.resolveRatio,
  }
}
