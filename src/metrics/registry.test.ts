import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import parse from 'parse-prometheus-text-format'
import { OVERFLOW_LABEL, Registry } from './registry.ts'

const family = (text: string, name: string) => parse(text).find((f) => f.name === name)

describe('Registry exposition', () => {
  it('renders counters, gauges and histograms that a real parser reads back', () => {
    const r = new Registry()
    const c = r.counter('x_total', 'Things\nthat happened', { labelNames: ['tier'] })
    c.labels('tier-0').inc()
    c.labels('tier-0').inc(2)
    c.labels('tier-1').inc(-5)
    r.gauge('g', 'A gauge').unlabelled.set(-1.5)
    const h = r.histogram('d_seconds', 'Durations', [1, 0.1]).unlabelled
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v)
    r.histogram('l_seconds', 'Labelled', [1], { labelNames: ['tier'] }).labels('a"b').observe(2)
    const text = r.render()
    assert.deepEqual(family(text, 'x_total')?.metrics.map((m) => [m.labels?.['tier'], m.value]), [['tier-0', '3'], [
      'tier-1',
      '0',
    ]])
    assert.equal(family(text, 'x_total')?.help, 'Things\nthat happened')
    assert.equal(family(text, 'g')?.metrics[0]?.value, '-1.5')
    const d = family(text, 'd_seconds')?.metrics[0]
    assert.equal(family(text, 'd_seconds')?.type, 'HISTOGRAM')
    assert.deepEqual(d?.buckets, { '0.1': '2', '1': '3', '+Inf': '4' })
    assert.deepEqual([d?.count, Number(d?.sum)], ['4', 3.65])
    // The parser folds labelled histogram series together (its flattenMetrics), so read those lines directly.
    assert.deepEqual(family(text, 'l_seconds')?.metrics[0]?.buckets, { '1': '0', '+Inf': '1' })
    assert.match(text, /^l_seconds_bucket\{tier="a\\"b",le="\+Inf"\} 1$/m)
    assert.match(text, /^l_seconds_sum\{tier="a\\"b"\} 2\nl_seconds_count\{tier="a\\"b"\} 1$/m)
  })

  it('law: any label value survives escaping and parsing unchanged', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (v) => {
      const r = new Registry()
      r.counter('e_total', 'e', { labelNames: ['v'] }).labels(v).inc()
      assert.equal(family(r.render(), 'e_total')?.metrics[0]?.labels?.['v'], v)
    }))
  })

  it('law: label cardinality never exceeds the cap plus one overflow series', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 10 }),
        (values, cap) => {
          const r = new Registry()
          const c = r.counter('c_total', 'c', { labelNames: ['model'], maxLabelValues: cap })
          for (const v of values) c.labels(v).inc()
          const series = family(r.render(), 'c_total')?.metrics ?? []
          assert.ok(series.length <= cap + 1)
          const total = series.reduce((n, m) => n + Number(m.value), 0)
          assert.equal(total, values.length)
          const distinct = new Set(values).size
          if (distinct > cap) assert.ok(series.some((m) => m.labels?.['model'] === OVERFLOW_LABEL))
        },
      ),
    )
  })

  it('returns the same handle for the same labels and runs collectors before rendering', () => {
    const r = new Registry()
    const g = r.gauge('circuit', 'c', { labelNames: ['target'] })
    assert.equal(g.labels('a'), g.labels('a'))
    let state = 0
    r.onCollect(() => g.labels('a').set(++state))
    r.render()
    assert.equal(family(r.render(), 'circuit')?.metrics[0]?.value, '2')
    assert.throws(() => g.labels('a', 'b'), /expected labels/)
    assert.throws(() => r.counter('circuit', 'dup'), /twice with another type or labels/)
    assert.throws(() => r.gauge('circuit', 'dup', { labelNames: ['other'] }), /twice/)
  })

  it('a family registered again (a reload) goes on from its series; collectors can be removed; a gauge cleared', () => {
    const r = new Registry()
    const before = r.counter('requests', 'r', { labelNames: ['tier'] })
    before.labels('t0').inc(3)
    const after = r.counter('requests', 'r', { labelNames: ['tier'] })
    after.labels('t0').inc()
    assert.equal(family(r.render(), 'requests')?.metrics[0]?.value, '4')
    assert.equal(r.render().match(/# TYPE requests counter/g)?.length, 1, 'one family in the text')
    const g = r.gauge('state', 's', { labelNames: ['target'] })
    const off = r.onCollect(() => g.labels('old').set(1))
    r.onCollect(() => {
      g.clear()
      g.labels('new').set(2)
    })
    assert.deepEqual(family(r.render(), 'state')?.metrics.map((m) => m.labels?.target), ['new'])
    off()
    g.labels('old').set(1) // set outside any collector: the next scrape clears it again
    assert.deepEqual(family(r.render(), 'state')?.metrics.map((m) => m.labels?.target), ['new'])
  })
})
