/**
 * `switchyard perf export FILE` / `switchyard perf import FILE [--merge]`: back up and restore
 * the performance history as JSON without starting the server. File access is injectable
 * so tests need no disk; the defaults use node:fs, which Bun and Deno both provide.
 */
import { readFile as fsRead, writeFile as fsWrite } from 'node:fs/promises'
import type { PerformanceStore } from '../store/performance.ts'

export interface PerfBackupOptions {
  readonly store: PerformanceStore
  readonly action: 'export' | 'import'
  readonly file: string
  /** Import only: append to the history instead of replacing it. */
  readonly merge?: boolean
  readonly out: (line: string) => void
  readonly readFile?: (path: string) => Promise<string>
  readonly writeFile?: (path: string, text: string) => Promise<void>
}

/** Run one backup action; exit code 0 on success, 1 when the file cannot be read, written or used. */
export async function runPerfBackupCommand(o: PerfBackupOptions): Promise<number> {
  const read = o.readFile ?? ((p: string) => fsRead(p, 'utf8'))
  const write = o.writeFile ?? ((p: string, t: string) => fsWrite(p, t, 'utf8'))
  try {
    if (o.action === 'export') {
      const data = o.store.exportJson()
      await write(o.file, JSON.stringify(data, null, 2) + '\n')
      o.out(`Exported ${data.runs.length} performance runs to ${o.file}`)
      return 0
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(await read(o.file))
    } catch (e) {
      o.out(`Cannot import ${o.file}: ${e instanceof SyntaxError ? `not JSON (${e.message})` : messageOf(e)}`)
      return 1
    }
    const res = o.store.importJson(parsed, o.merge ? 'merge' : 'replace')
    if (!res.ok) {
      o.out(res.error)
      return 1
    }
    o.out(`Imported ${res.value.runs} performance runs from ${o.file} (${o.merge ? 'merged' : 'replaced'})`)
    return 0
  } catch (e) {
    o.out(`Cannot ${o.action} performance data with ${o.file}: ${messageOf(e)}`)
    return 1
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
