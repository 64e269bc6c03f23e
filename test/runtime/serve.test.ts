/**
 * One black-box suite, run against each way Switchyard ships: the `bun build --compile` binary
 * and `deno run` from source. Each serves a CCR config over a real port: health, a streaming
 * /v1/messages translated from an OpenAI upstream, a mid-stream drop, and SIGTERM draining.
 * It spawns both itself, so it runs under `bun test` only (under Deno it would build twice).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { startMockServer } from '../../src/demo/server.ts'
import { createSseDecoder } from '../../src/formats/index.ts'

const isBun = 'Bun' in globalThis
const dir = mkdtempSync(join(tmpdir(), 'switchyard-runtime-'))

/** A CCR config with one OpenAI provider on the mock upstream, the default route. */
function writeMockConfig(path: string, mockUrl: string): void {
  writeFileSync(
    path,
    JSON.stringify({
      LOG: false,
      Providers: [{
        name: 'oai',
        api_base_url: `${mockUrl}/v1/chat/completions`,
        api_key: 'sk-test',
        models: ['mock-o'],
      }],
      Router: { default: 'oai,mock-o' },
    }),
  )
}

interface Proxy {
  url: string
  proc: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

function startProxy(cmd: string, args: string[]): Promise<Proxy> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let out = ''
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`no listening line within 30 s:\n${out}`))
    }, 30_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/[^\s]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1]!, proc, output: () => out, exited })
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before listening:\n${out}`))
    })
  })
}

async function streamEvents(
  url: string,
  model: string,
): Promise<{ status: number; events: { event?: string; data: string }[] }> {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(20_000),
  })
  const d = createSseDecoder()
  const text = await res.text()
  return { status: res.status, events: [...d.push(text), ...d.flush()] }
}

describe('runtime: the shipped forms serve the same suite', {
  skip: !isBun && 'spawns both runtimes itself; runs under bun test',
}, () => {
  let mock: Awaited<ReturnType<typeof startMockServer>>
  let configPath: string

  before(async () => {
    mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
    configPath = join(dir, 'config.json')
    writeMockConfig(configPath, mock.url)
    // As package.json's `build`: the tokenizer's rank file is embedded under its own name.
    const build = spawnSync('node_modules/.bin/bun', [
      'build',
      '--compile',
      'src/cli.ts',
      'src/tokens/cl100k.bin',
      '--asset-naming=[name].[ext]',
      '--outfile',
      join(dir, 'switchyard'),
    ], { encoding: 'utf8' })
    assert.equal(build.status, 0, build.stderr)
  })
  after(async () => {
    await mock.stop()
  })

  const forms: [string, () => [string, string[]]][] = [
    ['compiled binary', () => [join(dir, 'switchyard'), []]],
    ['deno run', () => ['node_modules/.bin/deno', ['run', '-A', 'src/cli.ts']]],
  ]
  for (const [name, command] of forms) {
    it(`${name}: health, a translated stream read to the end, a mid-stream drop continued, and SIGTERM draining`, async () => {
      const [cmd, pre] = command()
      const p = await startProxy(cmd, [
        ...pre,
        'start',
        '--config',
        configPath,
        '--port',
        '0',
        '--data-dir',
        join(dir, name.replace(' ', '-')),
      ])
      try {
        const health = await fetch(`${p.url}/health`)
        assert.equal(((await health.json()) as { status: string }).status, 'ok')
        // 20 KB of request headers are read (Bun's own limit is 16 KiB: a bare 431).
        const big = await fetch(`${p.url}/health`, { headers: { 'x-big': 'a'.repeat(20_000) } })
        assert.equal(big.status, 200)
        // The dashboard and the docs bundle are embedded in every shipped form.
        for (const asset of ['/ui/', '/ui/app.js', '/ui/uplot.js', '/docs/scalar.js']) {
          const res = await fetch(`${p.url}${asset}`)
          assert.equal(res.status, 200, asset)
          assert.ok((await res.text()).length > 1000, asset)
        }

        const ok = await streamEvents(p.url, 'oai,mock-o:chunks=8')
        assert.equal(ok.status, 200)
        assert.equal(ok.events[0]?.event, 'message_start')
        assert.equal(ok.events.at(-1)?.event, 'message_stop')
        assert.ok(ok.events.map((e) => e.data).join('').includes('[0008]'))

        // A drop after the commit point is continued (Router.continueStreams, on by default): the
        // client still reads one complete answer, with every chunk exactly once and no error event.
        const cut = await streamEvents(p.url, 'oai,mock-o:chunks=8:cut=4')
        assert.equal(cut.events.at(-1)?.event, 'message_stop', 'a dropped upstream is continued to a complete answer')
        assert.equal(cut.events.filter((e) => e.event === 'error').length, 0)
        const text = cut.events.map((e) => e.data).join('')
        for (let i = 1; i <= 8; i++) assert.ok(text.includes(`[000${i}]`), `chunk ${i} reached the client`)

        // SIGTERM while a slow stream runs: it still completes, then the process exits 0.
        const slow = streamEvents(p.url, 'oai,mock-o:chunks=10:delay=100')
        await new Promise((r) => setTimeout(r, 300))
        p.proc.kill('SIGTERM')
        const drained = await slow
        assert.equal(drained.events.at(-1)?.event, 'message_stop')
        assert.equal(await p.exited, 0)
      } finally {
        p.proc.kill('SIGKILL')
      }
    })
  }
})

/**
 * `deno task start` and `deno task test` as the README promises them, from a fresh copy of the
 * repository's files: after `npm install` (node_modules/.bin/deno is then the native binary,
 * which the task runner would wrongly run as a script) and after a Deno user's `deno install`
 * with no npm at all (node_modules/.bin/deno is then a JS shim).
 */
describe(
  'runtime: deno tasks from a fresh clone',
  { skip: !isBun && 'spawns deno itself; runs under bun test' },
  () => {
    const root = resolve(dirname(new URL(import.meta.url).pathname), '../..')
    const realDeno = resolve(root, 'node_modules/deno/deno')
    let mock: Awaited<ReturnType<typeof startMockServer>>
    let configPath: string

    /** The tracked files of the working tree, as `git clone` would give them (no node_modules). */
    function freshClone(name: string): string {
      const to = join(dir, name)
      const files = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
      assert.equal(files.status, 0, files.stderr)
      for (const f of files.stdout.split('\0').filter(Boolean)) {
        mkdirSync(dirname(join(to, f)), { recursive: true })
        cpSync(join(root, f), join(to, f))
      }
      return to
    }

    /** A PATH whose `deno` is a real Deno binary, as on a Deno user's machine. */
    function pathWithDeno(): string {
      const bin = join(dir, 'deno-bin')
      mkdirSync(bin, { recursive: true })
      try {
        symlinkSync(realDeno, join(bin, 'deno'))
      } catch { /* made by the other case */ }
      return `${bin}:${process.env.PATH ?? ''}`
    }

    before(async () => {
      mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
      configPath = join(dir, 'task-config.json')
      writeMockConfig(configPath, mock.url)
    })
    after(async () => {
      await mock.stop()
    })

    async function startAndTest(clone: string, env: Record<string, string>): Promise<void> {
      const run = (args: string[]) => spawnSync('deno', args, { cwd: clone, env, encoding: 'utf8', timeout: 60_000 })
      const [cmd, args] = ['deno', [
        'task',
        'start',
        '--config',
        configPath,
        '--port',
        '0',
        '--data-dir',
        join(clone, '.data'),
      ]] as const
      const proc = spawn(cmd, [...args], { cwd: clone, stdio: ['ignore', 'pipe', 'pipe'], env })
      let out = ''
      const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
      try {
        const url = await new Promise<string>((res, rej) => {
          const timer = setTimeout(
            () => rej(new Error(`deno task start: no listening line within 30 s:\n${out}`)),
            30_000,
          )
          const onData = (d: Buffer) => {
            out += d.toString()
            const m = /listening on (http:\/\/[^\s]+)/.exec(out)
            if (m) {
              clearTimeout(timer)
              res(m[1]!)
            }
          }
          proc.stdout!.on('data', onData)
          proc.stderr!.on('data', onData)
          proc.on('exit', (code) => {
            clearTimeout(timer)
            rej(new Error(`deno task start exited with ${code}:\n${out}`))
          })
        })
        assert.match(out, /on deno /)
        const ok = await streamEvents(url, 'oai,mock-o:chunks=3')
        assert.equal(ok.events.at(-1)?.event, 'message_stop')
        proc.kill('SIGTERM')
        assert.equal(await exited, 0, out)
      } finally {
        proc.kill('SIGKILL')
      }
      const test = run(['task', 'test', 'src/runtime/runtime.test.ts'])
      assert.equal(test.status, 0, `${test.stdout}\n${test.stderr}`)
      // Both suites of the file ran under Deno (the adapter, and the malloc_trim it calls with -A).
      assert.match(test.stdout, /ok \| 2 passed \(\d+ steps\) \| 0 failed/)
      assert.match(test.stdout, /reaches the real malloc_trim \.\.\. ok/)
    }

    it('npm install && deno task start / deno task test', async () => {
      const clone = freshClone('npm-path')
      // What `npm install` leaves: the repository's own node_modules, native deno in .bin included.
      symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'))
      await startAndTest(
        clone,
        {
          ...process.env,
          PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
          NO_COLOR: '1',
        } as Record<string, string>,
      )
    })

    it('deno install && deno task start / deno task test, with no npm', async () => {
      const clone = freshClone('deno-path')
      const env = { ...process.env, PATH: pathWithDeno(), NO_COLOR: '1' } as Record<string, string>
      const install = spawnSync('deno', ['install'], { cwd: clone, env, encoding: 'utf8', timeout: 120_000 })
      assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`)
      await startAndTest(clone, env)
    })
  },
)
