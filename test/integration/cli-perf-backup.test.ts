/**
 * `switchyard perf export FILE` and `perf import FILE [--merge]` through the real CLI: the
 * `--merge` flag the help and docs/performance.md name is accepted and reaches the import.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../cli/run.ts'

describe('switchyard perf export / import', () => {
  it('export writes a backup; import replaces by default and merges with --merge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-perf-cli-'))
    try {
      const file = join(dir, 'perf.json')
      const data = ['--data-dir', join(dir, 'data')]
      const exported = await runCli(['perf', 'export', file, ...data], { env: { HOME: dir } })
      assert.equal(exported.code, 0, exported.stderr)
      assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { format: string }).format, 'switchyard-performance')
      const replaced = await runCli(['perf', 'import', file, ...data], { env: { HOME: dir } })
      assert.equal(replaced.code, 0, replaced.stderr)
      assert.match(replaced.stdout, /\(replaced\)/)
      const merged = await runCli(['perf', 'import', file, '--merge', ...data], { env: { HOME: dir } })
      assert.equal(merged.code, 0, merged.stderr)
      assert.match(merged.stdout, /\(merged\)/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
