import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configFileExists, loadConfigFile, parseConfig, resolveConfigPath } from './load.ts'

const TEXT = `{
  // JSON5: comments, unquoted keys, single quotes and trailing commas
  APIKEY: '$CCR_APIKEY',
  Providers: [
    { name: 'deepseek', api_base_url: 'https://\${DS_HOST}/chat/completions', api_key: '\${DEEPSEEK_API_KEY}', models: ['deepseek-chat',], },
  ],
  Router: { default: 'deepseek,deepseek-chat', },
}`

describe('resolveConfigPath', () => {
  const home = '/home/u'
  it('prefers --config, then SWITCHYARD_CONFIG, then CCR_CONFIG, then the CCR default', () => {
    const env = { SWITCHYARD_CONFIG: '/s.json', CCR_CONFIG: '/c.json' }
    assert.equal(resolveConfigPath({ argPath: '/a.json', env, home }), '/a.json')
    assert.equal(resolveConfigPath({ env, home }), '/s.json')
    assert.equal(resolveConfigPath({ env: { CCR_CONFIG: '/c.json' }, home }), '/c.json')
    assert.equal(resolveConfigPath({ env: {}, home }), join('/home/u', '.claude-code-router', 'config.json'))
  })

  it('treats empty variables as unset', () => {
    assert.equal(resolveConfigPath({ env: { SWITCHYARD_CONFIG: '', CCR_CONFIG: '/c.json' }, home }), '/c.json')
  })
})

describe('parseConfig', () => {
  it('reads JSON5 and interpolates every string', () => {
    const r = parseConfig(TEXT, { CCR_APIKEY: 'inbound', DS_HOST: 'api.deepseek.com', DEEPSEEK_API_KEY: 'sk-ds' })
    assert.ok(r.ok)
    const p = r.value.config.providers[0]
    assert.equal(p?.baseUrl, 'https://api.deepseek.com/chat/completions')
    assert.equal(p?.apiKey, 'sk-ds')
    assert.equal(r.value.config.apiKey, 'inbound')
    assert.deepEqual(r.value.warnings, [])
  })

  it('keeps the raw, un-interpolated document for redaction', () => {
    const r = parseConfig(TEXT, { CCR_APIKEY: 'inbound', DS_HOST: 'h.example', DEEPSEEK_API_KEY: 'sk-ds' })
    assert.ok(r.ok)
    assert.doesNotMatch(JSON.stringify(r.value.raw), /sk-ds|inbound/)
    assert.match(JSON.stringify(r.value.raw), /\$\{DEEPSEEK_API_KEY\}/)
  })

  it('warns about an unset variable by name without echoing any value', () => {
    const r = parseConfig(TEXT, { DS_HOST: 'h.example', DEEPSEEK_API_KEY: 'sk-very-secret' })
    assert.ok(r.ok)
    // An APIKEY naming an unset variable is no key (the literal `$CCR_APIKEY` must never be one).
    assert.equal(r.value.config.apiKey, undefined)
    assert.deepEqual(r.value.warnings, [
      'APIKEY: refers to the unset environment variable CCR_APIKEY: NO API KEY is required, and the proxy listens on 127.0.0.1 only',
      'environment variable CCR_APIKEY is not set: its reference is left as written',
    ])
    assert.doesNotMatch(r.value.warnings.join('\n'), /sk-very-secret|h\.example/)
  })

  it('coerces interpolated numbers and booleans', () => {
    const r = parseConfig(
      `{ PORT: '$PORT', LOG: '$LOG', Providers: [{ name: 'p', api_base_url: 'http://127.0.0.1:1/v1/messages', api_key: 'k', models: ['m'] }] }`,
      { PORT: '4000', LOG: 'false' },
    )
    assert.ok(r.ok)
    assert.equal(r.value.config.port, 4000)
    assert.equal(r.value.config.log, false)
  })
})

describe('loadConfigFile / configFileExists', () => {
  it('loads a file, reports a missing one distinctly, and prefixes errors with the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'))
    try {
      const good = join(dir, 'config.json')
      const bad = join(dir, 'bad.json')
      await writeFile(good, TEXT)
      await writeFile(bad, '{ Providers: "none" }')
      const loaded = await loadConfigFile(good, { DS_HOST: 'h.example' })
      assert.ok(loaded.ok)
      assert.equal(loaded.value.config.providers[0]?.name, 'deepseek')
      assert.deepEqual(await configFileExists(good), { missing: false })
      assert.deepEqual(await configFileExists(join(dir, 'nope.json')), { missing: true })
      const missing = await loadConfigFile(join(dir, 'nope.json'), {})
      assert.deepEqual(missing, {
        ok: false,
        error: [`Cannot read config file ${join(dir, 'nope.json')}: no such file`],
      })
      const invalid = await loadConfigFile(bad, {})
      assert.deepEqual(invalid, { ok: false, error: [`${bad}: Providers: expected array, got "none"`] })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
