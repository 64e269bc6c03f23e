/**
 * The REAL Claude Code CLI (`@anthropic-ai/claude-code`, pinned in tools/claude-code/, installed
 * by .ci/run) headless against Switchyard, whose upstream is the demo mock on 127.0.0.1:
 * (a) a plain answer through an OpenAI-format upstream (translation both ways);
 * (b) one tool round trip: the mock calls Claude Code's Bash tool, Claude Code runs it in a temp
 *     dir and sends the tool_result back, the mock then answers with text — through an OpenAI and
 *     an Anthropic-format upstream;
 * (c) `switchyard code -p …` end to end: it starts the service, runs the real binary
 *     (CLAUDE_PATH) with CCR's environment and stops the service when Claude Code exits;
 * (d) the session id Claude Code sends in `metadata.user_id` reaches a CCR custom router;
 * (e) CCR's project and session Router files route the sessions of a project;
 * (f) Router.think takes what asks for more reasoning than Claude Code's default.
 * Offline: temp HOME with onboarding done, telemetry, auto-update, error reporting and
 * nonessential traffic off; every run is killed after a timeout.
 *
 * The binary missing means the install step did not run: skipped with the reason, or a failure
 * when SWITCHYARD_REQUIRE_CLAUDE_CODE=1 (.ci/run sets it, so CI cannot lose the proof silently).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chunkText } from '../../src/demo/upstream.ts'
import { type MockServer, startMockServer } from '../../src/demo/server.ts'
import { freePort } from '../../harness/stress/proc.ts'
import { type CliResult, collect, runCli, startCli } from '../cli/run.ts'

/** The version pinned in tools/claude-code/package.json (checked below, so the README's claim stays true). */
const PINNED = '2.1.332'
const CLAUDE = fileURLToPath(new URL('../../tools/claude-code/node_modules/.bin/claude', import.meta.url))
const installed = existsSync(CLAUDE)
const required = process.env.SWITCHYARD_REQUIRE_CLAUDE_CODE === '1'
/** Runs on both runtimes: Switchyard (started by startCli / runCli) then runs on the runtime under test. */
const skip = !installed && !required
  ? `Claude Code is not installed (run: npm ci --prefix tools/claude-code): ${CLAUDE} is missing`
  : false

/** Keeps the CLI offline and quiet: no login, telemetry, error reports, update checks or other hosts. */
const OFFLINE = {
  DISABLE_TELEMETRY: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_BUG_COMMAND: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  NO_PROXY: '127.0.0.1,localhost',
}

const BASH_INPUT = { command: 'echo hi > out.txt', description: 'Write hi to out.txt' }
const TEXT = (n: number) => Array.from({ length: n }, (_, i) => chunkText(i + 1, 1)).join('')
const RUN_MS = 20_000

/** A temp HOME where Claude Code has finished onboarding (so it never prompts) and a temp work dir. */
function sandbox(root: string, name: string): { home: string; cwd: string } {
  const home = join(root, `home-${name}`)
  const cwd = join(root, `work-${name}`)
  mkdirSync(join(home, '.claude'), { recursive: true })
  mkdirSync(cwd, { recursive: true })
  writeFileSync(
    join(home, '.claude.json'),
    JSON.stringify({ hasCompletedOnboarding: true, bypassPermissionsModeAccepted: false }),
  )
  return { home, cwd }
}

/** Runs the real `claude` with only the environment given (nothing from this machine's shell). */
function claude(args: readonly string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  const child = spawn(CLAUDE, [...args], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...OFFLINE, ...env },
  })
  return collect(child, undefined, RUN_MS)
}

interface ResultMessage {
  type: string
  subtype: string
  is_error: boolean
  result: string
  num_turns: number
  permission_denials: unknown[]
}

/** The `--output-format json` result (the last JSON line of stdout). */
function resultOf(r: CliResult): ResultMessage {
  const line = r.stdout.trim().split('\n').at(-1) ?? ''
  try {
    return JSON.parse(line) as ResultMessage
  } catch {
    throw new Error(`no JSON result from claude (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  }
}

describe('the real Claude Code CLI against Switchyard', { skip }, () => {
  let root: string
  let mock: MockServer
  let service: Awaited<ReturnType<typeof startCli>> | undefined
  let baseUrl: string
  const KEY = 'sk-switchyard-e2e'

  /** Switchyard's config: an OpenAI-format and an Anthropic-format provider, both the mock. */
  const config = (port: number) => ({
    LOG: false,
    APIKEY: KEY,
    PORT: port,
    HOST: '127.0.0.1',
    Providers: [
      {
        name: 'oai',
        api_base_url: `${mock.url}/v1/chat/completions`,
        api_key: 'k1',
        models: ['mock:chunks=3', 'mock:chunks=4', 'mock:mode=tool:tool-once:chunks=2'],
      },
      {
        name: 'ant',
        api_base_url: `${mock.url}/v1/messages`,
        api_key: 'k2',
        models: ['mock:mode=tool:tool-once:chunks=5'],
        transformer: { use: ['Anthropic'] },
      },
    ],
    // Claude Code's background model (a haiku) and the default both land on the mock.
    Router: { default: 'oai,mock:chunks=3', background: 'oai,mock:chunks=4' },
  })

  before(async () => {
    assert.ok(
      installed,
      `Claude Code is required (SWITCHYARD_REQUIRE_CLAUDE_CODE=1) but ${CLAUDE} is missing: run npm ci --prefix tools/claude-code`,
    )
    root = mkdtempSync(join(tmpdir(), 'switchyard-claude-code-'))
    // Only tool mode reads these: the Bash call Claude Code is asked to run.
    mock = await startMockServer({ port: 0, defaults: { toolName: 'Bash', toolInput: JSON.stringify(BASH_INPUT) } })
    const port = await freePort()
    writeFileSync(join(root, 'config.json'), JSON.stringify(config(port)))
    service = await startCli(
      ['--config', join(root, 'config.json'), '--data-dir', join(root, 'data'), 'start'],
      /listening on (http:\/\/\S+)/,
      { timeoutMs: 20_000 },
    )
    baseUrl = service.match[1] ?? ''
  })

  after(async () => {
    service?.child.kill('SIGTERM')
    await service?.exited
    await mock?.stop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  const env = (home: string) => ({
    HOME: home,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_AUTH_TOKEN: KEY,
    ANTHROPIC_API_KEY: '',
  })

  /** `switchyard code -p 'Say hello' …` with the config `file` (its own port) in a dir of its own, the answer as JSON. */
  const codeSayHello = (
    name: string,
    file: Record<string, unknown>,
    args: readonly string[] = [],
  ): { home: string; cwd: string; run: () => Promise<CliResult> } => {
    const { home, cwd } = sandbox(root, name)
    const dir = join(root, name)
    mkdirSync(dir)
    writeFileSync(join(dir, 'config.json'), JSON.stringify(file))
    const argv = ['--config', join(dir, 'config.json'), '--data-dir', join(dir, 'data'), 'code', '-p', 'Say hello']
    return {
      home,
      cwd,
      run: () =>
        runCli([...argv, '--output-format', 'json', ...args], {
          env: { CLAUDE_PATH: CLAUDE, HOME: home, ...OFFLINE },
          cwd,
          timeoutMs: RUN_MS,
        }),
    }
  }

  /** Runs `run` with the mock's attempt log cleared; the text Claude Code answered (exit 0, no error). */
  const answerOf = async (run: () => Promise<CliResult>): Promise<string> => {
    mock.mock.reset()
    const r = await run()
    assert.equal(r.code, 0, r.stderr)
    const res = resultOf(r)
    assert.equal(res.is_error, false, JSON.stringify(res))
    return res.result.trim()
  }

  it('pins the version the README names', () => {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../tools/claude-code/package.json', import.meta.url)), 'utf8'),
    ) as { dependencies: Record<string, string> }
    assert.equal(pkg.dependencies['@anthropic-ai/claude-code'], PINNED)
    const installedPkg = JSON.parse(
      readFileSync(
        fileURLToPath(
          new URL('../../tools/claude-code/node_modules/@anthropic-ai/claude-code/package.json', import.meta.url),
        ),
        'utf8',
      ),
    ) as { version: string }
    assert.equal(installedPkg.version, PINNED, 'tools/claude-code is installed at the pinned version')
  })

  it('(a) answers a plain prompt through an OpenAI-format upstream', async () => {
    const { home, cwd } = sandbox(root, 'a')
    mock.mock.reset()
    const r = await claude(['-p', 'Say hello', '--output-format', 'json'], env(home), cwd)
    const res = resultOf(r)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(res.is_error, false, JSON.stringify(res))
    assert.equal(res.subtype, 'success')
    assert.equal(res.result.trim(), TEXT(3).trim(), "the mock's text, translated from Chat Completions, is the answer")
    const attempts = mock.mock.attempts()
    assert.ok(attempts.length >= 1)
    assert.ok(attempts.every((a) => a.format === 'openai' && a.status === 200), JSON.stringify(attempts))
  })

  it("(a) routes `--model haiku` (Claude Code's claude-…-haiku-… name) to Router.background, as CCR does", async () => {
    const { home, cwd } = sandbox(root, 'haiku')
    mock.mock.reset()
    const r = await claude(['-p', 'Say hello', '--output-format', 'json', '--model', 'haiku'], env(home), cwd)
    const res = resultOf(r)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(res.is_error, false, JSON.stringify(res))
    assert.equal(res.result.trim(), TEXT(4).trim(), 'the background target answered')
    assert.deepEqual(mock.mock.attempts().map((a) => a.model), ['mock:chunks=4'])
  })

  for (
    const [provider, model, chunks, format] of [
      ['oai', 'mock:mode=tool:tool-once:chunks=2', 2, 'openai'],
      ['ant', 'mock:mode=tool:tool-once:chunks=5', 5, 'anthropic'],
    ] as const
  ) {
    it(`(b) runs one Bash tool round trip through an ${format === 'openai' ? 'OpenAI' : 'Anthropic'}-format upstream`, async () => {
      const { home, cwd } = sandbox(root, `b-${provider}`)
      mock.mock.reset()
      const r = await claude(
        [
          '-p',
          'Write hi to out.txt',
          '--output-format',
          'json',
          '--model',
          `${provider},${model}`,
          '--allowedTools',
          'Bash',
        ],
        env(home),
        cwd,
      )
      const res = resultOf(r)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(res.is_error, false, JSON.stringify(res))
      assert.deepEqual(res.permission_denials, [])
      assert.equal(
        readFileSync(join(cwd, 'out.txt'), 'utf8'),
        'hi\n',
        'Claude Code ran the Bash call it got through Switchyard',
      )
      assert.equal(res.num_turns, 2)
      assert.equal(res.result.trim(), TEXT(chunks).trim(), 'the text answer after the tool result arrived')
      const turns = mock.mock.attempts().filter((a) => a.model === model)
      assert.equal(turns.length, 2, 'turn 1 (tool call) and turn 2 (after the tool_result)')
      assert.ok(turns.every((a) => a.format === format && a.status === 200), JSON.stringify(turns))
    })
  }

  it('(c) `switchyard code -p` starts the service, runs the real CLI through it, and stops the service', async () => {
    const port = await freePort()
    const code = codeSayHello('c', {
      ...config(port),
      Router: { default: 'oai,mock:chunks=4', background: 'oai,mock:chunks=4' },
    })
    mock.mock.reset()
    const r = await code.run()
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /starting the service on http:\/\/127\.0\.0\.1:/)
    const res = resultOf(r)
    assert.equal(res.is_error, false, JSON.stringify(res))
    assert.equal(res.result.trim(), TEXT(4).trim())
    assert.ok(mock.mock.attempts().some((a) => a.model === 'mock:chunks=4' && a.status === 200))
    // The service `code` started is gone once Claude Code exited.
    const up = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      () => true,
      () => false,
    )
    assert.equal(up, false, 'the service started by `code` was stopped')
  })

  it("(d) Claude Code's session id reaches a CCR custom router as req.sessionId", async () => {
    const router = fileURLToPath(new URL('../fixtures/session-router.cjs', import.meta.url))
    const file = { ...config(await freePort()), CUSTOM_ROUTER_PATH: router }
    const ask = (session: string) =>
      answerOf(codeSayHello(`d-${session.slice(0, 8)}`, file, ['--session-id', session]).run)
    // The router picks its own target for that one session (metadata.user_id, a JSON text in Claude Code 2.x)…
    assert.equal(await ask('7d3b1c52-0f5e-4a8e-9c1d-2b6f4e8a9c10'), TEXT(4).trim())
    // …and leaves another session to Router.default.
    assert.equal(await ask('0b6a2f8e-5c4d-4e3b-8a1f-9d7c6e5b4a30'), TEXT(3).trim())
  })

  it("(e) CCR's project and session Router files route a project's sessions, found by Claude Code's own transcripts", async () => {
    const file = config(await freePort())
    const [oai, ...rest] = file.Providers
    const code = (session: string) =>
      codeSayHello(`e-${session.slice(0, 8)}`, {
        ...file,
        Providers: [{ ...oai!, models: [...oai!.models, 'mock:chunks=5'] }, ...rest],
      }, ['--session-id', session])
    const inProject = '3c9d1e7a-2b4f-4c6d-8e0a-1f2b3c4d5e6f'
    const ownFile = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b'
    for (const [session, router, chunks] of [[inProject, 'config.json', 4], [ownFile, `${ownFile}.json`, 5]] as const) {
      const c = code(session)
      // Claude Code names a project's folder after its work dir, each character but letters and digits a dash.
      const name = c.cwd.replace(/[^A-Za-z0-9]/g, '-')
      const project = join(c.home, '.claude-code-router', name)
      mkdirSync(project, { recursive: true })
      writeFileSync(join(project, router), JSON.stringify({ Router: { default: `oai,mock:chunks=${chunks}` } }))
      assert.equal(await answerOf(c.run), TEXT(chunks).trim(), `${router} routed the session`)
      assert.ok(
        existsSync(join(c.home, '.claude', 'projects', name, `${session}.jsonl`)),
        "Claude Code's transcript is where the project was looked for",
      )
    }
    // A session in a work dir of no project: the config's Router.default.
    assert.equal(await answerOf(code('0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5').run), TEXT(3).trim())
  })

  it('(f) Router.think takes `--effort high`, not the adaptive thinking Claude Code sends on every request', async () => {
    const file = { ...config(await freePort()), Router: { ...config(0).Router, think: 'oai,mock:chunks=4' } }
    const ask = (name: string, args: readonly string[]) => answerOf(codeSayHello(name, file, args).run)
    assert.equal(await ask('f-default', []), TEXT(3).trim(), 'adaptive thinking at the default effort: Router.default')
    assert.equal(await ask('f-high', ['--effort', 'high']), TEXT(4).trim(), 'effort high: Router.think')
  })
})
