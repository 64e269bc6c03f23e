/**
 * Every number in the config file has an upper bound. The test walks the parsed defaults, so a
 * field added later without a bound fails here: `firstTokenTimeoutMs: 9999999999` used to
 * validate and then time every request out at once (timers overflow past 2^31 - 1 ms).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_TIMER_MS, timerDelay } from '../lib/clock.ts'
import { parseConfig } from './load.ts'
import { configFileSchema } from './schema.ts'

const PROVIDER = {
  name: 'p',
  api_base_url: 'https://api.example.invalid/v1/chat/completions',
  api_key: 'k',
  models: ['m'],
}
const base = (): Record<string, unknown> => ({ Providers: [{ ...PROVIDER }], Router: { default: 'p,m' } })

/** Paths of every number in `v`. */
function numberPaths(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof v === 'number') return [path]
  if (Array.isArray(v)) return v.flatMap((x, i) => numberPaths(x, [...path, i]))
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => numberPaths(x, [...path, k]))
  return []
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let o = root as Record<string | number, unknown>
  for (const k of path.slice(0, -1)) {
    o[k] ??= {}
    o = o[k] as Record<string | number, unknown>
  }
  o[path.at(-1)!] = value
}

/** The numbers a file may set that have no default (so the walk of the defaults misses them). */
const OPTIONAL_NUMBERS: (string | number)[][] = [
  ['Providers', 0, 'rpm'],
  ['Providers', 0, 'tpm'],
  ['Providers', 0, 'maxConcurrent'],
  ['Router', 'thresholds', 'maxLatencyMs'],
  ['performance', 'thresholds', 'maxLatencyMs'],
  ['Router', 'tierRetries', 'tier-0', 'max_retries'],
  ['Router', 'tierRetries', 'tier-0', 'base_backoff_ms'],
  ['Router', 'tierRetries', 'tier-0', 'max_backoff_ms'],
  ['Router', 'tierRetries', 'tier-0', 'backoff_multiplier'],
  ['Presets', 'x', 'max_tokens'],
]

describe('config bounds', () => {
  const defaults = configFileSchema().parse(base())
  const paths = [...numberPaths(defaults), ...OPTIONAL_NUMBERS]

  it('finds the numbers it checks (not vacuous)', () => {
    assert.ok(paths.length > 30, `${paths.length} numeric fields`)
  })

  for (const path of paths) {
    it(`${path.join('.')}: 1e15 is refused with the field named`, () => {
      const file = base()
      if (path[0] === 'Presets') setAt(file, ['Presets', 'x', 'route'], 'p,m')
      setAt(file, path, 1e15)
      const r = parseConfig(JSON.stringify(file), {})
      assert.equal(r.ok, false, `${path.join('.')} accepted 1e15`)
      if (!r.ok) assert.ok(r.error.some((e) => e.includes(String(path.at(-1)))), r.error.join('\n'))
    })
  }

  it('every default duration fits a timer', () => {
    for (const p of paths) {
      const name = String(p.at(-1))
      if (!/Ms$|_ms$|MS$/.test(name)) continue
      let v: unknown = defaults
      for (const k of p) v = (v as Record<string | number, unknown> | undefined)?.[k]
      if (typeof v === 'number') assert.ok(v <= MAX_TIMER_MS, `${p.join('.')} = ${v}`)
    }
  })

  it('API_TIMEOUT_MS, TOKEN_AUDIT_SIZE and testIntervalMinutes from the report are refused', () => {
    for (const [k, v] of [['API_TIMEOUT_MS', 99999999999], ['TOKEN_AUDIT_SIZE', 1e12]] as const) {
      const r = parseConfig(JSON.stringify({ ...base(), [k]: v }), {})
      assert.equal(r.ok, false, k)
    }
    const r = parseConfig(JSON.stringify({ ...base(), performance: { testIntervalMinutes: 99999999 } }), {})
    assert.equal(r.ok, false)
    // Interpolated values arrive as strings and are bounded the same way.
    const s = parseConfig(JSON.stringify({ ...base(), API_TIMEOUT_MS: '$T' }), { T: '99999999999' })
    assert.equal(s.ok, false)
  })

  it('timerDelay keeps every delay within what timers accept', () => {
    assert.equal(timerDelay(99999999999), MAX_TIMER_MS)
    assert.equal(timerDelay(Number.POSITIVE_INFINITY), MAX_TIMER_MS)
    assert.equal(timerDelay(0), 0)
    assert.equal(timerDelay(-5), 0)
    assert.equal(timerDelay(Number.NaN), 0)
    assert.equal(timerDelay(250), 250)
  })
})
