/**
 * The real Codex CLI and Gemini CLI, headless, against Switchyard on a loopback port, with a
 * scripted upstream in each of the other wire formats: a plain answer and one shell-tool round
 * trip each. Temp HOME, no network beyond 127.0.0.1, every run bounded in time (Codex retries
 * refused connections forever, so runs are killed at the bound). The CLIs come from
 * tools/agent-clis (`npm install --prefix tools/agent-clis`); without them this suite is skipped.
 * It spawns processes, so it runs under `bun test` only.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { runtime, type Served } from '../../src/runtime/index.ts'
import type { WireFormatName } from '../../src/formats/types.ts'
import { configOf } from './helpers.ts'
import { GREETING, scriptedUpstream, SHELL_WORD, THINKING_SIGNATURE } from './scripted-upstream.ts'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { runCli } from '../cli/run.ts'
import { freePort } from '../../harness/stress/proc.ts'

const BIN = join(import.meta.dirname ?? '.', '../../tools/agent-clis/node_modules/.bin')
const CODEX = join(BIN, 'codex')
const GEMINI = join(BIN, 'gemini')
const KEY = 'sy-agent-key'
const RUN_MS = 90_000
const isBun = 'Bun' in globalThis

const PROVIDERS = [
  {
    name: 'up-anthropic',
    api_base_url: 'http://upstream.test/v1/messages',
    api_key: 'k1',
    models: ['claude-up'],
    transformer: { use: ['Anthropic'] },
  },
  { name: 'up-openai', api_base_url: 'http://upstream.test/v1/chat/completions', api_key: 'k2', models: ['gpt-up'] },
  {
    name: 'up-gemini',
    api_base_url: 'http://upstream.test/v1beta/models/',
    api_key: 'k3',
    models: ['gemini-up'],
    transformer: { use: ['gemini'] },
  },
  { name: 'up-responses', api_base_url: 'http://upstream.test/v1/responses', api_key: 'k4', models: ['resp-up'] },
]
const TARGET: Record<WireFormatName, string> = {
  anthropic: 'up-anthropic,claude-up',
  openai: 'up-openai,gpt-up',
  gemini: 'up-gemini,gemini-up',
  responses: 'up-responses,resp-up',
}

interface Server {
  url: string
  built: AppInstance
  served: Served
  seen: ReturnType<typeof scriptedUpstream>['seen']
}

async function serve(upstream: WireFormatName): Promise<Server> {
  const scripted = scriptedUpstream()
  // A think target of its own: the agents' default reasoning settings must not reach it.
  const think = upstream === 'anthropic' ? TARGET.openai : TARGET.anthropic
  const config = configOf({
    LOG: false,
    APIKEY: KEY,
    Providers: PROVIDERS,
    Router: { default: TARGET[upstream], think },
  })
  const built = await createInstance(config, {
    dataDir: ':memory:',
    fetch: scripted.fetch,
    log: createLogger({ enabled: false }),
  })
  const served = await runtime.serve((req) => built.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
  return { url: `http://127.0.0.1:${served.port}`, built, served, seen: scripted.seen }
}

/** The scenarios of the instance's latest `n` requests (`GET /v1/requests`), newest first. */
async function scenarios(s: Server, n: number): Promise<string[]> {
  const res = await s.built.app.request(`/v1/requests?limit=${n}`, { headers: { authorization: `Bearer ${KEY}` } })
  return ((await res.json()) as { requests: { scenario: string }[] }).requests.map((r) => r.scenario)
}

/** Serves Switchyard on `upstream` for the enclosing describe: started before, stopped after. */
function servedFor(upstream: WireFormatName): () => Server {
  let s: Server | undefined
  before(async () => {
    s = await serve(upstream)
  })
  after(async () => {
    await s!.served.stop(true)
    await s!.built.close()
  })
  return () => s!
}

/** Runs a command with stdin closed, killed (whole process group) at the bound. */
function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; out: string; err: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    let err = ''
    let timedOut = false
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, RUN_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err, timedOut })
    })
  })
}

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-agent-'))
}

/** A clean environment: only what the CLI needs, so nothing of the host (keys, proxies) leaks in. */
function baseEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TMPDIR: join(home, 't'),
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  }
}

/**
 * Runs `codex exec` against Switchyard, through a `model_providers` entry (the documented setup)
 * or, `builtIn`, through Codex's own OpenAI provider with `openai_base_url` pointed here: that
 * provider speaks the Responses API's WebSocket mode first (and compacts remotely).
 */
async function codex(url: string, prompt: string, opts: { builtIn?: boolean } = {}) {
  const home = tempHome()
  mkdirSync(join(home, '.codex'), { recursive: true })
  mkdirSync(join(home, 't'))
  const common = [
    'model = "gpt-5.5"',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    'analytics.enabled = false',
    'feedback.enabled = false',
    'history.persistence = "none"',
  ]
  const provider = opts.builtIn ? [`openai_base_url = "${url}/v1"`] : [
    'model_provider = "switchyard"',
    '[model_providers.switchyard]',
    'name = "Switchyard"',
    `base_url = "${url}/v1"`,
    'env_key = "SWITCHYARD_API_KEY"',
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
  ]
  writeFileSync(join(home, '.codex', 'config.toml'), [...common, ...provider, ''].join('\n'))
  const env = { ...baseEnv(home), CODEX_HOME: join(home, '.codex'), SWITCHYARD_API_KEY: KEY }
  if (opts.builtIn) {
    // The built-in provider takes its key from Codex's own login.
    writeFileSync(join(home, 'key'), KEY)
    const login = await run('sh', ['-c', `"${CODEX}" login --with-api-key < key`], env, home)
    assert.equal(login.code, 0, login.out + login.err)
  }
  const r = await run(
    CODEX,
    ['exec', '--json', '--ephemeral', '--skip-git-repo-check', '--strict-config', prompt],
    env,
    home,
  )
  rmSync(home, { recursive: true, force: true })
  const events = r.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  return { ...r, events }
}

async function gemini(url: string, prompt: string) {
  const home = tempHome()
  mkdirSync(join(home, '.gemini'), { recursive: true })
  mkdirSync(join(home, 't'))
  writeFileSync(
    join(home, '.gemini', 'settings.json'),
    JSON.stringify({
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      ide: { enabled: false },
      security: { auth: { selectedType: 'gemini-api-key' } },
    }),
  )
  const env = { ...baseEnv(home), GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: url }
  const r = await run(
    process.execPath.includes('bun') ? 'node' : process.execPath,
    [GEMINI, '--skip-trust', '-m', 'gemini-2.5-flash', '-o', 'json', '--yolo', '-p', prompt],
    env,
    home,
  )
  rmSync(home, { recursive: true, force: true })
  const json = r.out.slice(r.out.indexOf('{'))
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(json) as Record<string, unknown>
  } catch { /* reported below */ }
  return { ...r, result: parsed }
}

const UPSTREAMS_FOR_CODEX: WireFormatName[] = ['anthropic', 'openai', 'gemini']
const UPSTREAMS_FOR_GEMINI: WireFormatName[] = ['anthropic', 'openai', 'responses']

describe('Codex CLI against Switchyard', {
  skip: !isBun ? 'spawns CLIs: bun test only' : !existsSync(CODEX) ? 'tools/agent-clis not installed' : false,
}, () => {
  for (const upstream of UPSTREAMS_FOR_CODEX) {
    describe(`${upstream} upstream`, () => {
      const s = servedFor(upstream)

      it('answers a plain prompt', async () => {
        const r = await codex(s().url, 'Say hello.')
        const text = r.events.filter((e) => e.type === 'item.completed').map((e) => JSON.stringify(e.item)).join('\n')
        assert.ok(text.includes(GREETING), `no greeting in Codex output:\n${r.out}\n${r.err.slice(-2000)}`)
        assert.ok(r.events.some((e) => e.type === 'turn.completed'), r.out)
        // Codex sends reasoning.effort "medium", its default, on every turn: not Router.think.
        assert.deepEqual(await scenarios(s(), 1), ['default'])
      })

      it('runs the shell tool and answers with its output', async () => {
        const r = await codex(s().url, 'Use the shell to print a word.')
        const items = r.events.filter((e) => e.type === 'item.completed').map((e) => e.item as Record<string, unknown>)
        const cmd = items.find((i) => i.type === 'command_execution')
        assert.ok(
          cmd && String(cmd.aggregated_output).includes(SHELL_WORD),
          `no command run:\n${r.out}\n${r.err.slice(-2000)}`,
        )
        const last = items.filter((i) => i.type === 'agent_message').at(-1)
        assert.match(String(last?.text), new RegExp(`printed ${SHELL_WORD}`))
        assert.ok(r.events.some((e) => e.type === 'turn.completed'), r.out)
        if (upstream === 'anthropic') {
          // Codex asked with reasoning on: the thinking came back as a reasoning item, and Codex's
          // replay of it reaches Anthropic as the signed block that must open the tool turn.
          const second = s().seen.at(-1)!.body as {
            thinking?: unknown
            messages: { role: string; content: { type: string; signature?: string }[] }[]
          }
          const turn = second.messages.filter((m) => m.role === 'assistant').at(-1)
          assert.deepEqual(
            [turn?.content[0]?.type, turn?.content[0]?.signature],
            ['thinking', THINKING_SIGNATURE],
            JSON.stringify(turn),
          )
          assert.ok(second.thinking, 'thinking stays on in the tool loop')
        }
      })
    })
  }
})

describe("Codex CLI with its built-in OpenAI provider (openai_base_url): the Responses API's WebSocket mode", {
  skip: !isBun ? 'spawns CLIs: bun test only' : !existsSync(CODEX) ? 'tools/agent-clis not installed' : false,
}, () => {
  const s = servedFor('openai')

  it('runs the shell tool over one WebSocket, each turn sent as its new items only, and answers', async () => {
    const before = s().seen.length
    const r = await codex(s().url, 'Use the shell to print a word.', { builtIn: true })
    const items = r.events.filter((e) => e.type === 'item.completed').map((e) => e.item as Record<string, unknown>)
    const cmd = items.find((i) => i.type === 'command_execution')
    assert.ok(
      cmd && String(cmd.aggregated_output).includes(SHELL_WORD),
      `no command run:\n${r.out}\n${r.err.slice(-2000)}`,
    )
    assert.match(
      String(items.filter((i) => i.type === 'agent_message').at(-1)?.text),
      new RegExp(`printed ${SHELL_WORD}`),
    )
    // Without the WebSocket mode Codex reconnects five times, then falls back to HTTP, and says so.
    assert.doesNotMatch(r.out + r.err, /Reconnecting|Falling back from WebSockets/, r.out)
    // The warm-up (generate: false) asks no upstream; the two turns each reach it whole: the tool
    // turn came as its new items after previous_response_id (store: false), and the connection
    // put the instructions and the prompt back in front of them.
    const asked = s().seen.slice(before).map((x) => JSON.stringify(x.body))
    assert.equal(asked.length, 2, asked.join('\n'))
    for (const body of asked) assert.match(body, /print a word/)
    assert.match(asked[1]!, /"role":"tool"/)
    assert.match(asked[1]!, new RegExp(SHELL_WORD))
    // Both turns are one Codex session: its session-id header (sent with the handshake) names it.
    const recent = await s().built.app.request('/v1/requests?limit=2', { headers: { authorization: `Bearer ${KEY}` } })
    const sessions = ((await recent.json()) as { requests: { session: string | null }[] }).requests.map((x) =>
      x.session
    )
    assert.equal(sessions.length, 2)
    assert.match(sessions[0] ?? '', /^[0-9a-f-]{36}$/, JSON.stringify(sessions))
    assert.equal(sessions[1], sessions[0])
  })
})

describe('switchyard codex: the real Codex CLI through the CLI command, demo mode (no config)', {
  skip: !isBun ? 'spawns CLIs: bun test only' : !existsSync(CODEX) ? 'tools/agent-clis not installed' : false,
}, () => {
  it('starts the service, runs Codex over its WebSocket mode, prints the answer and stops the service', async () => {
    const home = tempHome()
    mkdirSync(join(home, '.codex'))
    mkdirSync(join(home, 't'))
    const port = await freePort()
    const r = await runCli(
      [
        '--port',
        String(port),
        '--data-dir',
        join(home, 'data'),
        'codex',
        'exec',
        '--json',
        '--ephemeral',
        '--skip-git-repo-check',
        'Say hello.',
      ],
      {
        env: {
          HOME: home,
          CODEX_HOME: join(home, '.codex'),
          TMPDIR: join(home, 't'),
          CODEX_PATH: CODEX,
          OPENAI_API_KEY: undefined,
        },
        cwd: home,
        timeoutMs: RUN_MS,
      },
    )
    rmSync(home, { recursive: true, force: true })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /"type":"agent_message","text":"\[0001\]/, r.stdout + r.stderr)
    assert.doesNotMatch(r.stdout + r.stderr, /Reconnecting|Falling back from WebSockets/)
    const health = await fetch(`http://127.0.0.1:${port}/health`).then(() => 'answers', () => 'stopped')
    assert.equal(health, 'stopped', 'the service it started is stopped')
  })
})

describe('Gemini CLI against Switchyard', {
  skip: !isBun ? 'spawns CLIs: bun test only' : !existsSync(GEMINI) ? 'tools/agent-clis not installed' : false,
}, () => {
  for (const upstream of UPSTREAMS_FOR_GEMINI) {
    describe(`${upstream} upstream`, () => {
      const s = servedFor(upstream)

      it('answers a plain prompt', async () => {
        const r = await gemini(s().url, 'Say hello.')
        assert.equal(r.result.response, GREETING, `${r.out}\n${r.err.slice(-2000)}`)
        // The Gemini CLI's default thinking budget is not an ask for more: not Router.think.
        assert.deepEqual([...new Set(await scenarios(s(), 2))], ['default'])
      })

      it('runs the shell tool and answers with its output', async () => {
        const r = await gemini(s().url, 'Use the shell to print a word.')
        const stats = JSON.stringify(r.result.stats ?? {})
        assert.match(String(r.result.response), new RegExp(`printed ${SHELL_WORD}`), `${r.out}\n${r.err.slice(-2000)}`)
        assert.match(stats, /run_shell_command/)
        if (upstream === 'anthropic') {
          // The Gemini CLI drops thought parts but keeps a call's thoughtSignature: the packed
          // thinking block in it reaches Anthropic as the signed block that opens the tool turn.
          const second = s().seen.at(-1)!.body as {
            thinking?: unknown
            messages: { role: string; content: { type: string; signature?: string }[] }[]
          }
          const turn = second.messages.filter((m) => m.role === 'assistant').at(-1)
          assert.deepEqual(
            [turn?.content[0]?.type, turn?.content[0]?.signature],
            ['thinking', THINKING_SIGNATURE],
            JSON.stringify(turn),
          )
          assert.ok(second.thinking, 'thinking stays on in the tool loop')
        }
      })
    })
  }
})

describe('switchyard gemini: the real Gemini CLI through the CLI command, demo mode (no config)', {
  skip: !isBun ? 'spawns CLIs: bun test only' : !existsSync(GEMINI) ? 'tools/agent-clis not installed' : false,
}, () => {
  it('starts the service, answers with one upstream request per turn (no classifier call first), and says nothing once API-key auth is chosen', async () => {
    const home = tempHome()
    mkdirSync(join(home, '.gemini'))
    mkdirSync(join(home, 't'))
    // The user's own settings, as a user of the Gemini API has them; nothing names a model.
    writeFileSync(
      join(home, '.gemini', 'settings.json'),
      JSON.stringify({
        security: { auth: { selectedType: 'gemini-api-key' } },
        privacy: { usageStatisticsEnabled: false },
      }),
    )
    const port = await freePort()
    const cli = (args: string[]) =>
      runCli(['--port', String(port), '--data-dir', join(home, 'data'), ...args], {
        env: {
          HOME: home,
          TMPDIR: join(home, 't'),
          GEMINI_PATH: GEMINI,
          GEMINI_API_KEY: undefined,
          GEMINI_MODEL: undefined,
        },
        cwd: home,
        timeoutMs: RUN_MS,
      })
    try {
      const r = await cli(['--keep-service', 'gemini', '--skip-trust', '-o', 'json', '-p', 'Say hello.'])
      assert.equal(r.code, 0, r.stdout + r.stderr)
      const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { response?: string }
      assert.match(out.response ?? '', /^\[0001\]/, r.stdout + r.stderr)
      assert.doesNotMatch(r.stderr, /auth type/)
      // Without a model the CLI runs "auto": a classifier request first, which the demo's plain
      // text never satisfies (it retries for over a minute). One request, the streamed turn.
      const recent = await fetch(`http://127.0.0.1:${port}/v1/requests?limit=10`)
      const rows = ((await recent.json()) as { requests: { format: string; stream: boolean; status: number }[] })
        .requests
      assert.deepEqual(rows.map((x) => [x.format, x.stream, x.status]), [['gemini', true, 200]])
    } finally {
      await cli(['stop'])
      rmSync(home, { recursive: true, force: true })
    }
  })
})

describe('Gemini CLI against Switchyard: a stream cut mid-answer', {
  skip: !isBun ? 'spawns CLIs: bun test only' : !existsSync(GEMINI) ? 'tools/agent-clis not installed' : false,
}, () => {
  it('is continued and read as one answer, asked once', async () => {
    // The demo mock cuts the first try after 4 of 12 chunks and continues from the prefill.
    const mock = createMockUpstream()
    const config = configOf({
      LOG: false,
      APIKEY: KEY,
      Providers: [{ name: 'cuts', api_base_url: 'http://mock.test/v1/chat/completions', api_key: 'k', models: ['m'] }],
      Router: { default: 'cuts,m:chunks=12:cut=4' },
    })
    const built = await createInstance(config, {
      dataDir: ':memory:',
      fetch: mock.fetch,
      log: createLogger({ enabled: false }),
    })
    const served = await runtime.serve((req) => built.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    try {
      const r = await gemini(`http://127.0.0.1:${served.port}`, 'Say hello.')
      const answer = String(r.result.response)
      const tags = Array.from({ length: 12 }, (_, i) => `[${String(i + 1).padStart(4, '0')}]`)
      assert.deepEqual(answer.match(/\[\d{4}\]/g), tags, `${r.out}\n${r.err.slice(-2000)}`)
      // Before Gemini streams lost their trailer comment, the CLI's SDK choked on it at the end,
      // asked again and printed the answer once per try.
      assert.deepEqual(mock.attempts().map((a) => a.outcome), ['cut', 'ok'], r.err.slice(-2000))
    } finally {
      await served.stop(true)
      await built.close()
    }
  })
})
