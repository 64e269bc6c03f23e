/** `switchyard model` end to end: the file edited in place, validated, backed up, and a running instance reloaded. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { cliCommand, runCli, startCli } from '../cli/run.ts'

const FILE = `// CCR config, JSON5
{
  "LOG": false,
  "Providers": [
    { "name": "deepseek", "api_base_url": "http://127.0.0.1:9/chat/completions", "api_key": "$DEEPSEEK_API_KEY", "models": ["deepseek-chat", "deepseek-reasoner"] },
    { "name": "oai", "api_base_url": "http://127.0.0.1:9/v1/chat/completions", "api_key": "k", "models": ["gpt-x"] },
  ],
  "Router": {
    "default": "deepseek,deepseek-chat", // everyday
    "think": "deepseek,deepseek-chat",
  },
  "StatusLine": { "enabled": false },
}
`

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-model-'))
  const config = join(dir, 'config.json')
  writeFileSync(config, FILE)
  return { dir, config, dataDir: join(dir, 'data') }
}

async function planTarget(url: string, scenario: string): Promise<string> {
  return ((await (await fetch(`${url}/v1/routing/plan?scenario=${scenario}`)).json()) as { target: string }).target
}

describe('switchyard model', () => {
  it('set: changes one value (comments, $VAR and unknown keys stay), keeps a backup, and the running instance reloads', async () => {
    const s = setup()
    const server = await startCli(
      ['start', '--config', s.config, '--port', '0', '--data-dir', s.dataDir],
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
    )
    const url = server.match[1]!
    try {
      assert.equal(await planTarget(url, 'think'), 'deepseek,deepseek-chat')
      const r = await runCli([
        'model',
        'set',
        'think',
        'deepseek,deepseek-reasoner',
        '--config',
        s.config,
        '--data-dir',
        s.dataDir,
      ])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /reloading the running instance/)
      assert.equal(
        readFileSync(s.config, 'utf8'),
        FILE.replace('"think": "deepseek,deepseek-chat"', '"think": "deepseek,deepseek-reasoner"'),
      )
      const backups = readdirSync(s.dir).filter((f) => f.endsWith('.bak'))
      assert.equal(backups.length, 1)
      assert.equal(readFileSync(join(s.dir, backups[0]!), 'utf8'), FILE)
      const end = Date.now() + 10_000
      while (Date.now() < end && (await planTarget(url, 'think')) !== 'deepseek,deepseek-reasoner') {
        await new Promise((res) => setTimeout(res, 50))
      }
      assert.equal(await planTarget(url, 'think'), 'deepseek,deepseek-reasoner')
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })

  it('the picker: numbered scenarios, then numbered targets; a new scenario key is added', async () => {
    const s = setup()
    // 2nd scenario (background), 3rd target (oai,gpt-x)
    const r = await runCli(['model', '--config', s.config, '--data-dir', s.dataDir], { input: '2\n3\n' })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /background\s+-/)
    assert.match(r.stdout, /Router\.background = oai,gpt-x/)
    assert.match(readFileSync(s.config, 'utf8'), /"Router": \{\n {4}"background": "oai,gpt-x",\n {4}"default"/)
    const cancelled = await runCli(['model', '--config', s.config, '--data-dir', s.dataDir], { input: '\n' })
    assert.match(cancelled.stdout, /nothing changed/)
  })

  const tmux = spawnSync('tmux', ['-V']).status === 0
  it(
    'on a terminal (tmux): an arrow-key menu, Down and Enter pick the scenario and the target, starting at the current one',
    { skip: tmux ? false : 'tmux is not installed' },
    async () => {
      const s = setup()
      const socket = `sy-model-${process.pid}`
      const t = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
      const screen = () => t('capture-pane', '-p', '-t', 'pick').stdout
      const until = async (re: RegExp, what: string) => {
        const end = Date.now() + 20_000
        while (Date.now() < end && !re.test(screen())) await new Promise((r) => setTimeout(r, 100))
        assert.match(screen(), re, what)
      }
      const [cmd, argv] = cliCommand(['model', '--config', s.config, '--data-dir', s.dataDir])
      const quoted = [cmd, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
      assert.equal(
        t('new-session', '-d', '-s', 'pick', '-x', '100', '-y', '30', `${quoted}; echo EXIT=$?; sleep 20`).status,
        0,
      )
      try {
        await until(/❯ default/, 'the scenario menu, cursor on the first entry')
        t('send-keys', '-t', 'pick', 'Down', 'Down')
        await until(/❯ think/, 'Down moved the cursor twice')
        t('send-keys', '-t', 'pick', 'Enter')
        await until(/❯ deepseek,deepseek-chat {2}\(current\)/, 'the target menu starts at the current target')
        t('send-keys', '-t', 'pick', 'Down')
        await until(/❯ deepseek,deepseek-reasoner/, 'Down moved to the next target')
        t('send-keys', '-t', 'pick', 'Enter')
        await until(/EXIT=0/, 'the command ended')
        assert.match(screen(), /Router\.think = deepseek,deepseek-reasoner/)
        assert.equal(
          readFileSync(s.config, 'utf8'),
          FILE.replace('"think": "deepseek,deepseek-chat"', '"think": "deepseek,deepseek-reasoner"'),
        )
      } finally {
        t('kill-server')
      }
    },
  )

  it('an unknown target or scenario is refused and the file is left alone', async () => {
    const s = setup()
    const bad = await runCli(['model', 'set', 'think', 'nope,x', '--config', s.config])
    assert.equal(bad.code, 2)
    assert.match(
      bad.stderr,
      /"nope,x" is not a configured provider,model \(have: deepseek,deepseek-chat, deepseek,deepseek-reasoner, oai,gpt-x\)/,
    )
    assert.equal((await runCli(['model', 'set', 'thinking', 'oai,gpt-x', '--config', s.config])).code, 2)
    assert.equal(readFileSync(s.config, 'utf8'), FILE)
    assert.deepEqual(readdirSync(s.dir).filter((f) => f.endsWith('.bak')), [])
    const shown = await runCli(['model', 'show', '--config', s.config])
    assert.match(shown.stdout, /think\s+deepseek,deepseek-chat/)
    // CCR's first config has no providers: `model` says what to do first.
    const empty = join(s.dir, 'empty.json')
    writeFileSync(empty, '{"PORT":3456,"Providers":[],"Router":{}}')
    const none = await runCli(['model', 'set', 'think', 'a,b', '--config', empty])
    assert.equal(none.code, 2)
    assert.match(
      none.stderr,
      /"a,b" is not a configured provider,model \(the config has no providers yet: add one first\)/,
    )
  })
})
