import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { demoConfig } from '../config/demo.ts'
import type { Config } from '../config/types.ts'
import { configuredTargets } from '../config/targets.ts'
import { progressBar, runProbeCommand } from './probe-command.ts'
import { createFakeSender } from '../../test/doubles/fake-sender.ts'

const base = demoConfig('http://127.0.0.1:9')
const config: Config = {
  ...base,
  performance: { ...base.performance, maxTokensPerTest: 16, minTestCount: 2, dailyTokenBudget: 1_000_000 },
}
const targets = configuredTargets(config)
const fake = () =>
  createFakeSender(Object.fromEntries(targets.map((t, i) => [t, { ttftMs: 100 * (i + 1), perTokenMs: 10 }])))

describe('runProbeCommand', () => {
  it('runs the chosen test on the chosen models and prints a table; exit 0', async () => {
    const lines: string[] = []
    const f = fake()
    const code = await runProbeCommand({
      config,
      sender: f.send,
      models: [targets[1]!],
      type: 'latency',
      out: (l) => lines.push(l),
      isTTY: false,
    })
    assert.equal(code, 0)
    assert.ok(f.calls.every((c) => c.target === targets[1]))
    assert.equal(f.calls.length, 2, 'minTestCount runs')
    const header = lines.findIndex((l) => l.startsWith('target'))
    assert.ok(header > 0, lines.join('\n'))
    const row = lines[header + 2]!
    assert.match(row, new RegExp(`^${targets[1]}\\s+latency\\s+2\\s+100\\s`))
    assert.match(row, /\s200\s/, 'ttft p50 of the second target is 200 ms')
    assert.ok(lines.some((l) => l.includes('[########################] 1/1')), 'progress bar reaches the end')
  })
  it('tests every configured target and type by default, redrawing the bar in place on a TTY', async () => {
    const lines: string[] = []
    const code = await runProbeCommand({ config, sender: fake().send, out: (l) => lines.push(l), isTTY: true })
    assert.equal(code, 0)
    const total = targets.length * 4
    assert.equal(lines.filter((l) => l.includes('/' + String(total))).length, total)
    assert.ok(lines.filter((l) => l.includes(`/${total}`)).slice(1).every((l) => l.startsWith('\x1b[1A\x1b[2K')))
    assert.equal(lines.filter((l) => /^mock-\S+\s+(health|latency|throughput|concurrent)\s/.test(l)).length, total)
  })
  it('exits 1 when a target fails every run, 2 for an unknown model', async () => {
    const failing = createFakeSender({ [targets[0]!]: { ttftMs: 1, perTokenMs: 1, failEvery: 1 } })
    const out: string[] = []
    assert.equal(
      await runProbeCommand({
        config,
        sender: failing.send,
        models: [targets[0]!],
        type: 'health',
        out: (l) => out.push(l),
        isTTY: false,
      }),
      1,
    )
    assert.ok(out.some((l) => l.includes('overloaded')), 'the failure reason is in the table')
    const lines: string[] = []
    assert.equal(
      await runProbeCommand({
        config,
        sender: failing.send,
        models: ['nope,x'],
        out: (l) => lines.push(l),
        isTTY: false,
      }),
      2,
    )
    assert.match(lines.join('\n'), /unknown model "nope,x"/)
  })
})

describe('progressBar', () => {
  it('law: the bar has a fixed width and fills in proportion', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 500 }), (total, d) => {
      const done = Math.min(d, total)
      const bar = progressBar(done, total, 20)
      const inner = bar.slice(1, 21)
      assert.equal(inner.length, 20)
      assert.equal(inner.split('#').length - 1, Math.round((done / total) * 20))
      assert.ok(bar.endsWith(`${done}/${total}`))
    }))
  })
})
