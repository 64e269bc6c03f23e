/**
 * Lifecycle over real loopback sockets: graceful shutdown under 200 active streams, the drain
 * deadline, usage flushed to the store, config reload (good and bad files) and stale PID files.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMockServer } from '../../src/demo/server.ts'
import { buildServer } from '../../src/cli/server.ts'
import { probeInstance, processAlive, readPidFile, writePidFile } from '../../src/cli/pidfile.ts'
import { parseConfig } from '../../src/config/load.ts'
import { createSseDecoder } from '../../src/formats/index.ts'
import { silentLogger } from '../../src/log.ts'
import { openStore, STORE_FILE } from '../../src/store/db.ts'
import { UsageStore } from '../../src/store/usage.ts'

const fileFor = (mockUrl: string, models: string[] = ['m']) => ({
  LOG: false,
  Providers: [{ name: 'oai', api_base_url: `${mockUrl}/v1/chat/completions`, api_key: 'sk-lifecycle-secret', models }],
  Router: { default: `oai,${models[0]}` },
})

async function server(mockUrl: string, dir: string, extra: Record<string, unknown> = {}) {
  const path = join(dir, 'config.json')
  writeFileSync(path, JSON.stringify({ ...fileFor(mockUrl), ...extra }))
  const parsed = parseConfig(JSON.stringify({ ...fileFor(mockUrl), ...extra }), {})
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  const s = await buildServer(parsed.value.config, {
    host: '127.0.0.1',
    port: 0,
    dataDir: dir,
    log: silentLogger,
    configPath: path,
    env: {},
  })
  return { s, path }
}

/** A mock and a server in a fresh data dir around `fn`; the server is shut down afterwards (again, if `fn` did). */
async function withServer(
  fn: (x: { s: Awaited<ReturnType<typeof server>>['s']; path: string; dir: string; mockUrl: string }) => Promise<void>,
  extra: (mockUrl: string) => Record<string, unknown> = () => ({}),
): Promise<void> {
  const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-life-'))
  const { s, path } = await server(mock.url, dir, extra(mock.url))
  try {
    await fn({ s, path, dir, mockUrl: mock.url })
  } finally {
    await s.shutdown(1_000)
    await mock.stop()
  }
}

/** Waits (up to 10 s) for `ok` to hold. */
async function until(ok: () => boolean): Promise<void> {
  const end = Date.now() + 10_000
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
  assert.ok(ok(), 'timed out waiting')
}

/** Reads a whole SSE response; returns the last event name and whether the body ended cleanly. */
async function lastEvent(res: Response): Promise<string | undefined> {
  const d = createSseDecoder()
  const evs = [...d.push(await res.text()), ...d.flush()]
  return evs.at(-1)?.event
}

const stream = (url: string, model: string) =>
  fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(30_000),
    body: JSON.stringify({ model, max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  })

describe('lifecycle', () => {
  it('SIGTERM-style shutdown during 200 active streams: every stream completes, usage is flushed', () =>
    withServer(async ({ s, dir }) => {
      const pending = Array.from({ length: 200 }, () => stream(s.url, 'oai,m:chunks=10:delay=40').then(lastEvent))
      for (let i = 0; i < 100 && s.activeRequests() < 200; i++) await new Promise((r) => setTimeout(r, 20))
      assert.equal(s.activeRequests(), 200, 'all 200 streams are in flight when shutdown starts')
      await s.shutdown(10_000)
      const ends = await Promise.all(pending)
      assert.equal(ends.filter((e) => e === 'message_stop').length, 200)
      const store = openStore(join(dir, STORE_FILE))
      const totals = new UsageStore(store).loadTotals()
      store.close()
      assert.equal(totals.reduce((n, t) => n + t.requests, 0), 200, 'all 200 billed requests persisted')
    }))

  it('streams still running at the drain deadline end with a well-formed in-stream error', () =>
    withServer(async ({ s }) => {
      const pending = Array.from({ length: 5 }, () => stream(s.url, 'oai,m:chunks=100:delay=100').then(lastEvent))
      // All five open before the shutdown, however slow the machine (a fixed wait was not always enough).
      await until(() => s.activeRequests() >= 5)
      await new Promise((r) => setTimeout(r, 100))
      const open = s.activeRequests()
      const t0 = Date.now()
      await s.shutdown(200)
      const took = Date.now() - t0
      const ends = await Promise.all(pending)
      assert.deepEqual(
        ends,
        ['error', 'error', 'error', 'error', 'error'],
        `${open} open at shutdown, which took ${took} ms`,
      )
    }))

  it('reload: a bad file is rejected with its errors and the old config keeps serving; a good one takes over', () =>
    withServer(async ({ s, path, mockUrl }) => {
      writeFileSync(path, '{ "Providers": [], "Router": { "default": "nope" }')
      await assert.rejects(s.reload(), /reload rejected/)
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      writeFileSync(path, JSON.stringify(fileFor(mockUrl, ['second'])))
      const uptime = async () => ((await (await fetch(`${s.url}/health`)).json()) as { uptime_s: number }).uptime_s
      await new Promise((r) => setTimeout(r, 300))
      const before = await uptime()
      assert.match(await s.reload(), /reloaded/)
      const res = await stream(s.url, 'claude-sonnet')
      assert.match(res.headers.get('x-switchyard-route') ?? '', /oai,second/)
      await res.text()
      // A reload is not a restart: the uptime goes on (it used to start again from 0).
      assert.ok(await uptime() >= before, `uptime ${await uptime()} s after the reload, ${before} s before`)
    }))

  it("a reload keeps what conversations in progress rely on (a Responses answer kept before it is continued after it, a session's last usage counts) and what routing measured", () =>
    withServer(async ({ s, path, mockUrl }) => {
      const respond = (body: Record<string, unknown>) =>
        fetch(`${s.url}/v1/responses`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-5', input: 'hi', ...body }),
        })
      const first = await respond({})
      assert.equal(first.status, 200)
      const { id } = (await first.json()) as { id: string }
      // A session whose answer's prompt passes the threshold the new config sets.
      const session = (prompt: string) =>
        fetch(`${s.url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'claude-sonnet',
            max_tokens: 8,
            metadata: { user_id: JSON.stringify({ device_id: 'd', account_uuid: '', session_id: 'reload-1' }) },
            messages: [{ role: 'user', content: prompt }],
          }),
        })
      await (await session('word '.repeat(21_000))).text()
      writeFileSync(
        path,
        JSON.stringify({
          ...fileFor(mockUrl, ['second', 'long']),
          Router: { default: 'oai,second', longContext: 'oai,long', longContextThreshold: 20_500 },
        }),
      )
      const measured = async () => {
        const body = (await (await fetch(`${s.url}/v1/latencies?format=switchyard`)).json()) as {
          targets: { target: string; samples: number }[]
        }
        return body.targets.find((t) => t.target === 'oai,m')?.samples
      }
      const samples = await measured()
      assert.ok((samples ?? 0) >= 2, `samples before the reload: ${samples}`)
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await measured(), samples, "routing's measurements of the same upstream stay")
      const next = await respond({ previous_response_id: id, input: 'and again' })
      assert.equal(next.status, 200, await next.clone().text())
      // The mock reported the prompt it was sent (~21,000 tokens), past the new threshold: this
      // request (under it by its own estimate) goes to longContext.
      const after = await session('word '.repeat(20_100))
      assert.match(after.headers.get('x-switchyard-route') ?? '', /^longContext oai,long/)
      await after.text()
    }))

  it("a reload keeps providers' rate budgets and the upstream's Retry-After holds, but not those of a provider pointed elsewhere", () => {
    const providers = (mockUrl: string, heldUrl = `${mockUrl}/v1/chat/completions`) => ({
      Providers: [
        { name: 'oai', api_base_url: `${mockUrl}/v1/chat/completions`, api_key: 'k', models: ['m'], rpm: 2 },
        { name: 'held', api_base_url: heldUrl, api_key: 'k', models: ['h'] },
      ],
      Router: { default: 'oai,m', fallbackToOtherTiers: false, tierRetries: { default: { max_retries: 0 } } },
    })
    return withServer(async ({ s, path, mockUrl }) => {
      const ask = async (model: string) => {
        const res = await fetch(`${s.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
        })
        await res.text()
        return res.status
      }
      const rpmLeft = async () =>
        ((await (await fetch(`${s.url}/v1/rate-budgets`)).json()) as {
          providers: Record<string, { rpm?: { left: number } }>
        }).providers.oai?.rpm?.left
      const attempts = async (model: string) =>
        ((await (await fetch(`${mockUrl}/_mock/attempts`)).json()) as { attempts: { model: string }[] }).attempts
          .filter((a) => a.model === model.slice(model.indexOf(',') + 1)).length
      const HELD = 'held,h:status=429:retry-after=30'
      assert.equal(await ask('oai,m'), 200)
      assert.equal(await ask('oai,m'), 200)
      assert.equal(await rpmLeft(), 0)
      assert.equal(await ask(HELD), 429)
      const calls = await attempts(HELD)
      assert.ok(calls >= 1)
      assert.equal(await ask(HELD), 429)
      assert.equal(await attempts(HELD), calls, 'held: not called again')

      writeFileSync(path, JSON.stringify({ ...fileFor(mockUrl), ...providers(mockUrl), LOG_LEVEL: 'warn' }))
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await rpmLeft(), 0, 'the minute’s two requests are still spent')
      assert.equal(await ask(HELD), 429)
      assert.equal(await attempts(HELD), calls, 'still held after the reload')

      // The same name at another URL is another upstream: its hold is forgotten.
      writeFileSync(
        path,
        JSON.stringify({ ...fileFor(mockUrl), ...providers(mockUrl, `${mockUrl}/v1/chat/completions?x=1`) }),
      )
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await ask(HELD), 429)
      assert.ok((await attempts(HELD)) > calls, 'called again once pointed elsewhere')
    }, providers)
  })

  it("CCR's first config (no providers yet) starts: requests get a 503 that says so, and a save from the API adds one", () =>
    withServer(async ({ s, path, mockUrl }) => {
      const ask = (route: string) =>
        fetch(`${s.url}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'x', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
        })
      const a = await ask('/v1/messages')
      assert.equal(a.status, 503)
      const body = (await a.json()) as { type: string; error: { message: string } }
      assert.equal(body.type, 'error')
      assert.match(body.error.message, /^No providers are configured yet: add one to the config file/)
      const o = await ask('/v1/chat/completions')
      assert.equal(o.status, 503)
      assert.match(
        ((await o.json()) as { error: { message: string } }).error.message,
        /No providers are configured yet/,
      )
      assert.equal((await fetch(`${s.url}/health`)).status, 200)
      const saved = await fetch(`${s.url}/api/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: JSON.stringify(fileFor(mockUrl)) }),
      })
      assert.equal(saved.status, 200, await saved.clone().text())
      const after = await ask('/v1/messages')
      assert.equal(after.status, 200, await after.clone().text())
      assert.match(after.headers.get('x-switchyard-route') ?? '', /^default oai,m/)
      assert.match(readFileSync(path, 'utf8'), /sk-lifecycle-secret/)
    }, () => ({ PORT: 3456, Providers: [], Router: {} })))

  it("the response cache's entries are kept by a reload that changes no upstream, and dropped by one that does", () => {
    const file = (mockUrl: string, query = '') => ({
      ...fileFor(mockUrl),
      Providers: [{ name: 'oai', api_base_url: `${mockUrl}/v1/chat/completions${query}`, api_key: 'k', models: ['m'] }],
      Cache: { enabled: true },
    })
    return withServer(async ({ s, path, mockUrl }) => {
      const ask = async () => {
        const res = await fetch(`${s.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'oai,m', messages: [{ role: 'user', content: 'the same question' }] }),
        })
        await res.text()
        return res.headers.get('x-switchyard-cache')
      }
      assert.equal(await ask(), 'miss')
      assert.equal(await ask(), 'hit')
      writeFileSync(path, JSON.stringify({ ...file(mockUrl), LOG_LEVEL: 'warn' }))
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await ask(), 'hit', 'kept: the same upstream would give the same answer')
      writeFileSync(path, JSON.stringify(file(mockUrl, '?elsewhere=1')))
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await ask(), 'miss', 'the provider now reaches another upstream')
    }, (mockUrl) => file(mockUrl))
  })

  it('an identical request after a reload joins the one in flight since before it (deduplication): one upstream call', () =>
    withServer(async ({ s, path, mockUrl }) => {
      const ask = () =>
        fetch(`${s.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-switchyard-dedup': '1' },
          signal: AbortSignal.timeout(30_000),
          body: JSON.stringify({
            model: 'oai,m:ttft=2000',
            messages: [{ role: 'user', content: 'the same question' }],
          }),
        })
      const attempts = async () =>
        ((await (await fetch(`${mockUrl}/_mock/attempts`)).json()) as { attempts: unknown[] }).attempts.length
      const first = ask()
      const end = Date.now() + 10_000
      while (await attempts() === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      writeFileSync(path, JSON.stringify({ ...fileFor(mockUrl), LOG_LEVEL: 'warn' }))
      assert.match(await s.reload(), /reloaded/)
      const second = await ask()
      const answers = [await first, second]
      assert.deepEqual(answers.map((r) => r.status), [200, 200])
      assert.deepEqual(answers.map((r) => r.headers.get('x-switchyard-dedup')), [null, 'shared'])
      const texts = await Promise.all(answers.map((r) => r.text()))
      assert.equal(texts[0], texts[1])
      assert.equal(await attempts(), 1, 'one upstream call for both')
    }))

  it('/metrics goes on across a reload: counters keep counting, one family each, and a provider removed leaves', () =>
    withServer(async ({ s, path, mockUrl }) => {
      const scrape = async () => await (await fetch(`${s.url}/metrics`)).text()
      const requests = (text: string) =>
        [...text.matchAll(/^ccr_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      const before = await scrape()
      assert.equal(requests(before), 2)
      assert.match(before, /^ccr_circuit_state\{target="oai,m"\} 0$/m)
      writeFileSync(
        path,
        JSON.stringify({
          ...fileFor(mockUrl),
          Providers: [{ name: 'other', api_base_url: `${mockUrl}/v1/chat/completions`, api_key: 'k', models: ['m'] }],
          Router: { default: 'other,m' },
        }),
      )
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      const after = await scrape()
      assert.equal(requests(after), 3, 'not a counter reset to 1')
      assert.equal(after.match(/^# TYPE ccr_requests_total counter$/gm)?.length, 1)
      assert.equal(after.match(/^switchyard_build_info\{/gm)?.length, 1)
      assert.doesNotMatch(after, /ccr_circuit_state\{target="oai,m"\}/, 'the removed provider’s breaker is gone')
      assert.match(after, /^ccr_circuit_state\{target="other,m"\} 0$/m)
    }))

  it('an instance a reload replaced serves its streams to the end, then is closed; with nothing open, at once', () =>
    withServer(async ({ s, path, dir, mockUrl }) => {
      const open = stream(s.url, 'oai,m:chunks=6:delay=100').then(lastEvent)
      await until(() => s.activeRequests() >= 1)
      writeFileSync(path, JSON.stringify(fileFor(mockUrl, ['second'])))
      assert.match(await s.reload(), /reloaded/)
      assert.equal(s.retiredInstances(), 1, 'kept while its stream runs')
      assert.equal(await open, 'message_stop')
      await until(() => s.retiredInstances() === 0) // closed once idle (checked once a second)
      writeFileSync(path, JSON.stringify(fileFor(mockUrl, ['third'])))
      assert.match(await s.reload(), /reloaded/)
      assert.equal(s.retiredInstances(), 0, 'an idle one is closed by the reload itself')
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      // The PID file is the process's: closing a replaced instance leaves it (`switchyard stop`
      // and `status` read it), the shutdown removes it.
      assert.equal(readPidFile(dir)?.pid, process.pid)
      await s.shutdown(1_000)
      assert.equal(readPidFile(dir), undefined)
    }))

  it('usage is counted once whichever instance billed it: before a reload, by a stream that spans it, and after it', () =>
    withServer(async ({ s, path, mockUrl }) => {
      const requests = async () =>
        ((await (await fetch(`${s.url}/v1/usage?scope=instance`)).json()) as { total_requests: number }).total_requests
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      const spanning = stream(s.url, 'oai,m:chunks=6:delay=100').then(lastEvent)
      await until(() => s.activeRequests() >= 1)
      writeFileSync(path, JSON.stringify(fileFor(mockUrl, ['second'])))
      assert.match(await s.reload(), /reloaded/)
      assert.equal(await spanning, 'message_stop')
      assert.equal(await lastEvent(await stream(s.url, 'x')), 'message_stop')
      await until(() => s.retiredInstances() === 0)
      assert.equal(await requests(), 3)
    }))

  it('streams begun before a reload are drained, and ended well-formed at the deadline, by a shutdown after it', () =>
    withServer(async ({ s, path, mockUrl }) => {
      // Five long streams on the first config, then a reload, then a shutdown with a short drain.
      const long = Array.from({ length: 5 }, () => stream(s.url, 'oai,m:chunks=100:delay=100').then(lastEvent))
      const short = stream(s.url, 'oai,m:chunks=4:delay=100').then(lastEvent)
      await until(() => s.activeRequests() >= 6)
      writeFileSync(path, JSON.stringify(fileFor(mockUrl, ['second'])))
      assert.match(await s.reload(), /reloaded/)
      const started = Date.now()
      await s.shutdown(600)
      // The short one finished inside the drain; the long ones were ended with an in-stream error,
      // not cut off (a cut stream reads as no last event, or a truncated one).
      assert.equal(await short, 'message_stop')
      assert.deepEqual(await Promise.all(long), ['error', 'error', 'error', 'error', 'error'])
      assert.ok(Date.now() - started < 5_000, `shutdown took ${Date.now() - started} ms`)
    }))

  it('an over-limit body over a real socket is a 413 in the client format, also under a limit a reload raised', async () => {
    const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-life-'))
    const { s, path } = await server(mock.url, dir, { MAX_BODY_BYTES: 4096 })
    try {
      // 10 KB with its content-length: the runtime used to refuse it itself, bare, past limit + 1 KB.
      const body = JSON.stringify({
        model: 'oai,m',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x'.repeat(10_000) }],
      })
      const send = () =>
        fetch(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const refused = await send()
      assert.equal(refused.status, 413)
      const error = (await refused.json()) as { type: string; error: { type: string; message: string } }
      assert.equal(error.type, 'error')
      assert.match(error.error.message, /larger than the 4096 byte limit/)
      writeFileSync(path, JSON.stringify({ ...fileFor(mock.url), MAX_BODY_BYTES: 65_536 }))
      assert.match(await s.reload(), /reloaded/)
      const served = await send()
      assert.equal(served.status, 200, await served.clone().text())
      await served.text()
    } finally {
      await s.shutdown(1_000)
      await mock.stop()
    }
  })

  it('a PID file naming a dead process is detected as stale; a live one answering /health is running', () =>
    withServer(async ({ dir }) => {
      const rec = readPidFile(dir)
      assert.ok(rec, 'the server wrote its PID file')
      assert.equal((await probeInstance(rec!)).running, true)
      const dead = { ...rec!, pid: 2 ** 22 + 12345 }
      assert.equal(processAlive(dead.pid), false)
      assert.equal((await probeInstance(dead)).running, false)
      // A live PID whose port does not answer as Switchyard (e.g. a recycled PID) is stale too.
      writePidFile(dir, { ...rec!, port: 9 })
      assert.equal((await probeInstance(readPidFile(dir)!)).running, false)
    }))
})
