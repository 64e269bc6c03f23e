/**
 * CCR 2.0's presets end to end, through the real CLI and a served instance: `preset export`
 * writes no secret, `preset install` asks for (or takes) a manifest's inputs, the service serves
 * an installed preset with its own providers at `/preset/<name>/…`, `preset delete` reloads it
 * away, and `switchyard <preset>` runs Claude Code at the preset's base URL.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startMockServer } from '../../src/demo/server.ts'
import { runCli, startCli } from '../cli/run.ts'
import { freePort } from '../../harness/stress/proc.ts'

const FAKE = fileURLToPath(new URL('../fixtures/fake-claude.sh', import.meta.url))

async function until(cond: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A preset folder as someone shares it: its own provider, whose key the install asks for. */
function sharedPreset(root: string, mockUrl: string): string {
  const dir = join(root, 'shared', 'team-preset')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      name: 'team',
      version: '2.1.0',
      description: 'the team routing',
      author: 'ops',
      Providers: [{
        name: 'm',
        api_base_url: `${mockUrl}/v1/messages`,
        api_key: '{{teamKey}}',
        models: ['team-model'],
        transformer: { use: ['Anthropic'] },
      }],
      Router: { default: 'm,team-model' },
      schema: [{ id: 'teamKey', type: 'password', label: 'Team key' }],
      claudeCodeSettings: { env: { TEAM_FLAG: 'on' }, model: 'sonnet' },
    }),
  )
  writeFileSync(join(dir, 'README.md'), 'copied along\n')
  return dir
}

describe('switchyard preset', () => {
  it('export, install, list, info, serve at /preset/<name>, run Claude Code with it, delete', async () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-preset-'))
    const mock = await startMockServer({ port: 0 })
    const port = await freePort()
    const ccr = join(root, '.claude-code-router')
    mkdirSync(ccr, { recursive: true })
    writeFileSync(
      join(ccr, 'config.json'),
      JSON.stringify({
        LOG: false,
        PORT: port,
        Providers: [{
          name: 'm',
          api_base_url: `${mock.url}/v1/messages`,
          api_key: 'sk-main-secret',
          models: ['config-model', 'team-model'],
          transformer: { use: ['Anthropic'] },
        }],
        Router: { default: 'm,config-model' },
      }),
    )
    const dataDir = join(root, 'data')
    const env = { HOME: root }
    const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...args], { env })
    const server = await startCli(['start', '--data-dir', dataDir], /listening on (http:\/\/\S+)/, { env })
    const url = server.match[1]!
    const route = async (path: string) => {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      })
      await res.text()
      return `${res.status} ${res.headers.get('x-switchyard-route') ?? ''}`
    }
    try {
      // export: the config's providers and Router, its key written as a variable.
      const exported = await cli('preset', 'export', 'mine', '--description', 'my setup', '--tags', 'a, b')
      assert.equal(exported.code, 0, exported.stderr)
      assert.match(exported.stdout, /\$\{M_API_KEY\}/)
      assert.match(exported.stdout, /reloading the running instance/)
      const mine = readFileSync(join(ccr, 'presets', 'mine', 'manifest.json'), 'utf8')
      assert.ok(!mine.includes('sk-main-secret'), 'no secret in an exported preset')
      assert.deepEqual(JSON.parse(mine).keywords, ['a', 'b'])
      assert.equal((await cli('preset', 'export', 'mine')).code, 1, 'an existing preset is never overwritten')

      // install without the answer its schema asks for (no terminal): refused, nothing installed.
      const src = sharedPreset(root, mock.url)
      const refused = await cli('preset', 'install', src)
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /answers needed: --set teamKey=… \(Team key\); nothing installed/)
      assert.equal(existsSync(join(ccr, 'presets', 'team')), false)
      assert.match((await cli('preset', 'install', src, '--set', 'nope=1')).stderr, /has no input "nope"/)

      const installed = await cli('preset', 'install', src, '--set', 'teamKey=sk-team-secret')
      assert.equal(installed.code, 0, installed.stderr)
      assert.match(installed.stdout, /installed preset "team"[\s\S]*default team\/m,team-model/)
      const manifestPath = join(ccr, 'presets', 'team', 'manifest.json')
      assert.equal(JSON.parse(readFileSync(manifestPath, 'utf8')).userValues.teamKey, 'sk-team-secret')
      assert.equal(statSync(manifestPath).mode & 0o777, 0o600, 'the answers are the user’s alone')
      assert.ok(existsSync(join(ccr, 'presets', 'team', 'README.md')), 'the folder is copied whole')
      assert.equal((await cli('preset', 'install', src, '--set', 'teamKey=x')).code, 1, 'installed once')

      const listed = await cli('preset', 'list')
      assert.equal(listed.code, 0, listed.stderr)
      assert.match(listed.stdout, /^mine {2}\(v1\.0\.0\) {2}my setup\n {2}default m,config-model {2}→/m)
      assert.match(
        listed.stdout,
        /^team {2}\(v2\.1\.0\) {2}the team routing {2}by ops\n {2}default team\/m,team-model · 1 provider/m,
      )
      const info = await cli('preset', 'info', 'team')
      assert.match(info.stdout, /provider team\/m: http:\/\/127\.0\.0\.1:\d+\/v1\/messages \(anthropic\)/)
      assert.match(info.stdout, /input teamKey \(password\): Team key: answered/)
      for (const out of [listed.stdout, info.stdout, installed.stdout]) assert.ok(!out.includes('sk-team-secret'))

      // The running instance reloaded with both: each routes by its own Router and providers.
      await until(async () => (await route('/preset/team/v1/messages')).startsWith('200'), 'the reload')
      assert.match(await route('/preset/team/v1/messages'), /^200 default team\/m,team-model/)
      assert.match(await route('/preset/mine/v1/messages'), /^200 default m,config-model/)
      assert.match(await route('/v1/messages'), /^200 default m,config-model/)
      const models = await fetch(`${url}/preset/team/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })
      assert.equal(models.status, 200)
      assert.ok(((await models.json()) as { data: { id: string }[] }).data.some((m) => m.id === 'team/m,team-model'))
      const counted = await fetch(`${url}/preset/team/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'count these words' }] }),
      })
      assert.equal(counted.status, 200)

      // `switchyard team ARGS…`: Claude Code with its base URL at the preset.
      const out = join(root, 'claude-out')
      const code = await runCli(['--data-dir', dataDir, 'team', '-p', 'hello'], {
        env: { ...env, CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: out },
      })
      assert.equal(code.code, 0, code.stderr)
      assert.deepEqual(readFileSync(join(out, 'args'), 'utf8').split('\n').filter(Boolean), [
        '--settings',
        '{"model":"sonnet"}',
        '-p',
        'hello',
      ])
      assert.match(readFileSync(join(out, 'env'), 'utf8'), /^TEAM_FLAG=on$/m, "the preset's claudeCodeSettings.env")
      assert.match(
        readFileSync(join(out, 'env'), 'utf8'),
        new RegExp(`^ANTHROPIC_BASE_URL=http://127\\.0\\.0\\.1:${port}/preset/team$`, 'm'),
      )
      const unknown = await runCli(['--data-dir', dataDir, 'no-such-preset'], { env })
      assert.equal(unknown.code, 2)
      assert.match(unknown.stderr, /unknown command "no-such-preset"/)

      // CCR 2.0's management routes: the same descriptions as JSON, never a key; DELETE reloads.
      const listing = await (await fetch(`${url}/api/presets`)).text()
      assert.ok(!listing.includes('sk-team-secret') && !listing.includes('sk-main-secret'))
      const presets =
        (JSON.parse(listing) as { presets: { name: string; served: boolean; targets: { default: string } }[] })
          .presets
      assert.deepEqual(presets.map((p) => [p.name, p.served, p.targets.default]), [
        ['mine', true, 'm,config-model'],
        ['team', true, 'team/m,team-model'],
      ])
      const one = (await (await fetch(`${url}/api/presets/team`)).json()) as {
        inputs: { id: string; answer: string }[]
      }
      assert.deepEqual(one.inputs, [{ id: 'teamKey', type: 'password', label: 'Team key', answer: 'given' }])
      assert.equal((await fetch(`${url}/api/presets/nope`)).status, 404)
      const apply = (name: string, secrets: Record<string, unknown>) =>
        fetch(`${url}/api/presets/${name}/apply`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ secrets }),
        })
      const applied = await apply('team', { teamKey: 'sk-team-rotated' })
      assert.equal(applied.status, 200, await applied.clone().text())
      assert.match(
        ((await applied.json()) as { message: string }).message,
        /Stored the answers of preset "team"; .*reload/i,
      )
      assert.equal(JSON.parse(readFileSync(manifestPath, 'utf8')).userValues.teamKey, 'sk-team-rotated')
      assert.equal(statSync(manifestPath).mode & 0o777, 0o600)
      const unknownInput = await apply('team', { nope: 'x' })
      assert.equal(unknownInput.status, 400)
      assert.match(((await unknownInput.json()) as { message: string }).message, /no input "nope" \(inputs: teamKey\)/)
      assert.equal((await apply('nope', { a: 'b' })).status, 404)
      await until(async () => (await route('/preset/team/v1/messages')).startsWith('200'), 'the reload after apply')
      const removed = await fetch(`${url}/api/presets/mine`, { method: 'DELETE' })
      assert.equal(removed.status, 200)
      assert.match(((await removed.json()) as { message: string }).message, /Removed preset "mine"; .*reload/i)
      assert.match(await route('/preset/mine/v1/messages'), /^404/)
      assert.equal((await fetch(`${url}/api/presets/mine`, { method: 'DELETE' })).status, 404)

      const deleted = await cli('preset', 'delete', 'team')
      assert.equal(deleted.code, 0, deleted.stderr)
      await until(async () => (await route('/preset/team/v1/messages')).startsWith('404'), 'the reload after delete')
      assert.equal((await cli('preset', 'delete', 'team')).code, 1)
      assert.equal((await cli('preset', 'info', '../etc')).code, 1, 'a name is never a path')
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
      await mock.stop()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('a noServer preset runs Claude Code at its first provider itself, starting no service', async () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-preset-direct-'))
    try {
      const dir = join(root, '.claude-code-router', 'presets', 'direct')
      mkdirSync(dir, { recursive: true })
      writeFileSync(
        join(dir, 'manifest.json'),
        JSON.stringify({
          name: 'direct',
          noServer: true,
          Providers: [{
            name: 'a',
            api_base_url: 'http://127.0.0.1:9/v1/messages',
            api_key: '$DIRECT_KEY',
            models: ['m'],
          }],
          Router: { default: 'a,m' },
        }),
      )
      const out = join(root, 'claude-out')
      const dataDir = join(root, 'data')
      const r = await runCli(['--data-dir', dataDir, '--port', String(await freePort()), 'direct'], {
        env: { HOME: root, CLAUDE_PATH: FAKE, FAKE_CLAUDE_OUT: out, DIRECT_KEY: 'sk-direct' },
      })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /noServer: Claude Code talks to http:\/\/127\.0\.0\.1:9 itself/)
      const recorded = readFileSync(join(out, 'env'), 'utf8')
      assert.match(recorded, /^ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:9$/m)
      assert.match(recorded, /^ANTHROPIC_AUTH_TOKEN=sk-direct$/m)
      assert.equal(existsSync(join(dataDir, 'switchyard.pid')), false, 'no service was started')
      assert.doesNotMatch(r.stderr, /starting the service/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('install from a manifest file copies only it; a folder that holds the presets folder is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-preset-files-'))
    try {
      const env = { HOME: root }
      const manifest = JSON.stringify({
        name: 'loose',
        Providers: [{ name: 'a', api_base_url: 'http://127.0.0.1:9/v1/messages', api_key: 'k', models: ['m'] }],
        Router: { default: 'a,m' },
      })
      mkdirSync(join(root, 'downloads'))
      writeFileSync(join(root, 'downloads', 'loose-preset.json'), manifest)
      writeFileSync(join(root, 'downloads', 'unrelated.txt'), 'not part of the preset')
      const r = await runCli(['preset', 'install', join(root, 'downloads', 'loose-preset.json')], { env })
      assert.equal(r.code, 0, r.stderr)
      const installed = join(root, '.claude-code-router', 'presets', 'loose')
      assert.equal(JSON.parse(readFileSync(join(installed, 'manifest.json'), 'utf8')).name, 'loose')
      assert.equal(existsSync(join(installed, 'unrelated.txt')), false)
      // HOME itself as the preset folder: copying it into its own presets folder would never end.
      writeFileSync(join(root, 'manifest.json'), manifest.replace('"loose"', '"home"'))
      const refused = await runCli(['preset', 'install', root], { env })
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /holds the presets folder itself/)
      assert.equal(existsSync(join(root, '.claude-code-router', 'presets', 'home')), false)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
