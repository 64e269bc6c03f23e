/**
 * Reading how long an upstream asks us to wait, from its response headers (docs/protocols.md §6):
 * `retry-after-ms`, `retry-after` (seconds or HTTP date), Anthropic's
 * `anthropic-ratelimit-*-reset` (RFC 3339, when the matching `*-remaining` is 0) and OpenAI's
 * `x-ratelimit-reset-*` (Go durations such as `1s`, `6m0s`, `20ms`).
 */

/** The slice of `Headers` read here (declared so this pure module needs no DOM types). */
export interface HeaderLookup {
  get(name: string): string | null
}

const ANTHROPIC_LIMITS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const
const OPENAI_LIMITS = ['requests', 'tokens'] as const
const GO_UNITS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 1e-3,
  'µs': 1e-3,
  ns: 1e-6,
}

/**
 * Parses a Go `time.Duration` string into ms, or undefined when it is not one.
 * @example parseGoDuration('6m0s') // 360000
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim()
  if (s === '0') return 0
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy
  let total = 0
  let matched = 0
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (GO_UNITS[m[2] ?? ''] ?? 0)
    matched = re.lastIndex
  }
  return matched > 0 && matched === s.length ? total : undefined
}

/** `retry-after`: delta seconds, or an HTTP date relative to `now`. */
function parseRetryAfter(value: string, now: number): number | undefined {
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1_000
  const at = Date.parse(v)
  return Number.isNaN(at) || Number.isNaN(now) ? undefined : Math.max(0, at - now)
}

function exhaustedResets(h: HeaderLookup, now: number): number[] {
  const waits: number[] = []
  for (const name of Number.isFinite(now) ? ANTHROPIC_LIMITS : []) {
    const reset = h.get(`anthropic-ratelimit-${name}-reset`)
    if (reset === null || h.get(`anthropic-ratelimit-${name}-remaining`)?.trim() !== '0') continue
    const at = Date.parse(reset)
    if (!Number.isNaN(at)) waits.push(Math.max(0, at - now))
  }
  for (const name of OPENAI_LIMITS) {
    const reset = h.get(`x-ratelimit-reset-${name}`)
    if (reset === null || h.get(`x-ratelimit-remaining-${name}`)?.trim() !== '0') continue
    const ms = parseGoDuration(reset)
    if (ms !== undefined) waits.push(ms)
  }
  return waits
}

/**
 * The wait in ms the upstream asked for, or undefined when it asked for none. Explicit
 * `retry-after-ms` / `retry-after` win (the SDKs' order); otherwise the longest reset among
 * the limits whose remaining count is 0. Never negative. Dates are measured from `now`, or
 * from the response's own `Date` header when no clock is given.
 * @example retryAfterFromHeaders(new Headers({ 'retry-after': '2' }), 0) // 2000
 */
export function retryAfterFromHeaders(h: HeaderLookup, clock?: number): number | undefined {
  const now = clock ?? Date.parse(h.get('date') ?? '')
  const ms = h.get('retry-after-ms')
  if (ms !== null && Number.isFinite(Number.parseFloat(ms))) return Math.max(0, Number.parseFloat(ms))
  const ra = h.get('retry-after')
  const fromRa = ra === null ? undefined : parseRetryAfter(ra, now)
  if (fromRa !== undefined) return fromRa
  const waits = exhaustedResets(h, now)
  return waits.length > 0 ? Math.max(...waits) : undefined
}
