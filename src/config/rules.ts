/**
 * `Router.rules` (declarative routing rules): one reader that both validates and compiles, so
 * the checks at load and the rules the router runs can never disagree. Every error names the
 * rule (by its `name`, or its index when it has none) and the field.
 */
import { isPlainObject } from './fields.ts'
import type { RoutingRule, RuleWhen, Scenario, ScoreWeights, TextMatcher, TimeRange } from './types.ts'

export interface RuleProblem {
  readonly path: readonly (string | number)[]
  readonly message: string
}

/** The Router keys naming a `"provider,model"` target, in CCR order (schema.ts re-exports it). */
export const SCENARIO_KEYS = ['default', 'background', 'think', 'longContext', 'webSearch', 'image'] as const

/** The CCR scenarios a rule may test (explicit and custom picks never reach the rules). */
export const RULE_SCENARIOS = [...SCENARIO_KEYS, 'subagent'] as const

const WHEN_KEYS = [
  'model',
  'scenario',
  'inputTokens',
  'hasTools',
  'hasImages',
  'thinking',
  'stream',
  'header',
  'apiKey',
  'timeUtc',
] as const
const RULE_KEYS = ['name', 'when', 'route', 'optimization', 'weights'] as const
const OPTIMIZATIONS = ['latency', 'cost', 'reliability', 'balanced'] as const
const REGEX = /^\/(.+)\/([a-z]*)$/s
const TIME = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/

const escape = (s: string) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&')

/**
 * `"/re/flags"` is a regex, text with `*` or `?` a glob (case-insensitive, whole string),
 * anything else an exact, case-sensitive match.
 * @example compileMatcher('claude-*-haiku*') // { kind: 'glob', … }
 */
export function compileMatcher(source: string): TextMatcher | string {
  const m = REGEX.exec(source)
  if (m) {
    try {
      return { kind: 'regex', source, re: new RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')) }
    } catch (e) {
      return `invalid regular expression ${JSON.stringify(source)}: ${e instanceof Error ? e.message : String(e)}`
    }
  }
  if (/[*?]/.test(source)) {
    const body = source.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escape(c))).join('')
    return { kind: 'glob', source, re: new RegExp(`^${body}$`, 'is') }
  }
  return { kind: 'exact', source, re: new RegExp(`^${escape(source)}$`, 's') }
}

function parseTime(s: string): TimeRange | string {
  const m = TIME.exec(s.trim())
  const bad = `expected "HH:MM-HH:MM" (UTC, 24-hour), got ${JSON.stringify(s)}`
  if (!m) return bad
  const [h1, m1, h2, m2] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number]
  if (h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59 || (h1 === 24 && m1 > 0) || (h2 === 24 && m2 > 0)) return bad
  const fromMin = h1 * 60 + m1
  const toMin = h2 * 60 + m2
  return fromMin === toMin ? `${JSON.stringify(s)} is an empty range` : { fromMin, toMin, source: s.trim() }
}

type Out<T> = { value?: T; problems: RuleProblem[] }

function readWhen(raw: unknown, at: (string | number)[], label: string): Out<RuleWhen> {
  const problems: RuleProblem[] = []
  const bad = (field: (string | number)[], message: string) =>
    problems.push({ path: [...at, ...field], message: `${label}: ${message}` })
  if (raw === undefined) return { value: {}, problems }
  if (!isPlainObject(raw)) return { problems: [{ path: at, message: `${label}: expected an object of conditions` }] }
  const when: { -readonly [K in keyof RuleWhen]: RuleWhen[K] } = {}
  for (const k of Object.keys(raw)) {
    if (!(WHEN_KEYS as readonly string[]).includes(k)) {
      bad([k], `unknown condition (expected one of ${WHEN_KEYS.join(', ')})`)
    }
  }
  const text = (k: 'model' | 'apiKey') => {
    const v = raw[k]
    if (v === undefined) return
    if (typeof v !== 'string' || v === '') return bad([k], 'expected a non-empty string (exact, glob or /regex/)')
    const m = compileMatcher(v)
    if (typeof m === 'string') bad([k], m)
    else when[k] = m
  }
  text('model')
  text('apiKey')
  if (raw.scenario !== undefined) {
    const list = typeof raw.scenario === 'string' ? [raw.scenario] : raw.scenario
    if (
      !Array.isArray(list) || list.length === 0 ||
      !list.every((s) => (RULE_SCENARIOS as readonly unknown[]).includes(s))
    ) {
      bad(['scenario'], `expected one or a list of ${RULE_SCENARIOS.join(', ')}, got ${JSON.stringify(raw.scenario)}`)
    } else when.scenario = list as Scenario[]
  }
  if (raw.inputTokens !== undefined) {
    const t = raw.inputTokens
    const isCount = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isInteger(n) && n >= 0)
    if (
      !isPlainObject(t) || Object.keys(t).some((k) => k !== 'min' && k !== 'max') ||
      (t.min === undefined && t.max === undefined)
    ) {
      bad(['inputTokens'], 'expected { "min"?: N, "max"?: N }')
    } else if (!isCount(t.min) || !isCount(t.max)) {
      bad(['inputTokens'], 'min and max must be whole numbers of tokens, at least 0')
    } else if (typeof t.min === 'number' && typeof t.max === 'number' && t.min > t.max) {
      bad(['inputTokens'], `min (${t.min}) is above max (${t.max}): the rule could never match`)
    } else {when.inputTokens = {
        ...(t.min === undefined ? {} : { min: t.min as number }),
        ...(t.max === undefined ? {} : { max: t.max as number }),
      }}
  }
  for (const k of ['hasTools', 'hasImages', 'thinking', 'stream'] as const) {
    const v = raw[k]
    if (v === undefined) continue
    if (typeof v !== 'boolean') bad([k], `expected true or false, got ${JSON.stringify(v)}`)
    else when[k] = v
  }
  if (raw.header !== undefined) {
    if (!isPlainObject(raw.header) || Object.keys(raw.header).length === 0) {
      bad(['header'], 'expected { "header-name": "value or glob" }')
    } else {
      const list: { name: string; value: TextMatcher }[] = []
      for (const [name, v] of Object.entries(raw.header)) {
        if (typeof v !== 'string' || v === '') {
          bad(['header', name], 'expected a non-empty string (exact, glob or /regex/)')
          continue
        }
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
          bad(['header', name], 'is not a valid header name')
          continue
        }
        const m = compileMatcher(v)
        if (typeof m === 'string') bad(['header', name], m)
        else list.push({ name: name.toLowerCase(), value: m })
      }
      when.header = list
    }
  }
  if (raw.timeUtc !== undefined) {
    const list = typeof raw.timeUtc === 'string' ? [raw.timeUtc] : raw.timeUtc
    if (!Array.isArray(list) || list.length === 0) bad(['timeUtc'], 'expected "HH:MM-HH:MM" or a list of them')
    else {
      const ranges: TimeRange[] = []
      list.forEach((s, i) => {
        const r = typeof s === 'string' ? parseTime(s) : `expected "HH:MM-HH:MM", got ${JSON.stringify(s)}`
        if (typeof r === 'string') bad(typeof raw.timeUtc === 'string' ? ['timeUtc'] : ['timeUtc', i], r)
        else ranges.push(r)
      })
      when.timeUtc = ranges
    }
  }
  return problems.length ? { problems } : { value: when, problems }
}

function readWeights(raw: unknown, at: (string | number)[], label: string): Out<ScoreWeights> {
  const keys = ['latency', 'throughput', 'reliability', 'cost'] as const
  const ok = isPlainObject(raw) && Object.keys(raw).every((k) => (keys as readonly string[]).includes(k)) &&
    Object.values(raw).every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v))
  if (!ok) {
    return {
      problems: [{
        path: at,
        message: `${label}: expected { latency?, throughput?, reliability?, cost? } with numbers at least 0`,
      }],
    }
  }
  const w = raw as Partial<Record<(typeof keys)[number], number>>
  return {
    value: {
      latency: w.latency ?? 0,
      throughput: w.throughput ?? 0,
      reliability: w.reliability ?? 0,
      cost: w.cost ?? 0,
    },
    problems: [],
  }
}

/**
 * Reads `Router.rules`: the compiled rules, and every problem with its path (`Router.rules[i]…`)
 * and a message starting `rule "<name>"`. `targetProblem` checks one `provider,model` (the
 * same check as every other Router target); rules are only returned when there is no problem.
 */
export function readRules(
  raw: unknown,
  targetProblem: (target: string) => string | undefined,
): { rules: RoutingRule[]; problems: RuleProblem[] } {
  if (raw === undefined) return { rules: [], problems: [] }
  const base = ['Router', 'rules']
  if (!Array.isArray(raw)) return { rules: [], problems: [{ path: base, message: 'expected a list of rules' }] }
  const problems: RuleProblem[] = []
  const rules: RoutingRule[] = []
  const names = new Set<string>()
  raw.forEach((r, i) => {
    const at = [...base, i]
    const named = isPlainObject(r) && typeof r.name === 'string' && r.name !== ''
    const label = named ? `rule ${JSON.stringify(r.name)}` : `rule #${i + 1}`
    const bad = (field: (string | number)[], message: string) =>
      problems.push({ path: [...at, ...field], message: `${label}: ${message}` })
    if (!isPlainObject(r)) return bad([], 'expected { name, when, route }')
    const before = problems.length
    for (const k of Object.keys(r)) {
      if (!(RULE_KEYS as readonly string[]).includes(k)) {
        bad([k], `unknown field (expected one of ${RULE_KEYS.join(', ')})`)
      }
    }
    if (!named) bad(['name'], 'is required: a non-empty string shown in x-switchyard-route and the log')
    else if (names.has(r.name as string)) bad(['name'], 'is used by an earlier rule: names must be unique')
    else names.add(r.name as string)
    const when = readWhen(r.when, [...at, 'when'], label)
    problems.push(...when.problems)
    const list = typeof r.route === 'string' ? [r.route] : r.route
    if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string' && t !== '')) {
      bad(['route'], 'expected "provider,model" or a non-empty list of them')
    } else {
      list.forEach((t, j) => {
        const p = targetProblem(t as string)
        if (p) bad(typeof r.route === 'string' ? ['route'] : ['route', j], p)
      })
    }
    if (r.optimization !== undefined && !(OPTIMIZATIONS as readonly unknown[]).includes(r.optimization)) {
      bad(['optimization'], `expected one of ${OPTIMIZATIONS.join(', ')}, got ${JSON.stringify(r.optimization)}`)
    }
    const weights = r.weights === undefined ? undefined : readWeights(r.weights, [...at, 'weights'], label)
    problems.push(...(weights?.problems ?? []))
    if (problems.length > before || !when.value) return
    rules.push({
      name: r.name as string,
      when: when.value,
      route: list as string[],
      ...(r.optimization === undefined ? {} : { optimization: r.optimization as RoutingRule['optimization'] }),
      ...(weights?.value ? { weights: weights.value } : {}),
    })
  })
  return { rules: problems.length ? [] : rules, problems }
}
