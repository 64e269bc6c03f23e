import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { readRules } from '../config/rules.ts'
import type { RoutingRule, Scenario } from '../config/types.ts'
import { routerConfig } from '../../test/arbitraries/routing.ts'
import { checkRule, explainRules, inRange, matchRule, routerForRule, type RuleInput } from './rules.ts'
import { buildCandidates } from './candidates.ts'

/** Fixed seed in CI; fast-check prints the seed and path of any failure. */
const FC = { seed: 1717, numRuns: 300 }

const rulesOf = (raw: unknown[]): RoutingRule[] => {
  const r = readRules(raw, () => undefined)
  assert.deepEqual(r.problems, [])
  return r.rules
}

const base: RuleInput = {
  model: 'claude-sonnet-4-5',
  scenario: 'default',
  inputTokens: 1000,
  hasTools: false,
  hasImages: false,
  thinking: false,
  stream: false,
  header: () => undefined,
  now: Date.UTC(2026, 10, 30, 12, 0),
}
const withHeaders = (h: Record<string, string>): RuleInput['header'] => (n) => h[n]
const one = (when: Record<string, unknown>) => rulesOf([{ name: 'r', when, route: 'a,x' }])[0]!

describe('routing rules: each condition', () => {
  it('model: exact, glob and /regex/', () => {
    assert.equal(checkRule(one({ model: 'claude-sonnet-4-5' }), base).matched, true)
    assert.equal(checkRule(one({ model: 'claude-sonnet' }), base).matched, false, 'exact is the whole string')
    assert.equal(checkRule(one({ model: 'claude-*' }), base).matched, true)
    assert.equal(
      checkRule(one({ model: 'CLAUDE-?ONNET*' }), { ...base, model: 'claude-sonnet-4' }).matched,
      true,
      'globs ignore case',
    )
    assert.equal(checkRule(one({ model: 'gpt-*' }), base).matched, false)
    assert.equal(checkRule(one({ model: '/sonnet-4-[0-9]$/' }), base).matched, true)
    assert.equal(checkRule(one({ model: '/^gpt/i' }), base).matched, false)
  })

  it('scenario: one or a list', () => {
    assert.equal(checkRule(one({ scenario: 'default' }), base).matched, true)
    assert.equal(checkRule(one({ scenario: ['think', 'background'] }), base).matched, false)
    assert.equal(checkRule(one({ scenario: ['think', 'background'] }), { ...base, scenario: 'think' }).matched, true)
  })

  it('inputTokens: min and max, inclusive', () => {
    const r = one({ inputTokens: { min: 1000, max: 2000 } })
    assert.equal(checkRule(r, base).matched, true)
    assert.equal(checkRule(r, { ...base, inputTokens: 2000 }).matched, true)
    assert.equal(checkRule(r, { ...base, inputTokens: 999 }).matched, false)
    const over = checkRule(r, { ...base, inputTokens: 2001 })
    assert.equal(over.matched === false && over.failed, '~2001 input tokens is over max 2000')
    assert.equal(checkRule(one({ inputTokens: { max: 10 } }), base).matched, false)
  })

  it('hasTools, hasImages, thinking, stream: true and false both test', () => {
    for (const k of ['hasTools', 'hasImages', 'thinking', 'stream'] as const) {
      assert.equal(checkRule(one({ [k]: true }), base).matched, false, k)
      assert.equal(checkRule(one({ [k]: true }), { ...base, [k]: true }).matched, true, k)
      assert.equal(checkRule(one({ [k]: false }), base).matched, true, k)
    }
  })

  it('header: exact or glob value, name case-insensitive, absent never matches; user-agent is a header', () => {
    const r = one({ header: { 'X-Switchyard-Tag': 'ci', 'user-agent': 'claude-cli/*' } })
    assert.equal(
      checkRule(r, {
        ...base,
        header: withHeaders({ 'x-switchyard-tag': 'ci', 'user-agent': 'claude-cli/2.0.1 (external, cli)' }),
      }).matched,
      true,
    )
    assert.equal(checkRule(r, { ...base, header: withHeaders({ 'x-switchyard-tag': 'ci' }) }).matched, false)
    const wrong = checkRule(r, {
      ...base,
      header: withHeaders({ 'x-switchyard-tag': 'cid', 'user-agent': 'claude-cli/2' }),
    })
    assert.equal(wrong.matched === false && wrong.failed, 'header x-switchyard-tag does not match exact ci')
  })

  it('apiKey: the key name, and never matches a request without a named key', () => {
    const r = one({ apiKey: 'ci-*' })
    assert.equal(checkRule(r, { ...base, apiKey: 'ci-agents' }).matched, true)
    assert.equal(checkRule(r, { ...base, apiKey: 'humans' }).matched, false)
    assert.equal(checkRule(r, base).matched, false)
  })

  it('timeUtc: ranges in UTC, [from, to), wrapping past midnight', () => {
    const night = one({ timeUtc: '22:00-06:00' })
    const at = (h: number, m = 0) => ({ ...base, now: Date.UTC(2026, 10, 30, h, m) })
    assert.equal(checkRule(night, at(23)).matched, true)
    assert.equal(checkRule(night, at(5, 59)).matched, true)
    assert.equal(checkRule(night, at(6)).matched, false)
    assert.equal(checkRule(night, at(12)).matched, false)
    const office = one({ timeUtc: ['08:00-12:00', '13:00-17:30'] })
    assert.deepEqual([10, 12, 13, 17].map((h) => checkRule(office, at(h)).matched), [true, false, true, true])
  })

  it('law: inRange of a wrapping range is the complement of its reverse', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 0, max: 1440 }),
        fc.integer({ min: 0, max: 1440 }),
        (m, a, b) => {
          fc.pre(a !== b)
          assert.equal(inRange(m, a, b), !inRange(m, b, a))
        },
      ),
      FC,
    )
  })

  it('all conditions of a rule must hold, and the reasons list each of them', () => {
    const r = one({ model: 'claude-*', hasTools: true, header: { 'x-switchyard-tag': 'ci' } })
    assert.equal(checkRule(r, { ...base, hasTools: true }).matched, false)
    const c = checkRule(r, { ...base, hasTools: true, header: withHeaders({ 'x-switchyard-tag': 'ci' }) })
    assert.ok(c.matched)
    assert.equal(c.reasons.length, 3)
  })
})

const ruleArb = fc.record({
  name: fc.constantFrom('r'),
  when: fc.record({
    model: fc.constantFrom('claude-*', 'gpt-*', '/haiku/', 'claude-sonnet-4-5'),
    scenario: fc.constantFrom<Scenario[]>(['default'], ['think'], ['default', 'background']),
    hasTools: fc.boolean(),
    stream: fc.boolean(),
    inputTokens: fc.record({ max: fc.integer({ min: 0, max: 100_000 }) }),
  }, { requiredKeys: [] }),
  route: fc.constantFrom('a,x', 'b,y', 'c,z'),
})
const rulesArb = fc.array(ruleArb, { maxLength: 6 }).map((rs) => rulesOf(rs.map((r, i) => ({ ...r, name: `r${i}` }))))
const inputArb: fc.Arbitrary<RuleInput> = fc.record({
  model: fc.constantFrom('claude-sonnet-4-5', 'claude-3-5-haiku', 'gpt-4o', ''),
  scenario: fc.constantFrom<Scenario>('default', 'think', 'background', 'longContext'),
  inputTokens: fc.integer({ min: 0, max: 200_000 }),
  hasTools: fc.boolean(),
  hasImages: fc.boolean(),
  thinking: fc.boolean(),
  stream: fc.boolean(),
  now: fc.integer({ min: 0, max: 4e12 }),
}).map((r) => ({ ...r, header: () => undefined }))

describe('routing rules: laws', () => {
  it('the winner is the FIRST rule whose own check matches; every earlier rule fails', () => {
    fc.assert(
      fc.property(rulesArb, inputArb, (rules, input) => {
        const hit = matchRule(rules, input)
        const first = rules.findIndex((r) => checkRule(r, input).matched)
        assert.equal(hit?.rule.name, first < 0 ? undefined : rules[first]!.name)
        assert.equal(explainRules(rules, input).winner, hit?.rule.name)
      }),
      FC,
    )
  })

  it('deterministic: the same rules and request always give the same answer', () => {
    fc.assert(
      fc.property(rulesArb, inputArb, (rules, input) => {
        assert.deepEqual(matchRule(rules, input), matchRule(rules, input))
      }),
      FC,
    )
  })

  it('no rules, or no match, falls through (undefined): CCR scenarios decide', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        assert.equal(matchRule([], input), undefined)
        assert.equal(matchRule(undefined, input), undefined)
        const never = rulesOf([{ name: 'never', when: { model: '/^$never^/' }, route: 'a,x' }])
        assert.equal(matchRule(never, input), undefined)
      }),
      FC,
    )
  })

  it('appending rules never changes an existing winner; prepending a catch-all always wins', () => {
    fc.assert(
      fc.property(rulesArb, rulesArb, inputArb, (a, b, input) => {
        const renamed = b.map((r, i) => ({ ...r, name: `b${i}` }))
        const hit = matchRule(a, input)
        if (hit) assert.equal(matchRule([...a, ...renamed], input)?.rule.name, hit.rule.name)
        const all = rulesOf([{ name: 'all', route: 'c,z' }])
        assert.equal(matchRule([...all, ...a], input)?.rule.name, 'all')
      }),
      FC,
    )
  })
})

describe('routerForRule', () => {
  it('plans the route: first target pinned first, the rest as its fallback list, then other tiers', () => {
    const [rule] = rulesOf([{ name: 'ci', route: ['c,z', 'b,y'], optimization: 'cost' }])
    const main = routerConfig()
    const r = routerForRule(main, rule!)
    assert.equal(r.optimization, 'cost')
    assert.equal(routerForRule(main, rule!), r, 'built once per rule and Router')
    const cands = buildCandidates('c,z', 'rule', r)
    assert.deepEqual(cands.map((c) => [c.target, c.source]), [['c,z', 'primary'], ['b,y', 'fallback'], ['a,x', 'tier']])
    assert.equal(cands[0]!.pinned, true)
  })
})
