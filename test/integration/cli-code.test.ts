/**
 * `switchyard code`, `activate`, `restart` and per-command help, end to end through the real
 * CLI. A fake `claude` (test/fixtures/fake-claude.sh) records the arguments and environment it
 * got, and can hold until the test opens its gate, so the test sees the service while it runs.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { processAlive, readPidFile } from '../../src/cli/pidfile.ts'
import { runCli, startCli } from '../cli/run.ts'
import { freePort } from '../../harness/stress/proc.ts'

const FAKE = fileURLToPath(new URL('../fixtures/fake-claude.sh', import.meta.url))

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })).ok
  } catch {
    return false
  }
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function setup(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-code-'))
  const config = join(dir, 'config.json')
  writeFileSync(
    config,
    JSON.stringify({
      LOG: false,
      APIKEY: 'sk-local-key',
      Providers: [{ name: 'p', api_base_url: 'http://127.0.0.1:9/v1/chat/completions', api_key: 'k', models: ['m'] }],
      Router: { default: 'p,m' },
      ...extra,
    }),
  )
  const dataDir = join(dir, 'data')
  const out = (name: string) => join(dir, `claude-${name}`)
  const recorded = (name: string) => ({
    args: readFileSync(join(out(name), 'args'), 'utf8').split('\n').filter((l) => l !== ''),
    env: Object.fromEntries(
      readFileSync(join(out(name), 'env'), 'utf8').split('\n').filter(Boolean).map((
        l,
      ) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>,
  })
  return { dir, config, dataDir, out, recorded }
}

/** An agent command whose executable is missing: exit 1 with `message`, and no service started. */
async function missingAgent(command: string, pathVar: string, message: RegExp): Promise<void> {
  const s = setup()
  const port = await freePort()
  const r = await runCli(['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, command], {
    env: { [pathVar]: join(s.dir, `no-such-${command}`) },
  })
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, message)
  assert.equal(readPidFile(s.dataDir), undefined, 'no service was started')
}

describe('switchyard code', () => {
  it("starts the service, runs Claude Code with CCR's environment and the arguments as given, returns its exit code, then stops the service it started", async () => {
    const s = setup()
    const port = await freePort()
    const gate = join(s.dir, 'gate')
    const run = runCli([
      '--config',
      s.config,
      '--port',
      String(port),
      '--data-dir',
      s.dataDir,
      'code',
      '-p',
      'hello world',
      '--model',
      'sonnet',
    ], {
      env: {
        CLAUDE_PATH: FAKE,
        FAKE_CLAUDE_OUT: s.out('a'),
        FAKE_CLAUDE_GATE: gate,
        FAKE_CLAUDE_EXIT: '7',
        CLAUDE_CODE_USE_BEDROCK: '1',
        CI: undefined,
      },
      timeoutMs: 60_000,
    })
    await until(() => existsSync(join(s.out('a'), 'started')), 'the fake claude to start')
    assert.equal(await answers(port), true, 'the service answers while Claude Code runs')
    const servicePid = readPidFile(s.dataDir)?.pid
    assert.ok(servicePid)
    writeFileSync(gate, '')
    const r = await run
    assert.equal(r.code, 7, r.stderr)
    const { args, env } = s.recorded('a')
    assert.deepEqual(args, ['-p', 'hello world', '--model', 'sonnet'])
    assert.equal(env.ANTHROPIC_BASE_URL, `http://127.0.0.1:${port}`)
    assert.equal(env.ANTHROPIC_AUTH_TOKEN, 'sk-local-key')
    assert.equal(env.ANTHROPIC_API_KEY, '')
    assert.equal(env.API_TIMEOUT_MS, '600000')
    assert.equal(env.NO_PROXY, '127.0.0.1,localhost')
    assert.equal(env.DISABLE_TELEMETRY, '1')
    assert.equal(env.CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY, '1')
    assert.equal(env.DISABLE_COST_WARNINGS, '1')
    assert.equal(env.CLAUDE_CODE_USE_BEDROCK, undefined)
    assert.equal(env.CI, undefined, 'interactive by default')
    await until(() => !processAlive(servicePid), 'the service it started to stop')
    assert.equal(await answers(port), false)
  })

  it('reference-counts concurrent sessions: the service stops only when the last one exits', async () => {
    const s = setup()
    const port = await freePort()
    const common = ['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'code']
    const gateA = join(s.dir, 'gate-a')
    const gateB = join(s.dir, 'gate-b')
    const a = runCli(common, {
      env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('a'), FAKE_CLAUDE_GATE: gateA },
      timeoutMs: 60_000,
    })
    await until(() => existsSync(join(s.out('a'), 'started')), 'session a')
    const b = runCli(common, {
      env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('b'), FAKE_CLAUDE_GATE: gateB },
      timeoutMs: 60_000,
    })
    await until(() => existsSync(join(s.out('b'), 'started')), 'session b')
    const servicePid = readPidFile(s.dataDir)!.pid
    writeFileSync(gateA, '')
    assert.equal((await a).code, 0)
    assert.equal(await answers(port), true, 'still serving session b')
    assert.equal(readPidFile(s.dataDir)?.pid, servicePid, 'one service for both sessions')
    writeFileSync(gateB, '')
    assert.equal((await b).code, 0)
    await until(() => !processAlive(servicePid), 'the service to stop after the last session')
  })

  it("a service that was already running is used and left running; NON_INTERACTIVE_MODE sets CCR's CI environment", async () => {
    const s = setup({ NON_INTERACTIVE_MODE: true })
    const server = await startCli(
      ['start', '--config', s.config, '--port', '0', '--data-dir', s.dataDir],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
    )
    const port = Number(server.match[1])
    try {
      const r = await runCli(['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'code', 'ok'], {
        env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('c') },
      })
      assert.equal(r.code, 0, r.stderr)
      const { env } = s.recorded('c')
      assert.equal(env.CI, 'true')
      assert.equal(env.TERM, 'dumb')
      assert.equal(env.FORCE_COLOR, '0')
      assert.equal(env.NODE_NO_READLINE, '1')
      assert.equal(await answers(port), true, 'not ours to stop')
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })

  it("StatusLine.enabled: Claude Code gets switchyard's status line through --settings (CCR 2.0), a command that runs", async () => {
    const s = setup({ StatusLine: { enabled: true } })
    const port = await freePort()
    const r = await runCli(
      ['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'code', '-p', 'hi'],
      {
        env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('status') },
        timeoutMs: 60_000,
      },
    )
    assert.equal(r.code, 0, r.stderr)
    const { args } = s.recorded('status')
    assert.equal(args[0], '--settings')
    assert.deepEqual(args.slice(2), ['-p', 'hi'])
    const settings = JSON.parse(args[1]!) as { statusLine: { type: string; command: string; padding: number } }
    assert.deepEqual([settings.statusLine.type, settings.statusLine.padding], ['command', 0])
    assert.match(settings.statusLine.command, /statusline --config /)
    // Claude Code runs it through a shell with its JSON on stdin: it prints the line.
    const line = spawnSync('sh', ['-c', settings.statusLine.command], {
      input: JSON.stringify({
        model: { id: 'claude-sonnet-4', display_name: 'Sonnet' },
        workspace: { current_dir: s.dir },
      }),
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
    assert.equal(line.status, 0, line.stderr)
    assert.match(line.stdout, /Sonnet|claude-sonnet-4/)
    // Without StatusLine.enabled nothing is added (the user's own settings stay in charge).
    const plain = setup()
    await runCli(['--config', plain.config, '--port', String(port), '--data-dir', plain.dataDir, 'code', '-p', 'hi'], {
      env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: plain.out('plain') },
      timeoutMs: 60_000,
    })
    assert.deepEqual(plain.recorded('plain').args, ['-p', 'hi'])
  })

  it('no Claude Code: exit 1 with a message that says how to get it, before any service is started', async () => {
    const s = setup()
    const port = await freePort()
    const args = ['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'code']
    // CLAUDE_PATH pointing nowhere, then no `claude` on PATH.
    for (const env of [{ CLAUDE_PATH: join(s.dir, 'no-such-claude') }, { CLAUDE_PATH: undefined, PATH: s.dir }]) {
      const r = await runCli(args, { env })
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /Claude Code not found \(tried "[^"]*(no-such-claude|claude)"\).*set CLAUDE_PATH/)
      assert.doesNotMatch(r.stderr, /starting the service/)
      assert.equal(readPidFile(s.dataDir), undefined, 'no service was started')
      assert.equal(existsSync(join(s.dataDir, 'switchyard.log')), false)
      assert.equal(await answers(port), false)
    }
  })

  it('no Claude Code while the service already runs: exit 1, and the service keeps running', async () => {
    const s = setup()
    const server = await startCli(
      ['start', '--config', s.config, '--port', '0', '--data-dir', s.dataDir],
      /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
    )
    try {
      const r = await runCli(['--config', s.config, '--port', server.match[1]!, '--data-dir', s.dataDir, 'code'], {
        env: { CLAUDE_PATH: join(s.dir, 'no-such-claude') },
      })
      assert.equal(r.code, 1)
      assert.match(r.stderr, /Claude Code not found .*set CLAUDE_PATH/)
      assert.equal(await answers(Number(server.match[1])), true)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })

  it('a service that cannot start is reported with its log, not waited for forever; an invalid config before anything starts', async () => {
    const s = setup()
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    try {
      const r = await runCli(['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'code'], {
        env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('d') },
        timeoutMs: 60_000,
      })
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /the service exited with code 1 before answering/)
      assert.match(r.stderr, /switchyard\.log ends with:\n.*cannot listen on 127\.0\.0\.1/)
      assert.equal(existsSync(join(s.out('d'), 'args')), false, 'Claude Code did not run')
    } finally {
      blocker.close()
    }
    writeFileSync(s.config, '{ "Providers": [ }')
    const bad = await runCli(['--config', s.config, '--data-dir', s.dataDir, 'code'], {
      env: { CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('d') },
    })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /JSON5/)
  })
})

describe('switchyard codex', () => {
  it('runs the Codex CLI with its own provider pointed here (-c openai_base_url) and the key, the arguments as given after it, then stops the service it started', async () => {
    const s = setup()
    const port = await freePort()
    const gate = join(s.dir, 'gate')
    const run = runCli(
      ['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'codex', 'exec', '--json', 'say hi'],
      {
        env: { CODEX_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('x'), FAKE_CLAUDE_GATE: gate, FAKE_CLAUDE_EXIT: '3' },
        timeoutMs: 60_000,
      },
    )
    await until(() => existsSync(join(s.out('x'), 'started')), 'the fake codex to start')
    assert.equal(await answers(port), true, 'the service answers while Codex runs')
    const servicePid = readPidFile(s.dataDir)?.pid
    writeFileSync(gate, '')
    const r = await run
    assert.equal(r.code, 3, r.stderr)
    const { args, env } = s.recorded('x')
    assert.deepEqual(args, ['-c', `openai_base_url="http://127.0.0.1:${port}/v1"`, 'exec', '--json', 'say hi'])
    assert.equal(env.OPENAI_API_KEY, 'sk-local-key')
    assert.equal(env.ANTHROPIC_BASE_URL, undefined, "Claude Code's environment is not Codex's")
    await until(() => servicePid === undefined || !processAlive(servicePid), 'the service it started to stop')
    assert.equal(await answers(port), false)
  })

  it('no Codex CLI: exit 1 naming the install and CODEX_PATH, before any service is started', async () => {
    await missingAgent(
      'codex',
      'CODEX_PATH',
      /Codex CLI not found \(tried "[^"]*no-such-codex"\).*@openai\/codex.*set CODEX_PATH/,
    )
  })
})

describe('switchyard gemini', () => {
  it("runs the Gemini CLI with GOOGLE_GEMINI_BASE_URL here, the key and a model, says when its settings' auth type does not come here, then stops the service", async () => {
    const s = setup()
    const port = await freePort()
    const home = join(s.dir, 'home')
    mkdirSync(join(home, '.gemini'), { recursive: true })
    writeFileSync(
      join(home, '.gemini', 'settings.json'),
      '{ "security": { "auth": { "selectedType": "oauth-personal" } } }',
    )
    const r = await runCli(
      ['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'gemini', '--skip-trust', '-p', 'hi'],
      {
        env: { GEMINI_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('g'), HOME: home, GEMINI_MODEL: undefined },
        timeoutMs: 60_000,
      },
    )
    assert.equal(r.code, 0, r.stderr)
    const { args, env } = s.recorded('g')
    assert.deepEqual(args, ['--skip-trust', '-p', 'hi'])
    assert.equal(env.GOOGLE_GEMINI_BASE_URL, `http://127.0.0.1:${port}`)
    assert.equal(env.GEMINI_API_KEY, 'sk-local-key')
    assert.equal(env.GEMINI_MODEL, 'gemini-2.5-pro', 'a model, so the CLI asks no classifier first')
    assert.equal(env.ANTHROPIC_BASE_URL, undefined)
    assert.match(
      r.stderr,
      new RegExp(
        `"oauth-personal", whose requests do not go through Switchyard.*${join(home, '.gemini', 'settings.json')}`,
      ),
    )
    await until(async () => !(await answers(port)), 'the service it started to stop')

    // With the API-key auth chosen and a model given, nothing is said and the model is the user's.
    writeFileSync(
      join(home, '.gemini', 'settings.json'),
      '{ "security": { "auth": { "selectedType": "gemini-api-key" } } }',
    )
    const again = await runCli(
      ['--config', s.config, '--port', String(port), '--data-dir', s.dataDir, 'gemini', '-m', 'p,m'],
      {
        env: { GEMINI_PATH: FAKE, FAKE_CLAUDE_OUT: s.out('h'), HOME: home, GEMINI_MODEL: undefined },
        timeoutMs: 60_000,
      },
    )
    assert.equal(again.code, 0, again.stderr)
    assert.doesNotMatch(again.stderr, /auth type/)
    assert.equal(s.recorded('h').env.GEMINI_MODEL, undefined)
    assert.deepEqual(s.recorded('h').args, ['-m', 'p,m'])
  })

  it('no Gemini CLI: exit 1 naming the install and GEMINI_PATH, before any service is started', async () => {
    await missingAgent(
      'gemini',
      'GEMINI_PATH',
      /Gemini CLI not found \(tried "[^"]*no-such-gemini"\).*@google\/gemini-cli.*set GEMINI_PATH/,
    )
  })
})

describe('activate, restart, help', () => {
  it('activate prints the export lines; an APIKEY written as $VAR stays a reference; ANTHROPIC_SMALL_FAST_MODEL is passed on', async () => {
    const s = setup({ APIKEY: '$MY_SWITCHYARD_KEY', ANTHROPIC_SMALL_FAST_MODEL: '${SMALL_PROVIDER},mock-a' })
    const r = await runCli(['activate', '--config', s.config, '--port', '4567'], {
      env: { MY_SWITCHYARD_KEY: 'secret-value', SMALL_PROVIDER: 'anth' },
    })
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.ok(lines.includes(`export ANTHROPIC_BASE_URL='http://127.0.0.1:4567'`), r.stdout)
    assert.ok(lines.includes('export ANTHROPIC_AUTH_TOKEN="$MY_SWITCHYARD_KEY"'))
    assert.ok(lines.includes(`export ANTHROPIC_API_KEY=''`))
    assert.ok(lines.includes('unset CLAUDE_CODE_USE_BEDROCK'))
    assert.ok(lines.includes(`export ANTHROPIC_SMALL_FAST_MODEL='anth,mock-a'`), r.stdout)
    assert.doesNotMatch(r.stdout, /secret-value/)
    const env = await runCli(['env', '--config', s.config, '--port', '4567'], {
      env: { MY_SWITCHYARD_KEY: 'secret-value', SMALL_PROVIDER: 'anth' },
    })
    assert.equal(env.stdout, r.stdout, 'env is an alias')
  })

  it("CCR's SERVICE_PORT is every command's port: restart starts the service on it, status and stop find it there", async () => {
    const s = setup({ PORT: 9 })
    const port = await freePort()
    const env = { SERVICE_PORT: String(port) }
    mkdirSync(s.dataDir, { recursive: true })
    const args = ['--config', s.config, '--data-dir', s.dataDir]
    const started = await runCli(['restart', ...args], { env, timeoutMs: 60_000 })
    assert.equal(started.code, 0, started.stderr)
    assert.equal(await answers(port), true, 'listening on SERVICE_PORT, not the config PORT')
    const status = await runCli(['status', ...args], { env })
    assert.equal(status.code, 0, status.stdout + status.stderr)
    assert.match(status.stdout, new RegExp(`:${port}\\b`))
    const stopped = await runCli(['stop', ...args], { env })
    assert.equal(stopped.code, 0, stopped.stderr)
    await until(async () => !(await answers(port)), 'the service to stop')
  })

  it('restart stops the running instance and starts a new one in the background', async () => {
    const s = setup()
    const port = await freePort()
    mkdirSync(s.dataDir, { recursive: true })
    const first = await runCli(['restart', '--config', s.config, '--port', String(port), '--data-dir', s.dataDir], {
      timeoutMs: 60_000,
    })
    assert.equal(first.code, 0, first.stderr)
    const pid1 = readPidFile(s.dataDir)!.pid
    const second = await runCli(['restart', '--config', s.config, '--port', String(port), '--data-dir', s.dataDir], {
      timeoutMs: 60_000,
    })
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stdout, new RegExp(`stopped pid ${pid1}`))
    const pid2 = readPidFile(s.dataDir)!.pid
    assert.notEqual(pid2, pid1)
    assert.equal(processAlive(pid1), false)
    assert.equal(await answers(port), true)
    const stop = await runCli(['stop', '--data-dir', s.dataDir])
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(processAlive(pid2), false)
  })

  it('every command has --help with an example; `help COMMAND` is the same', async () => {
    for (
      const cmd of [
        'start',
        'code',
        'codex',
        'activate',
        'statusline',
        'model',
        'validate',
        'status',
        'stop',
        'restart',
        'probe',
        'perf',
      ]
    ) {
      const r = await runCli(cmd === 'code' || cmd === 'codex' ? ['help', cmd] : [cmd, '--help'])
      assert.equal(r.code, 0, cmd)
      assert.match(r.stdout, new RegExp(`switchyard.*${cmd}`), cmd)
      assert.match(r.stdout, /Examples?( \(.*\))?:/, `${cmd} has an example`)
    }
    assert.equal((await runCli(['help', 'restart'])).stdout, (await runCli(['restart', '--help'])).stdout)
  })
})
