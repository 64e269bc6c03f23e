/** `switchyard probe` (active tests once, no server) and `switchyard perf export|import FILE`. */
import { join } from 'node:path'
import type { CliOptions } from './options.ts'
import { readConfig } from './options.ts'
import { createServices } from '../compose.ts'
import { createLogger } from '../log.ts'
import { runPerfBackupCommand } from './perf-backup.ts'
import { runProbeCommand } from './probe-command.ts'
import { TEST_TYPES, type TestType } from '../perf/types.ts'
import { createProbeSender } from '../proxy/probe-sender.ts'
import { openStore, STORE_FILE } from '../store/db.ts'
import { PerformanceStore } from '../store/performance.ts'
import type { Env } from './options.ts'
import { dataDirOf } from './status.ts'

export async function runProbe(opts: CliOptions, env: Env): Promise<number> {
  const r = await readConfig(opts, env)
  if (r.errors.length || !r.config) {
    for (const e of r.errors.length ? r.errors : [`${r.path}: no such file`]) console.error(e)
    return 2
  }
  if (opts.type !== undefined && !TEST_TYPES.includes(opts.type as TestType)) {
    console.error(`--type: expected one of ${TEST_TYPES.join(', ')}, got "${opts.type}"`)
    return 2
  }
  const services = createServices(r.config, { log: createLogger({ level: 'warn' }) })
  try {
    return await runProbeCommand({
      config: r.config,
      sender: createProbeSender(services.deps),
      models: opts.models?.split(';').map((m) => m.trim()).filter(Boolean),
      type: opts.type as TestType | undefined,
      out: (line) => console.log(line),
      isTTY: process.stdout.isTTY === true,
    })
  } finally {
    services.deps.watchdog.stop()
  }
}

export async function runPerf(opts: CliOptions, env: Env): Promise<number> {
  const [sub, file] = opts.rest
  if ((sub !== 'export' && sub !== 'import') || !file) {
    console.error('usage: switchyard perf export FILE | perf import FILE [--merge]')
    return 2
  }
  const dir = dataDirOf(opts, env)
  const store = openStore(
    dir === ':memory:' ? ':memory:' : join(dir, STORE_FILE),
    (m) => console.error(`warning: ${m}`),
  )
  const perf = PerformanceStore.open({ store, now: Date.now, warn: (m) => console.error(`warning: ${m}`) })
  try {
    return await runPerfBackupCommand({
      store: perf,
      action: sub,
      file,
      merge: opts.merge === true,
      out: (line) => console.log(line),
    })
  } finally {
    perf.close()
    store.close()
  }
}
