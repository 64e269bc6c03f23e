import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerformanceStore } from '../store/performance.ts'
import { runPerfBackupCommand } from './perf-backup.ts'
import type { RunRecord } from '../perf/types.ts'

const T0 = Date.UTC(2026, 3, 1)
const store = () => PerformanceStore.open({ now: () => T0, warn: () => {} })
const run = (target: string, totalMs: number): RunRecord => ({
  target,
  type: 'latency',
  at: T0 - totalMs,
  ok: true,
  totalMs,
  outputTokens: 3,
})

describe('runPerfBackupCommand', () => {
  it('export to a file then import into another store round-trips (real files)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-backup-'))
    try {
      const file = join(dir, 'perf.json')
      const a = store()
      a.recordRuns([run('p,a', 10), run('p,b', 20)])
      const out: string[] = []
      assert.equal(await runPerfBackupCommand({ store: a, action: 'export', file, out: (l) => out.push(l) }), 0)
      assert.match(out[0] ?? '', /Exported 2 performance runs/)
      const b = store()
      assert.equal(await runPerfBackupCommand({ store: b, action: 'import', file, out: (l) => out.push(l) }), 0)
      assert.deepEqual(b.exportJson().runs, a.exportJson().runs)
      assert.equal(
        await runPerfBackupCommand({ store: b, action: 'import', file, merge: true, out: (l) => out.push(l) }),
        0,
      )
      assert.equal(b.exportJson().runs.length, 4)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('exit 1 with a message for a missing file, non-JSON and a wrong shape, keeping history', async () => {
    const s = store()
    s.recordRuns([run('p,a', 1)])
    const cases: [string, RegExp][] = [['{ nope', /not JSON/], ['{"runs": 3}', /Cannot import performance data/]]
    for (const [text, msg] of cases) {
      const out: string[] = []
      assert.equal(
        await runPerfBackupCommand({
          store: s,
          action: 'import',
          file: 'x.json',
          readFile: async () => text,
          out: (l) => out.push(l),
        }),
        1,
      )
      assert.match(out.join('\n'), msg)
    }
    const out: string[] = []
    assert.equal(
      await runPerfBackupCommand({
        store: s,
        action: 'import',
        file: '/nonexistent/dir/x.json',
        out: (l) => out.push(l),
      }),
      1,
    )
    assert.match(out[0] ?? '', /Cannot import \/nonexistent/)
    assert.equal(s.history('p,a').length, 1)
  })
})
