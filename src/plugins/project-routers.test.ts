import { afterEach, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configOf, testConfigFile } from '../../test/integration/helpers.ts'
import {
  createProjectRouters,
  FILE_TTL_MS,
  FIRST_LOOK_RETRIES,
  FIRST_LOOK_WAIT_MS,
  NOT_FOUND_TTL_MS,
  projectRouter,
  projectsWithRouters,
} from './project-routers.ts'

const config = configOf(testConfigFile())
const SESSION = '5f1c2d3e-aaaa-bbbb-cccc-123456789abc'
const PROJECT = '-home-dev-app'

describe('projectRouter', () => {
  it("a file's targets replace the config's; a scenario it does not name is off; background, image and policies stay", () => {
    const r = projectRouter(
      { Router: { default: 'anth,mock-a', think: 'anth,claude-up' } },
      config.router,
      config.providers,
    )
    assert.deepEqual(r.errors, [])
    const router = r.router!
    assert.deepEqual([router.default, router.think, router.longContext, router.webSearch], [
      'anth,mock-a',
      'anth,claude-up',
      undefined,
      undefined,
    ])
    assert.equal(router.background, config.router.background, "CCR sends haiku requests to the config's background")
    assert.equal(router.longContextThreshold, config.router.longContextThreshold)
    assert.equal(router.ewmaAlpha, config.router.ewmaAlpha)
    const own = projectRouter(
      { Router: { longContext: 'anth,mock-a', longContextThreshold: 1000 } },
      config.router,
      config.providers,
    )
    assert.deepEqual([own.router?.default, own.router?.longContext, own.router?.longContextThreshold], [
      config.router.default,
      'anth,mock-a',
      1000,
    ])
  })

  it('no Router key is no Router; a bad field is named', () => {
    assert.deepEqual(projectRouter({ other: 1 }, config.router, config.providers), { errors: [] })
    assert.deepEqual(projectRouter('text', config.router, config.providers), { errors: [] })
    const bad = (Router: unknown) => projectRouter({ Router }, config.router, config.providers).errors.join('; ')
    assert.match(bad({ default: 42 }), /Router\.default/)
    assert.match(bad({ think: 'nowhere,model' }), /Router\.think: "nowhere,model" names no configured provider/)
    assert.match(bad({ longContextThreshold: -5 }), /Router\.longContextThreshold/)
    assert.match(bad({ longContextThreshold: '60000' }), /Router\.longContextThreshold/)
  })
})

describe('project and session Router files', () => {
  let root: string
  let routerDir: string
  let projectsDir: string
  let now = 0
  let warnings: string[]
  /** Each wait of a first look, in ms; `onSleep` runs at each (a transcript written meanwhile). */
  let sleeps: number[]
  let onSleep: () => void

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-projects-'))
    routerDir = join(root, '.claude-code-router')
    projectsDir = join(root, '.claude', 'projects')
    mkdirSync(join(routerDir, PROJECT), { recursive: true })
    mkdirSync(join(projectsDir, PROJECT), { recursive: true })
    now = 1_000
    warnings = []
    sleeps = []
    onSleep = () => {}
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  const write = (path: string, value: unknown) => writeFileSync(path, JSON.stringify(value))
  const transcript = (session: string, project = PROJECT) =>
    writeFileSync(join(projectsDir, project, `${session}.jsonl`), '{}\n')
  const routers = async () =>
    createProjectRouters({
      routerDir,
      projectsDir,
      projects: await projectsWithRouters(routerDir),
      main: config.router,
      providers: config.providers,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms)
        onSleep()
      },
      warn: (m) => warnings.push(m),
    })

  it("lists the folders with a Router file, leaving CCR's own folders out", async () => {
    write(join(routerDir, PROJECT, 'config.json'), { Router: {} })
    for (const own of ['presets', 'plugins', 'logs']) {
      mkdirSync(join(routerDir, own))
      write(join(routerDir, own, 'x.json'), {})
    }
    mkdirSync(join(routerDir, '-no-router-files'))
    writeFileSync(join(routerDir, '-no-router-files', 'notes.txt'), 'x')
    mkdirSync(join(routerDir, '-session-only'))
    write(join(routerDir, '-session-only', `${SESSION}.json`), { Router: {} })
    write(join(routerDir, 'config.json'), {})
    assert.deepEqual(await projectsWithRouters(routerDir), [PROJECT, '-session-only'])
    assert.deepEqual(await projectsWithRouters(join(root, 'missing')), [])
  })

  it("a session of the project gets the project's Router; its own session file comes first", async () => {
    write(join(routerDir, PROJECT, 'config.json'), { Router: { default: 'anth,mock-a' } })
    const other = 'aaaaaaaa-0000-4000-8000-000000000001'
    write(join(routerDir, PROJECT, `${other}.json`), { Router: { default: 'anth,claude-up' } })
    transcript(SESSION)
    transcript(other)
    const r = await routers()
    assert.equal((await r.routerFor(SESSION))?.default, 'anth,mock-a')
    assert.equal((await r.routerFor(other))?.default, 'anth,claude-up')
    assert.equal(await r.routerFor('bbbbbbbb-0000-4000-8000-000000000002'), undefined, 'a session of no project')
  })

  it("a new session's first request waits for its transcript, once; a session of no project waits only then", async () => {
    write(join(routerDir, PROJECT, 'config.json'), { Router: { default: 'anth,mock-a' } })
    const r = await routers()
    onSleep = () => sleeps.length === 2 && transcript(SESSION)
    assert.equal((await r.routerFor(SESSION))?.default, 'anth,mock-a', 'written during the second wait')
    assert.deepEqual(sleeps, [FIRST_LOOK_WAIT_MS, FIRST_LOOK_WAIT_MS])
    sleeps = []
    onSleep = () => {}
    const nowhere = 'bbbbbbbb-0000-4000-8000-000000000002'
    assert.equal(await r.routerFor(nowhere), undefined)
    assert.equal(sleeps.length, FIRST_LOOK_RETRIES)
    now += NOT_FOUND_TTL_MS + 1
    assert.equal(await r.routerFor(nowhere), undefined)
    assert.equal(sleeps.length, FIRST_LOOK_RETRIES, 'looked for again without waiting')
  })

  it('a session whose transcript appears later is found once the not-found answer expires', async () => {
    write(join(routerDir, PROJECT, 'config.json'), { Router: { default: 'anth,mock-a' } })
    const r = await routers()
    assert.equal(await r.routerFor(SESSION), undefined)
    transcript(SESSION)
    assert.equal(await r.routerFor(SESSION), undefined, 'remembered as not found for a while')
    now += NOT_FOUND_TTL_MS + 1
    assert.equal((await r.routerFor(SESSION))?.default, 'anth,mock-a')
  })

  it('an edited file applies after FILE_TTL_MS; a bad one is said once and leaves the config Router', async () => {
    const file = join(routerDir, PROJECT, 'config.json')
    write(file, { Router: { default: 'anth,mock-a' } })
    transcript(SESSION)
    const r = await routers()
    assert.equal((await r.routerFor(SESSION))?.default, 'anth,mock-a')
    write(file, { Router: { default: 'anth,claude-up' } })
    assert.equal((await r.routerFor(SESSION))?.default, 'anth,mock-a')
    now += FILE_TTL_MS + 1
    assert.equal((await r.routerFor(SESSION))?.default, 'anth,claude-up')
    writeFileSync(file, '{ Router: { default: ')
    for (let i = 0; i < 3; i++) {
      now += FILE_TTL_MS + 1
      assert.equal(await r.routerFor(SESSION), undefined)
    }
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0]!, /config\.json: .*the config's Router serves its sessions/)
    write(file, { Router: { default: 'nowhere,x' } })
    now += FILE_TTL_MS + 1
    assert.equal(await r.routerFor(SESSION), undefined)
    assert.match(warnings[1] ?? '', /names no configured provider/)
  })

  it('a session id that is not one never reaches a path', async () => {
    // A transcript and a Router file where `../` would lead: they must not be found.
    write(join(routerDir, PROJECT, 'config.json'), { Router: { default: 'anth,mock-a' } })
    mkdirSync(join(projectsDir, 'x'), { recursive: true })
    writeFileSync(join(projectsDir, 'x', 'evil.jsonl'), '')
    const r = await routers()
    for (const id of ['../x/evil', '..', 'a/b', 'a\\b', '', 'x'.repeat(129)]) {
      assert.equal(await r.routerFor(id), undefined, id)
    }
  })
})
