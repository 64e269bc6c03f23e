/**
 * The server as a process: a start that cannot listen exits 1 (and names the Switchyard that
 * holds the port), a start without Bun's fetch limit starts again in place with it set, and
 * where it cannot (no execve), the relaunched server never outlives the parent that launched it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processAlive, readPidFile } from '../../src/cli/pidfile.ts'
import { isBun, runCli, startCli } from '../cli/run.ts'

const NO_EXECVE = fileURLToPath(new URL('../cli/no-execve.ts', import.meta.url))

function configIn(dir: string, extra: Record<string, unknown> = { LOG: false }): string {
  const path = join(dir, 'config.json')
  writeFileSync(
    path,
    JSON.stringify({
      ...extra,
      Providers: [{ name: 'p', api_base_url: 'http://127.0.0.1:9/v1/chat/completions', api_key: 'k', models: ['m'] }],
      Router: { default: 'p,m' },
    }),
  )
  return path
}

/** Resolves true when a TCP connection to the port succeeds, false when it is refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

describe('cli process', () => {
  it('start --warmup warms up before it listens (SWITCHYARD_WARMUP=N of them), and start alone does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-warmup-'))
    const config = configIn(dir, { LOG_LEVEL: 'debug' })
    for (const asked of [true, false]) {
      const s = await startCli(
        ['start', '--config', config, '--port', '0', '--data-dir', ':memory:', ...(asked ? ['--warmup'] : [])],
        /listening on http:\/\/127\.0\.0\.1:(\d+)/,
        { env: { ...(asked ? { SWITCHYARD_WARMUP: '24' } : {}), BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
      )
      try {
        const warmed = s.output().match(/.*"msg":"start-up warm-up[^\n]*/g) ?? []
        if (!asked) assert.deepEqual(warmed, [])
        else {
          assert.equal(warmed.length, 1, s.output())
          assert.match(warmed[0]!, /"msg":"start-up warm-up done","requests":24,"failed":0/)
          // Logged before the banner: the instance listens only once the warm-up is over.
          assert.ok(s.output().indexOf(warmed[0]!) < s.output().indexOf('listening on'))
        }
      } finally {
        s.child.kill('SIGTERM')
        await s.exited
      }
    }
  })

  it("--verbose (CCR 2.0's flag) logs, at debug level, though the config says LOG: false", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-verbose-'))
    const config = configIn(dir) // LOG: false
    for (const verbose of [true, false]) {
      const s = await startCli(
        [...(verbose ? ['--verbose'] : []), 'start', '--config', config, '--port', '0', '--data-dir', ':memory:'],
        /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      )
      try {
        const res = await fetch(`http://127.0.0.1:${s.match[1]}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'p,m', messages: [{ role: 'user', content: 'hi' }] }),
        })
        await res.text() // the upstream (port 9) refuses: a logged failure either way
        await new Promise((r) => setTimeout(r, 200))
        const lines = s.output().split('\n').filter((l) => l.startsWith('{'))
        const requests = lines.filter((l) => /"msg":"request"/.test(l))
        assert.equal(requests.length, verbose ? 1 : 0, s.output())
      } finally {
        s.child.kill('SIGTERM')
        await s.exited
      }
    }
  })

  it('SIGTERM the moment the ready line appears: a graceful stop (PID file removed, exit 0), every time', async () => {
    // A supervisor acts on the ready line at once. The signal handlers must already be in place
    // then; before they were, a SIGTERM there sometimes met the signal's default action, which
    // leaves the PID file behind.
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-ready-term-'))
    const config = configIn(dir)
    for (let round = 0; round < 6; round++) {
      const dataDir = join(dir, `data-${round}`)
      const s = await startCli(
        ['start', '--config', config, '--port', '0', '--data-dir', dataDir],
        /listening on http:\/\/127\.0\.0\.1:(\d+)/,
        { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
      )
      s.child.kill('SIGTERM')
      const code = await s.exited
      assert.equal(readPidFile(dataDir), undefined, `round ${round}: the PID file outlived the process\n${s.output()}`)
      // Deno's node:child_process reports the signal it sent as the exit, whatever the child did.
      if (isBun) assert.equal(code, 0, `round ${round}:\n${s.output()}`)
    }
  })

  it('a word start does not take exits 2 naming it, instead of serving on the default port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-extra-'))
    const r = await runCli(['start', '3481', '--config', configIn(dir)], { env: { HOME: dir } })
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /start: unexpected argument "3481"/)
    assert.doesNotMatch(r.stdout, /listening on/)
  })

  it('start on a port something else holds exits 1 with "cannot listen on", instead of hanging', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-busy-'))
    try {
      const r = await runCli([
        'start',
        '--config',
        configIn(dir),
        '--port',
        String(port),
        '--data-dir',
        join(dir, 'data'),
      ], { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' }, timeoutMs: 30_000 })
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`))
    } finally {
      blocker.close()
    }
  })

  it('a second start next to a running Switchyard exits 1 and names it; status does too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-busy2-'))
    const config = configIn(dir)
    const first = await startCli(
      ['start', '--config', config, '--port', '0', '--data-dir', join(dir, 'a')],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
    )
    const port = first.match[1]!
    try {
      const second = await runCli(['start', '--config', config, '--port', port, '--data-dir', join(dir, 'a')], {
        env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' },
      })
      assert.equal(second.code, 1)
      assert.match(second.stderr, /a Switchyard \S+ holds it \(pid \d+/)
      const status = await runCli(['status', '--config', config, '--port', port, '--data-dir', join(dir, 'elsewhere')])
      assert.equal(status.code, 1, 'no instance in this data dir')
      assert.match(status.stdout, new RegExp(`port ${port}: a Switchyard \\S+ holds it`))
    } finally {
      first.child.kill('SIGTERM')
      await first.exited
    }
  })

  it('start without the fetch limit starts again in place: one process, the limit set, gone on SIGTERM', {
    skip: (!isBun || process.platform !== 'linux') && 'Bun only; its environment is read from /proc',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-execve-'))
    const dataDir = join(dir, 'data')
    const s = await startCli(
      ['start', '--config', configIn(dir), '--port', '0', '--data-dir', dataDir],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: undefined } },
    )
    try {
      assert.equal(readPidFile(dataDir)?.pid, s.child.pid, 'the server is the process that was started')
      const environ = readFileSync(`/proc/${s.child.pid}/environ`, 'utf8').split('\0')
      assert.ok(environ.includes('BUN_CONFIG_MAX_HTTP_REQUESTS=65535'), 'the server runs with the fetch limit raised')
      assert.ok(!environ.some((e) => e.startsWith('SWITCHYARD_RELAUNCHED_BY=')), 'nothing to watch: no parent was kept')
      assert.equal(await accepts(Number(s.match[1])), true)
      // And with Bun's header limit raised to Deno's (its own, 16 KiB, answers a bare 431).
      const big = await fetch(`http://127.0.0.1:${s.match[1]}/health`, { headers: { 'x-big': 'a'.repeat(20_000) } })
      assert.equal(big.status, 200)
    } finally {
      s.child.kill('SIGTERM')
    }
    // SIGTERM to the process that was started stops the server gracefully (its handlers are in
    // place before the ready line), and no child is left holding the port.
    assert.equal(await s.exited, 0, s.output())
    assert.equal(await accepts(Number(s.match[1])), false)
  })

  it('without execve (Windows), SIGKILL of the relaunching parent: the child frees the port and exits', {
    skip: !isBun && 'only Bun relaunches itself',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-orphan-'))
    const dataDir = join(dir, 'data')
    // No BUN_CONFIG_MAX_HTTP_REQUESTS, and a preload that takes execve away: the CLI relaunches
    // itself as a detached child.
    const parent = await startCli(
      ['start', '--config', configIn(dir), '--port', '0', '--data-dir', dataDir],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: undefined, BUN_OPTIONS: `--preload ${NO_EXECVE}` } },
    )
    const port = Number(parent.match[1])
    const child = readPidFile(dataDir)?.pid
    try {
      assert.ok(child && child !== parent.child.pid, 'the server runs in a relaunched child')
      assert.equal(await accepts(port), true)
      parent.child.kill('SIGKILL')
      const killedAt = performance.now()
      let freedAfter = Infinity
      while (performance.now() - killedAt < 5_000) {
        if (!(await accepts(port))) {
          freedAfter = performance.now() - killedAt
          break
        }
        await new Promise((r) => setTimeout(r, 20))
      }
      assert.ok(freedAfter < 1_000, `port freed ${Math.round(freedAfter)} ms after the parent's SIGKILL (want < 1000)`)
      for (let i = 0; i < 100 && processAlive(child); i++) await new Promise((r) => setTimeout(r, 50))
      assert.equal(processAlive(child), false, 'the orphaned child exited')
    } finally {
      if (child && processAlive(child)) process.kill(child, 'SIGKILL')
    }
  })
})
