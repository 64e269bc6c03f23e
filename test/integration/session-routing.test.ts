/**
 * What routing does with an agent's session, through the whole pipeline. CCR's last-usage rule:
 * a session whose previous answer's prompt passed `Router.longContextThreshold` goes to
 * `Router.longContext` once its request is past 20,000 tokens, even when this request's own
 * estimate is below the threshold. The session is the one Claude Code names in
 * `metadata.user_id` (2.x: a JSON object text with `session_id`), or the Codex CLI in its
 * `session-id` header. And CCR's project and session Router files, in process and in a served
 * instance (transcripts under CLAUDE_CONFIG_DIR).
 */
import { afterEach, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInstance } from '../../src/compose.ts'
import { jsonAsStream } from '../../src/formats/index.ts'
import { createLogger } from '../../src/log.ts'
import type { ProjectDirs } from '../../src/plugins/setup.ts'
import { startMockServer } from '../../src/demo/server.ts'
import { startCli } from '../cli/run.ts'
import { configOf, testConfigFile } from './helpers.ts'
import { anthropicAnswer as answer, LONG_PROMPT, sessionRequest, THRESHOLD } from './session-fixtures.ts'

/** The OpenAI upstream's answer (JSON only: the requests that reach it here are not streamed). */
const openaiAnswer = (model: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 1 },
})

/** An instance whose Anthropic upstream reports `REPORTED` for every answer; `models` lists the models asked, in order. */
async function sessionProxy(opts: { projectDirs?: ProjectDirs; router?: Record<string, unknown> } = {}) {
  const models: string[] = []
  const file = testConfigFile({}, {
    default: 'anth,mock-a',
    longContext: 'anth,claude-up',
    longContextThreshold: THRESHOLD,
    ...opts.router,
  })
  const built = await createInstance(configOf(file), {
    dataDir: ':memory:',
    ...(opts.projectDirs ? { projectDirs: opts.projectDirs } : {}),
    log: createLogger({ enabled: false }),
    fetch: async (req) => {
      const body = await req.json() as { model: string; stream?: boolean }
      models.push(body.model)
      if (req.url.endsWith('/chat/completions')) return Response.json(openaiAnswer(body.model))
      return body.stream
        ? new Response(jsonAsStream('anthropic', answer(body.model), { includeUsage: true }), {
          headers: { 'content-type': 'text/event-stream' },
        })
        : Response.json(answer(body.model))
    },
  })
  const ask = async (session: string, stream: boolean, model = 'claude-sonnet-4-5', prompt = LONG_PROMPT) => {
    const res = await built.app.request('/v1/messages', sessionRequest(session, { stream, model, prompt }))
    assert.equal(res.status, 200)
    await res.text() // the stream read to its end: the usage is remembered when it ends
    return models.at(-1)
  }
  /** A Codex-style turn: `POST /v1/responses`, streamed, its session in the `session-id` header. */
  const askResponses = async (session: string, input = LONG_PROMPT) => {
    const res = await built.app.request('/v1/responses', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'session-id': session },
      body: JSON.stringify({ model: 'gpt-5.5', stream: true, store: false, input }),
    })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /response\.completed/)
    return models.at(-1)
  }
  /** The sessions `GET /v1/requests` shows, newest first. */
  const sessions = async () =>
    ((await (await built.app.request('/v1/requests')).json()) as { requests: { session: string | null }[] })
      .requests.map((r) => r.session)
  return { ask, askResponses, sessions, close: () => built.close() }
}

describe("CCR's last-usage rule, with Claude Code's session id", () => {
  for (const stream of [false, true]) {
    it(`a session whose last answer's prompt passed the threshold goes to longContext (${stream ? 'streamed' : 'JSON'})`, async () => {
      const p = await sessionProxy()
      try {
        assert.equal(
          await p.ask('session-a', stream),
          'mock-a',
          'first request: its own estimate is under the threshold',
        )
        assert.equal(await p.ask('session-a', stream), 'claude-up', 'the session reported 38,512 prompt tokens')
        assert.equal(await p.ask('session-b', stream), 'mock-a', 'another session has no last usage')
        assert.deepEqual(await p.sessions(), ['session-b', 'session-a', 'session-a'], 'GET /v1/requests names them')
      } finally {
        await p.close()
      }
    })
  }
})

describe('the same rule for a Codex session (its session-id header)', () => {
  it('a Codex session whose last prompt passed the threshold goes to longContext', async () => {
    const p = await sessionProxy()
    try {
      assert.equal(await p.askResponses('codex-thread-a'), 'mock-a')
      assert.equal(await p.askResponses('codex-thread-a'), 'claude-up')
      assert.equal(await p.askResponses('codex-thread-b'), 'mock-a')
    } finally {
      await p.close()
    }
  })
})

describe("CCR's project and session Routers", () => {
  const PROJECT = '-home-dev-app'
  let root: string
  let dirs: ProjectDirs

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-project-routing-'))
    dirs = { routerDir: join(root, '.claude-code-router'), projectsDir: join(root, '.claude', 'projects') }
    mkdirSync(join(dirs.routerDir, PROJECT), { recursive: true })
    mkdirSync(join(dirs.projectsDir, PROJECT), { recursive: true })
    writeFileSync(
      join(dirs.routerDir, PROJECT, 'config.json'),
      JSON.stringify({ Router: { default: 'anth,claude-up' } }),
    )
    // Claude Code's transcript of the session: where CCR learns which project a session is in.
    writeFileSync(join(dirs.projectsDir, PROJECT, 'in-project.jsonl'), '{}\n')
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it("a session of the project is routed by the project's Router; its haiku requests by the config's background", async () => {
    const p = await sessionProxy({ projectDirs: dirs, router: { background: 'oai,mock-o' } })
    try {
      assert.equal(await p.ask('in-project', false, 'claude-sonnet-4-5', 'hi'), 'claude-up')
      assert.equal(await p.ask('in-project', false, 'claude-3-5-haiku-20241022', 'hi'), 'mock-o')
      assert.equal(
        await p.ask('elsewhere', false, 'claude-sonnet-4-5', 'hi'),
        'mock-a',
        "another session: the config's",
      )
      // Project Routers follow Claude Code's transcripts: a Codex session (its header) is not looked up.
      assert.equal(await p.askResponses('in-project', 'hi'), 'mock-a')
    } finally {
      await p.close()
    }
  })
})

describe('project Routers in a served instance', () => {
  it("finds Claude Code's transcripts under CLAUDE_CONFIG_DIR when it is set", async () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-claude-config-dir-'))
    const mock = await startMockServer({ port: 0 })
    const project = '-work-app'
    mkdirSync(join(root, '.claude-code-router', project), { recursive: true })
    writeFileSync(
      join(root, '.claude-code-router', project, 'config.json'),
      JSON.stringify({ Router: { default: 'm,project-model' } }),
    )
    // Not ~/.claude: Claude Code run with CLAUDE_CONFIG_DIR keeps its projects there.
    mkdirSync(join(root, 'claude-config', 'projects', project), { recursive: true })
    writeFileSync(join(root, 'claude-config', 'projects', project, 'sess-1.jsonl'), '{}\n')
    writeFileSync(
      join(root, 'config.json'),
      JSON.stringify({
        LOG: false,
        Providers: [{
          name: 'm',
          api_base_url: `${mock.url}/v1/messages`,
          api_key: 'k',
          models: ['config-model', 'project-model'],
          transformer: { use: ['Anthropic'] },
        }],
        Router: { default: 'm,config-model' },
      }),
    )
    const server = await startCli(
      ['start', '--config', join(root, 'config.json'), '--port', '0', '--data-dir', join(root, 'data')],
      /listening on (http:\/\/\S+)/,
      { env: { HOME: root, CLAUDE_CONFIG_DIR: join(root, 'claude-config') } },
    )
    try {
      const ask = async (session: string) => {
        const res = await fetch(`${server.match[1]}/v1/messages`, sessionRequest(session, { prompt: 'hi' }))
        await res.text()
        return res.headers.get('x-switchyard-route') ?? ''
      }
      assert.match(await ask('sess-1'), /^default m,project-model/)
      assert.match(await ask('sess-2'), /^default m,config-model/)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
      await mock.stop()
      rmSync(root, { recursive: true, force: true })
    }
  })
})
