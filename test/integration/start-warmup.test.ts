/**
 * The start-up warm-up as the server runs it (src/cli/server.ts): before listening, and with
 * nothing of it in the served instance's metrics, usage, recent requests or latencies.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startMockServer } from '../../src/demo/server.ts'
import { buildServer } from '../../src/cli/server.ts'
import { parseConfig } from '../../src/config/load.ts'
import { createLogger } from '../../src/log.ts'
import type { WarmupOptions } from '../../src/warmup.ts'

async function withServer(
  warmup: WarmupOptions | undefined,
  fn: (url: string, logged: () => readonly Record<string, unknown>[]) => Promise<void>,
): Promise<void> {
  const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
  const lines: string[] = []
  const file = {
    Providers: [{ name: 'oai', api_base_url: `${mock.url}/v1/chat/completions`, api_key: 'k', models: ['m'] }],
    Router: { default: 'oai,m' },
  }
  const parsed = parseConfig(JSON.stringify(file), {})
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  const s = await buildServer(parsed.value.config, {
    host: '127.0.0.1',
    port: 0,
    dataDir: ':memory:',
    log: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    env: {},
    ...(warmup ? { warmup } : {}),
  })
  try {
    await fn(s.url, () => lines.map((l) => JSON.parse(l) as Record<string, unknown>))
    assert.equal(mock.mock.attempts().length, 0, 'the warm-up never reaches a configured upstream')
  } finally {
    await s.shutdown(1_000)
    await mock.stop()
  }
}

const warmupLines = (logged: readonly Record<string, unknown>[]) =>
  logged.filter((l) => String(l.msg).startsWith('start-up warm-up'))

describe('start-up warm-up in the server', () => {
  it('runs before listening and leaves the served instance with no traffic recorded', () =>
    withServer({ requests: 48 }, async (url, logged) => {
      const lines = warmupLines(logged())
      assert.equal(lines.length, 1)
      assert.deepEqual({ msg: lines[0]!.msg, requests: lines[0]!.requests, failed: lines[0]!.failed }, {
        msg: 'start-up warm-up done',
        requests: 48,
        failed: 0,
      })
      const metrics = await (await fetch(`${url}/metrics`)).text()
      assert.deepEqual(metrics.split('\n').filter((l) => /^ccr_requests_total\{/.test(l)), [])
      const recent = await (await fetch(`${url}/v1/requests`)).json() as { requests: unknown[] }
      assert.deepEqual(recent.requests, [])
      const usage = await (await fetch(`${url}/v1/usage`)).json() as Record<string, unknown>
      assert.equal(JSON.stringify(usage).match(/"(total_)?requests":[1-9]/), null, JSON.stringify(usage))
      const latencies = await (await fetch(`${url}/v1/latencies`)).json()
      assert.equal(JSON.stringify(latencies).match(/"(samples|sample_count)":[1-9]/), null, JSON.stringify(latencies))
    }))

  it('is skipped when not asked for', () =>
    withServer(undefined, async (_url, logged) => {
      assert.deepEqual(warmupLines(logged()), [])
    }))
})
