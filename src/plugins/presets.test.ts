import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configOf, testConfigFile } from '../../test/integration/helpers.ts'
import { presetFromFile, readPresetDir, withPresetFiles } from './presets.ts'

const config = configOf(testConfigFile())
const ctx = (name = 'p', env: Record<string, string> = {}) => ({ name, config, env })

/** A CCR 2.0 manifest as `ccr preset export` writes it, then `preset install` answers it. */
const manifest = (over: Record<string, unknown> = {}) => ({
  name: 'team',
  version: '1.0.0',
  description: 'the team setup',
  Providers: [
    { name: 'deepseek', api_base_url: 'http://ds.test/chat/completions', api_key: '{{dsKey}}', models: ['ds-chat'] },
    // The config's own "anth", same URL, key and transformer: the preset shares it.
    {
      name: 'anth',
      api_base_url: 'http://mock.test/v1/messages',
      api_key: 'sk-ant-secret-1',
      models: ['claude-up'],
      transformer: { use: ['Anthropic'] },
    },
    // The config's "oai" name with another key: the preset's own.
    {
      name: 'oai',
      api_base_url: 'http://mock.test/v1/chat/completions',
      api_key: '${TEAM_OAI_KEY}',
      models: ['gpt-up'],
    },
  ],
  Router: { default: 'deepseek,ds-chat', think: 'anth,claude-up', background: 'oai,gpt-up' },
  schema: [{ id: 'dsKey', type: 'password', label: 'DeepSeek key' }],
  userValues: { dsKey: 'sk-ds-answer' },
  ...over,
})

describe('preset files', () => {
  it('the three shapes: route, Router object, Router keys at the top', () => {
    assert.equal(presetFromFile({ route: 'anth,mock-a' }, ctx()).preset?.router.default, 'anth,mock-a')
    const nested = presetFromFile({ Router: { default: 'oai,mock-o', think: 'anth,claude-up' } }, ctx()).preset!
    assert.deepEqual([nested.router.default, nested.router.think, nested.router.background], [
      'oai,mock-o',
      'anth,claude-up',
      undefined,
    ])
    const top = presetFromFile({ image: 'anth,claude-up', max_tokens: 99 }, ctx()).preset!
    assert.deepEqual([top.router.default, top.router.image, top.maxTokens], [
      config.router.default,
      'anth,claude-up',
      99,
    ])
    assert.equal(top.router.ewmaAlpha, config.router.ewmaAlpha, 'main Router policies are kept')
  })

  it('an invalid file is reported by field; withPresetFiles keeps config presets on a clash', () => {
    assert.match(presetFromFile({ route: 42 }, ctx()).errors.join(), /route/)
    const warnings: string[] = []
    const base = { ...config, presets: { a: presetFromFile({ route: 'oai,mock-o' }, ctx()).preset! } }
    const merged = withPresetFiles(
      base,
      { a: { route: 'anth,mock-a' }, b: { route: 'anth,mock-a' }, c: { route: 1 } },
      { warn: (m) => warnings.push(m) },
    )
    assert.equal(merged.presets.a?.router.default, 'oai,mock-o')
    assert.equal(merged.presets.b?.router.default, 'anth,mock-a')
    assert.equal(merged.presets.c, undefined)
    assert.equal(warnings.length, 1)
    assert.equal(withPresetFiles(config, {}, { warn: () => undefined }), config)
  })

  it('a target naming no provider of the preset or the config is refused, naming the scenario', () => {
    const r = presetFromFile({ Router: { default: 'nowhere,m' } }, ctx())
    assert.equal(r.preset, undefined)
    assert.match(r.errors.join(), /default: "nowhere,m" names no provider/)
  })

  it("a CCR 2.0 manifest brings its providers: the config's own when identical, else named <preset>/<provider>", () => {
    const r = presetFromFile(manifest(), ctx('team', { TEAM_OAI_KEY: 'sk-team-oai' }))
    assert.deepEqual(r.errors, [])
    assert.deepEqual(r.warnings, [])
    const router = r.preset!.router
    assert.deepEqual([router.default, router.think, router.background], [
      'team/deepseek,ds-chat',
      'anth,claude-up',
      'team/oai,gpt-up',
    ])
    assert.deepEqual(r.providers.map((p) => [p.name, p.apiKey]), [
      ['team/deepseek', 'sk-ds-answer'],
      ['team/oai', 'sk-team-oai'],
    ])
    assert.deepEqual(router.rules, [], 'rules belong to the main Router')
  })

  it('an unanswered input and an unset variable are warnings naming them, never values', () => {
    const r = presetFromFile(manifest({ userValues: {}, schema: [] }), ctx('team', { TEAM_OAI_KEY: 'k' }))
    assert.ok(r.preset, 'still served: the upstream answers the missing key')
    assert.deepEqual(r.warnings, ['no answer for the input "dsKey" (switchyard preset install team asks for it)'])
    const m = manifest()
    m.Providers[0]!.api_key = '$DS_KEY'
    assert.deepEqual(presetFromFile(m, ctx('team', { TEAM_OAI_KEY: 'k' })).warnings, ['$DS_KEY is not set'])
  })

  it("a preset exported from this config (keys left as unset ${VAR}) uses the config's providers and keys", () => {
    const exported = {
      name: 'mine',
      version: '1.0.0',
      Providers: [
        { name: 'oai', api_base_url: 'http://mock.test/v1/chat/completions', api_key: '${OAI_API_KEY}', models: ['x'] },
      ],
      Router: { default: 'oai,mock-o' },
    }
    const r = presetFromFile(exported, ctx('mine'))
    assert.deepEqual([r.preset?.router.default, r.providers.length, r.warnings], ['oai,mock-o', 0, []])
    // Set, the variable is the preset's key: its own provider.
    const own = presetFromFile(exported, ctx('mine', { OAI_API_KEY: 'sk-other' }))
    assert.deepEqual([own.preset?.router.default, own.providers[0]?.apiKey], ['mine/oai,mock-o', 'sk-other'])
    // Another URL under the same name is never the config's.
    const moved = structuredClone(exported)
    moved.Providers[0]!.api_base_url = 'http://elsewhere.test/v1/chat/completions'
    const elsewhere = presetFromFile(moved, ctx('mine'))
    assert.deepEqual([elsewhere.preset?.router.default, elsewhere.warnings], ['mine/oai,mock-o', [
      '$OAI_API_KEY is not set',
    ]])
  })

  it('a whole config exported by CCR 2.0: only what the preset serves with is read, its other variables are not reported', () => {
    const exported = {
      name: 'ccr-export',
      version: '1.0.0',
      APIKEY: '${CONFIG_APIKEY}',
      PORT: 3456,
      LOG: true,
      providers: [
        { name: 'oai', api_base_url: 'http://mock.test/v1/chat/completions', api_key: '${OAI_API_KEY}', models: ['x'] },
      ],
      Router: { default: 'oai,mock-o', think: 'anth,claude-up' },
    }
    const r = presetFromFile(exported, ctx('ccr-export'))
    assert.deepEqual(r.errors, [])
    assert.deepEqual(r.warnings, [], 'no $CONFIG_APIKEY: a preset has no APIKEY of its own')
    assert.deepEqual([r.preset?.router.default, r.preset?.router.think], ['oai,mock-o', 'anth,claude-up'])
  })

  it("a manifest provider's bad field is named with its index", () => {
    const bad = manifest({ Providers: [{ name: 'x', api_base_url: 'http://x.test/v1/messages', models: 'no' }] })
    assert.match(presetFromFile(bad, ctx()).errors.join(), /Providers\[0\]\.models/)
  })

  it("withPresetFiles adds a manifest's own providers to the config, once", () => {
    const warnings: string[] = []
    const merged = withPresetFiles(config, { team: manifest() }, {
      warn: (m) => warnings.push(m),
      env: { TEAM_OAI_KEY: 'k' },
    })
    assert.deepEqual(merged.providers.map((p) => p.name), ['anth', 'oai', 'team/deepseek', 'team/oai'])
    assert.equal(merged.presets.team?.router.default, 'team/deepseek,ds-chat')
    assert.deepEqual(warnings, [])
  })

  it('readPresetDir: a folder’s manifest.json before its config.json, <name>.json, names checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'presets-'))
    try {
      mkdirSync(join(dir, 'team'))
      writeFileSync(join(dir, 'team', 'manifest.json'), JSON.stringify(manifest()))
      writeFileSync(join(dir, 'team', 'config.json'), '{"route":"oai,mock-o"}')
      mkdirSync(join(dir, 'rust'))
      writeFileSync(join(dir, 'rust', 'config.json'), '{"route":"oai,mock-o"}')
      writeFileSync(join(dir, 'flat.json'), '{ route: "anth,mock-a", }')
      writeFileSync(join(dir, 'broken.json'), '{')
      mkdirSync(join(dir, 'empty'))
      writeFileSync(join(dir, '.hidden.json'), '{}')
      const r = await readPresetDir(dir)
      assert.deepEqual(Object.keys(r.files).sort(), ['flat', 'rust', 'team'])
      assert.equal(r.paths.team, join(dir, 'team', 'manifest.json'))
      assert.equal((r.files.rust as { route: string }).route, 'oai,mock-o')
      assert.equal(r.errors.length, 1)
      assert.match(r.errors[0]!, /broken\.json/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
