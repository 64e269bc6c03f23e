/**
 * Closing an instance while a performance test job runs: the close waits for the job to end
 * (its tests aborted), so nothing the job does afterwards meets a closed database.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInstance } from '../../src/compose.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { createLogger } from '../../src/log.ts'
import { configOf, testConfigFile } from './helpers.ts'

describe('performance jobs and close', () => {
  it('a job in flight when the instance closes ends as stopped before the stores close: no "database is not open"', async () => {
    const mock = createMockUpstream()
    const logs: string[] = []
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => {
      unhandled.push(e)
    }
    process.on('unhandledRejection', onUnhandled)
    // Every upstream answer comes 150 ms late (or when the call is aborted).
    const slowFetch = async (req: Request): Promise<Response> => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 150)
        req.signal.addEventListener('abort', () => {
          clearTimeout(t)
          resolve()
        }, { once: true })
      })
      return await mock.fetch(req)
    }
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-perf-close-'))
    const inst = await createInstance(configOf(testConfigFile()), {
      dataDir: dir,
      fetch: slowFetch,
      log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    })
    const id = inst.engine.startJob({ models: ['oai,mock-o', 'anth,mock-a'], types: ['health', 'latency'] })
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(inst.engine.job(id)?.status, 'running')
    await inst.close()
    const job = inst.engine.job(id)
    assert.notEqual(job?.status, 'running', 'the close waited for the job')
    const finished = await inst.engine.waitJob(id)
    assert.equal(finished?.status, 'stopped')
    // Anything late would show up within the upstream's delay.
    await new Promise((r) => setTimeout(r, 250))
    process.off('unhandledRejection', onUnhandled)
    assert.deepEqual(unhandled.map(String), [])
    assert.ok(
      !logs.some((l) => /not open|closed database/i.test(l)),
      logs.filter((l) => /not open|closed/i.test(l)).join('\n'),
    )
  })
})
