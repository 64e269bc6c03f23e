/**
 * One black-box suite, run against each way Switchyard ships: the `bun build --compile` binary
 * and `deno run` from source. Each serves a CCR config over a real port: health, a streaming
 * /v1/messages translated from an OpenAI upstream, a mid-stream drop, and SIGTERM draining.
 * It spawns both itself, so it runs under `bun test` only (under Deno it would build twice).
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMockServer } from '../../src/demo/server.ts'
import { createSseDecoder } from '../../src/formats/index.ts'

const isBun = 'Bun' in globalThis
const dir = mkdtempSync(join(tmpdir(), 'switchyard-runtime-'))

interface Proxy { url: string; proc: ChildProcess; output: () => string; exited: Promise<number | null> }

function startProxy(cmd: string, args: string[]): Promise<Proxy> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let out = ''
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no listening line within 30 s:\n${out}`)) }, 30_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/[^\s]+)/.exec(out)
      if (m) { clearTimeout(timer); resolve({ url: m[1]!, proc, output: () => out, exited }) }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString() })
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code} before listening:\n${out}`)) })
  })
}

async function streamEvents(url: string, model: string): Promise<{ status: number; events: { event?: string; data: string }[] }> {
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

describe('runtime: the shipped forms serve the same suite', { skip: !isBun && 'spawns both runtimes itself; runs under bun test' }, () => {
  let mock: Awaited<ReturnType<typeof startMockServer>>
  let configPath: string

  before(async () => {
    mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
    configPath = join(dir, 'config.json')
    writeFileSync(configPath, JSON.stringify({
      LOG: false,
      Providers: [{ name: 'oai', api_base_url: `${mock.url}/v1/chat/completions`, api_key: 'sk-test', models: ['mock-o'] }],
      Router: { default: 'oai,mock-o' },
    }))
    const build = spawnSync('node_modules/.bin/bun', ['build', '--compile', 'src/cli.ts', '--outfile', join(dir, 'switchyard')], { encoding: 'utf8' })
    assert.equal(build.status, 0, build.stderr)
  })
  after(async () => { await mock.stop() })

  const forms: [string, () => [string, string[]]][] = [
    ['compiled binary', () => [join(dir, 'switchyard'), []]],
    ['deno run', () => ['node_modules/.bin/deno', ['run', '-A', 'src/cli.ts']]],
  ]
  for (const [name, command] of forms) {
    it(`${name}: health, a translated stream read to the end, a mid-stream drop, and SIGTERM draining`, async () => {
      const [cmd, pre] = command()
      const p = await startProxy(cmd, [...pre, 'start', '--config', configPath, '--port', '0', '--data-dir', join(dir, name.replace(' ', '-'))])
      try {
        const health = await fetch(`${p.url}/health`)
        assert.equal(((await health.json()) as { status: string }).status, 'ok')
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

        const cut = await streamEvents(p.url, 'oai,mock-o:chunks=8:cut=4')
        assert.equal(cut.events.at(-1)?.event, 'error', 'a dropped upstream ends in an error event')
        assert.equal(cut.events.filter((e) => e.event === 'message_stop').length, 0)

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
