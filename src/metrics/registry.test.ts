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
    assert.throws(() => r.counter('circuit', 'dup'), /twice/)
  })
})
