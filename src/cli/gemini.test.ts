import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  GEMINI_DEFAULT_MODEL,
  geminiAuthNote,
  geminiLaunch,
  geminiUserSettingsPath,
  namesModel,
  readGeminiSettings,
} from './gemini.ts'

function folders() {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-gemini-'))
  const home = join(root, 'home')
  const project = join(root, 'project')
  mkdirSync(join(home, '.gemini'), { recursive: true })
  mkdirSync(join(project, '.gemini'), { recursive: true })
  const write = (dir: string, text: string) => writeFileSync(join(dir, '.gemini', 'settings.json'), text)
  return { root, home, project, write }
}

describe('the Gemini CLI settings `switchyard gemini` reads', () => {
  it('reads the auth type and model from the user settings (JSON with comments), under GEMINI_CLI_HOME when set', () => {
    const f = folders()
    f.write(
      f.home,
      '{ // mine\n "security": { "auth": { "selectedType": "gemini-api-key" } }, "model": { "name": "gemini-2.5-flash" } }',
    )
    assert.deepEqual(readGeminiSettings({ HOME: f.home }, f.project), {
      userFile: join(f.home, '.gemini', 'settings.json'),
      selectedType: 'gemini-api-key',
      model: 'gemini-2.5-flash',
    })
    // GEMINI_CLI_HOME moves the CLI's whole folder, as the CLI does.
    assert.deepEqual(
      readGeminiSettings({ HOME: f.project, GEMINI_CLI_HOME: f.home }, f.root).selectedType,
      'gemini-api-key',
    )
    assert.equal(
      geminiUserSettingsPath({ HOME: f.project, GEMINI_CLI_HOME: f.home }),
      join(f.home, '.gemini', 'settings.json'),
    )
  })

  it("lets the workspace's file override the user's, and ignores missing, broken and ill-typed files", () => {
    const f = folders()
    f.write(f.home, JSON.stringify({ security: { auth: { selectedType: 'oauth-personal' } }, model: { name: 'a' } }))
    f.write(f.project, JSON.stringify({ model: { name: 'b' } }))
    const both = readGeminiSettings({ HOME: f.home }, f.project)
    assert.deepEqual([both.selectedType, both.model], ['oauth-personal', 'b'])
    f.write(f.project, '{ not json')
    assert.equal(readGeminiSettings({ HOME: f.home }, f.project).model, 'a')
    f.write(f.home, JSON.stringify({ security: { auth: { selectedType: 7 } }, model: 'gemini-x' }))
    const odd = readGeminiSettings({ HOME: f.home }, f.project)
    assert.deepEqual([odd.selectedType, odd.model], [undefined, undefined])
    assert.deepEqual(readGeminiSettings({ HOME: join(f.root, 'none') }, join(f.root, 'none')), {
      userFile: join(f.root, 'none', '.gemini', 'settings.json'),
    })
  })

  it('finds a model in the arguments in every form the CLI takes', () => {
    for (const args of [['-m', 'x'], ['--model', 'x'], ['--model=x'], ['-mx'], ['-p', 'hi', '-m', 'x']]) {
      assert.equal(namesModel(args), true, args.join(' '))
    }
    for (const args of [[], ['-p', 'use -m to pick a model'], ['--skip-trust', '-o', 'json'], ['--models']]) {
      assert.equal(namesModel(args), false, args.join(' '))
    }
  })
})

describe('geminiLaunch', () => {
  const base = { host: '127.0.0.1', port: 3456, env: {}, args: [], settings: { userFile: '/h/.gemini/settings.json' } }

  it('points the CLI here with the key, and names a model only when nothing else does', () => {
    const l = geminiLaunch({
      ...base,
      host: '0.0.0.0',
      apiKey: 'sk-1',
      settings: { ...base.settings, selectedType: 'gemini-api-key' },
    })
    assert.deepEqual(l.env, {
      GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:3456',
      GEMINI_API_KEY: 'sk-1',
      NO_PROXY: '127.0.0.1,localhost',
      GEMINI_MODEL: GEMINI_DEFAULT_MODEL,
    })
    assert.deepEqual(l.notes, [])
    assert.equal(geminiLaunch(base).env.GEMINI_API_KEY, 'switchyard', 'some key when the proxy asks none')
    assert.equal(geminiLaunch({ ...base, args: ['-m', 'p,m'] }).env.GEMINI_MODEL, undefined)
    assert.equal(geminiLaunch({ ...base, env: { GEMINI_MODEL: 'mine' } }).env.GEMINI_MODEL, undefined)
    assert.equal(geminiLaunch({ ...base, settings: { ...base.settings, model: 'mine' } }).env.GEMINI_MODEL, undefined)
  })

  it('says what to choose when the selected auth type does not reach the proxy, naming the settings file', () => {
    const none = geminiAuthNote(base.settings)
    assert.match(
      none ?? '',
      /no auth type selected.*"Use Gemini API Key".*"selectedType": "gemini-api-key".*\/h\/\.gemini\/settings\.json/,
    )
    const google = geminiAuthNote({ ...base.settings, selectedType: 'oauth-personal' })
    assert.match(google ?? '', /"oauth-personal", whose requests do not go through Switchyard/)
    assert.equal(geminiAuthNote({ ...base.settings, selectedType: 'gemini-api-key' }), undefined)
    assert.deepEqual(
      geminiLaunch({ ...base, settings: { ...base.settings, selectedType: 'vertex-ai' } }).notes.length,
      1,
    )
  })
})
