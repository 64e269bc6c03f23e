/**
 * `switchyard validate`: the config file's verdict (exit 0 valid, 2 not, every problem with its
 * path), its warnings, and CCR's project and session Router files under ~/.claude-code-router,
 * read as a running instance reads them.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../cli/run.ts'

describe('switchyard validate', () => {
  let home: string
  let config: string

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'switchyard-validate-'))
    config = join(home, 'config.json')
    writeFileSync(
      config,
      JSON.stringify({
        LOG: false,
        Providers: [{
          name: 'p',
          api_base_url: 'http://127.0.0.1:9/v1/chat/completions',
          api_key: 'k',
          models: ['m', 'n'],
        }],
        Router: { default: 'p,m' },
        plugins: [{ name: 'token-speed' }],
      }),
    )
    const projects = join(home, '.claude-code-router')
    mkdirSync(join(projects, '-work-good'), { recursive: true })
    mkdirSync(join(projects, '-work-bad'), { recursive: true })
    mkdirSync(join(projects, 'presets'), { recursive: true })
    writeFileSync(join(projects, '-work-good', 'config.json'), JSON.stringify({ Router: { default: 'p,n' } }))
    writeFileSync(join(projects, '-work-bad', 's-1.json'), JSON.stringify({ Router: { think: 'elsewhere,x' } }))
    writeFileSync(join(projects, 'presets', 'fast.json'), JSON.stringify({ route: 'p,n' }))
  })
  after(() => rmSync(home, { recursive: true, force: true }))

  it("says valid, its warnings, and each project Router file's default or problem", async () => {
    const r = await runCli(['validate', '--config', config], { env: { HOME: home } })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /config\.json: valid \(1 providers, default p,m\)/)
    assert.match(r.stderr, /warning: plugins: CCR 2\.0's plugins/)
    assert.match(r.stdout, /project Router \S+-work-good\/config\.json: default p,n/)
    assert.match(
      r.stderr,
      /warning: project Router \S+-work-bad\/s-1\.json: Router\.think: "elsewhere,x" names no configured provider/,
    )
    assert.doesNotMatch(r.stdout + r.stderr, /project Router \S+\/presets\//, "CCR's own folders are not projects")
    assert.match(
      r.stdout,
      /preset fast \(\S+\/presets\/fast\.json\): default p,n/,
      'preset files, read as the service reads them',
    )
  })

  it('an invalid config is exit 2 with the field named', async () => {
    const bad = join(home, 'bad.json')
    writeFileSync(bad, JSON.stringify({ Providers: [{ name: 'p', api_base_url: 42, models: ['m'] }] }))
    const r = await runCli(['validate', '--config', bad], { env: { HOME: home } })
    assert.equal(r.code, 2)
    assert.match(r.stderr, /Providers\[0\]\.api_base_url/)
  })
})
