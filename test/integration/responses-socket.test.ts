/**
 * The Responses API's WebSocket mode over a real socket (Bun and Deno): the handshake is checked
 * like any request, each `response.create` frame is answered with the events of a streamed
 * `POST /v1/responses` through any upstream, a follow-up naming the connection's latest answer
 * reaches the upstream whole (`store: false`), refusals come back as error frames, and a stopping
 * server closes its idle sockets. The scripted upstream answers on 127.0.0.1 only, in process.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type AppInstance, createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { runtime, type Served } from '../../src/runtime/index.ts'
import type { JsonObject } from '../../src/formats/types.ts'
import OpenAI from 'openai'
import { ResponsesWS } from 'openai/resources/responses/ws'
import { configOf } from './helpers.ts'
import { GREETING, scriptedUpstream } from './scripted-upstream.ts'

const KEY = 'sy-socket-key'

interface Client {
  readonly frames: JsonObject[]
  send(frame: unknown): void
  /** Resolves with the frames received once one matching `done` arrives (bounded). */
  until(done: (f: JsonObject) => boolean): Promise<JsonObject[]>
  readonly closed: Promise<number>
  close(): void
}

/** A WebSocket client (the runtime's own) with the key in its handshake headers, as Codex sends it. */
function connect(url: string, key: string | undefined): Promise<Client> {
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
  const Ws = WebSocket as unknown as new (url: string, o: { headers: Record<string, string> }) => WebSocket
  const ws = new Ws(url, { headers })
  const frames: JsonObject[] = []
  const waiters: (() => void)[] = []
  ws.onmessage = (e) => {
    frames.push(JSON.parse(String(e.data)) as JsonObject)
    for (const w of waiters.splice(0)) w()
  }
  const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)))
  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error('handshake refused'))
    ws.onopen = () =>
      resolve({
        frames,
        send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
        until: (done) =>
          new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no such frame in ${JSON.stringify(frames)}`)), 5_000)
            const check = () => {
              if (frames.some(done)) {
                clearTimeout(timer)
                res([...frames])
              } else waiters.push(check)
            }
            check()
          }),
        closed,
        close: () => ws.close(),
      })
  })
}

const CONFIG_FILE = {
  LOG: false,
  APIKEY: KEY,
  Providers: [
    { name: 'up', api_base_url: 'http://upstream.test/v1/chat/completions', api_key: 'k', models: ['gpt-up'] },
  ],
  Router: { default: 'up,gpt-up' },
}
const config = configOf(CONFIG_FILE)
const instance = (upstream: ReturnType<typeof scriptedUpstream>) =>
  createInstance(config, { dataDir: ':memory:', fetch: upstream.fetch, log: createLogger({ enabled: false }) })

const user = (text: string): JsonObject => ({ type: 'message', role: 'user', content: text })
const isFinal = (f: JsonObject) => f.type === 'response.completed' || f.type === 'error'

describe('Responses API WebSocket mode (GET /v1/responses upgraded)', () => {
  let built: AppInstance
  let served: Served
  let url: string
  const upstream = scriptedUpstream()

  before(async () => {
    built = await instance(upstream)
    served = await runtime.serve((req) => built.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    url = `ws://127.0.0.1:${served.port}/v1/responses`
  })
  after(async () => {
    await served.stop(true)
    await built.close()
  })

  it('checks the key before upgrading: a keyless handshake is refused with a 401', async () => {
    const res = await built.app.request('/v1/responses', {
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'x' },
    })
    assert.equal(res.status, 401)
    await assert.rejects(connect(url, undefined), /refused/)
    await assert.rejects(connect(url, 'wrong-key'), /refused/)
  })

  it("refuses a web page's handshake (an Origin of another host: browsers send any page's, with no CORS check)", async () => {
    const handshake = {
      authorization: `Bearer ${KEY}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    }
    const res = await built.app.request('http://127.0.0.1:3456/v1/responses', {
      headers: { ...handshake, origin: 'https://evil.example' },
    })
    assert.equal(res.status, 403)
    assert.match((await res.json() as { error: { message: string } }).error.message, /^origin: .*evil\.example/)
    // Its own host's pages and clients that send no Origin (agents, SDKs) get past this check.
    const own = await built.app.request('http://127.0.0.1:3456/v1/responses', {
      headers: { ...handshake, origin: 'http://127.0.0.1:3456' },
    })
    assert.notEqual(own.status, 403)
  })

  it('a plain GET gets a 400 in the Responses error shape that says how to use it', async () => {
    const res = await built.app.request('/v1/responses', { headers: { authorization: `Bearer ${KEY}` } })
    assert.equal(res.status, 400)
    const body = await res.json() as { error: { message: string; type: string } }
    assert.match(body.error.message, /WebSocket handshake/)
    assert.equal(body.error.type, 'invalid_request_error')
  })

  it('answers two turns on one socket, the second sent as its new items after previous_response_id (store: false)', async () => {
    const c = await connect(url, KEY)
    const seen = upstream.seen.length
    c.send({
      type: 'response.create',
      model: 'gpt-5.5',
      store: false,
      instructions: 'Be brief.',
      input: [user('first question')],
    })
    const first = await c.until(isFinal)
    assert.equal(first[0]!.type, 'response.created')
    const done = first.at(-1)!
    assert.equal(done.type, 'response.completed', JSON.stringify(done))
    const answer = done.response as { id: string; output: JsonObject[] }
    assert.match(JSON.stringify(answer.output), new RegExp(GREETING))
    const text = first.filter((f) => f.type === 'response.output_text.delta').map((f) => f.delta).join('')
    assert.equal(text, GREETING)

    c.send({ type: 'response.processed', response_id: answer.id })
    c.send({
      type: 'response.create',
      model: 'gpt-5.5',
      store: false,
      instructions: 'Be brief.',
      previous_response_id: answer.id,
      input: [user('second question')],
    })
    const both = await c.until((f) => f.type === 'response.completed' && (f.response as JsonObject).id !== answer.id)
    assert.equal(both.filter((f) => f.type === 'error').length, 0, JSON.stringify(both))
    // The upstream (Chat Completions) got the whole conversation: both questions and the first answer.
    const second = upstream.seen.slice(seen)[1]!.body as { messages: { role: string; content: unknown }[] }
    assert.deepEqual(second.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user'])
    assert.match(JSON.stringify(second.messages), /first question.*Hello from the scripted upstream.*second question/)
    c.close()
    await c.closed
  })

  it('answers a refused request with one error frame naming the field, and keeps the socket', async () => {
    const c = await connect(url, KEY)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: 5 })
    const [error] = await c.until(isFinal)
    assert.equal(error!.type, 'error')
    assert.equal(error!.status, 400)
    assert.match(JSON.stringify(error!.error), /input/)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: [user('again')] })
    const after = await c.until((f) => f.type === 'response.completed')
    assert.equal(after.at(-1)!.type, 'response.completed')
    c.close()
    await c.closed
  })

  it("compacts over the socket as over HTTP (Codex's compaction_trigger): one compaction item, continued from", async () => {
    const c = await connect(url, KEY)
    c.send({
      type: 'response.create',
      model: 'gpt-5.5',
      store: false,
      input: [user('a long session'), { type: 'compaction_trigger' }],
    })
    const frames = await c.until(isFinal)
    const items = frames.filter((f) => f.type === 'response.output_item.done').map((f) => f.item as JsonObject)
    assert.deepEqual(items.map((i) => i.type), ['compaction'], JSON.stringify(frames))
    c.send({
      type: 'response.create',
      model: 'gpt-5.5',
      store: false,
      input: [user('a long session'), items[0], user('go on')],
    })
    await c.until((f) => f.type === 'response.completed' && f !== frames.at(-1))
    // The summary (the upstream's answer to the compaction request) came back to it as text.
    assert.match(JSON.stringify(upstream.seen.at(-1)!.body), new RegExp(`${GREETING}.*go on`))
    c.close()
    await c.closed
  })

  it('refuses a frame over the body limit in the Responses error shape, and keeps the socket', async () => {
    const small = await createInstance(configOf({ ...CONFIG_FILE, MAX_BODY_BYTES: 4096 }), {
      dataDir: ':memory:',
      fetch: upstream.fetch,
      log: createLogger({ enabled: false }),
    })
    const own = await runtime.serve((req) => small.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    const c = await connect(`ws://127.0.0.1:${own.port}/v1/responses`, KEY)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: [user('x'.repeat(8192))] })
    const [refused] = await c.until(isFinal)
    assert.equal(refused!.type, 'error')
    assert.equal(refused!.status, 413)
    assert.match(JSON.stringify(refused!.error), /4096 byte limit/)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: [user('small')] })
    assert.equal((await c.until((f) => f.type === 'response.completed')).at(-1)!.type, 'response.completed')
    c.close()
    await c.closed
    await own.stop(true)
    await small.close()
  })

  it("takes a frame as large as a request body may be (Bun's own default stops at 16 MiB)", async () => {
    const c = await connect(url, KEY)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: [user('a long file '.repeat(1_500_000))] })
    const frames = await c.until(isFinal)
    assert.equal(frames.at(-1)!.type, 'response.completed', JSON.stringify(frames.at(-1)).slice(0, 300))
    c.close()
    assert.equal(await c.closed, 1005)
  })

  it('counts its open sockets in /metrics (switchyard_websockets_open)', async () => {
    const open = async () => {
      const text = await (await built.app.request('/metrics', { headers: { authorization: `Bearer ${KEY}` } })).text()
      return Number(/^switchyard_websockets_open (\d+)$/m.exec(text)?.[1])
    }
    // The server learns of an open or a close a moment after the client does.
    const settled = async (n: number) => {
      for (let i = 0; i < 50 && await open() !== n; i++) await new Promise((r) => setTimeout(r, 10))
      return await open()
    }
    const before = await open()
    const a = await connect(url, KEY)
    const b = await connect(url, KEY)
    assert.equal(await settled(before + 2), before + 2)
    a.close()
    await a.closed
    assert.equal(await settled(before + 1), before + 1)
    b.close()
    await b.closed
  })

  it('a stopping server lets the answer in flight finish, then closes the socket (1001)', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow = scriptedUpstream()
    let asked = false
    const held = await createInstance(config, {
      dataDir: ':memory:',
      fetch: async (req) => {
        asked = true
        await gate
        return await slow.fetch(req)
      },
      log: createLogger({ enabled: false }),
    })
    const own = await runtime.serve((req) => held.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    const c = await connect(`ws://127.0.0.1:${own.port}/v1/responses`, KEY)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: [user('hello')] })
    while (!asked) await new Promise((r) => setTimeout(r, 5))
    const stopping = own.stop(false)
    await new Promise((r) => setTimeout(r, 50))
    release()
    const frames = await c.until(isFinal)
    assert.equal(frames.at(-1)!.type, 'response.completed')
    assert.equal(await c.closed, 1001)
    await stopping
    await held.close()
  })

  it('a stopping server closes an idle socket (1001)', async () => {
    const own = await runtime.serve((req) => built.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    const c = await connect(`ws://127.0.0.1:${own.port}/v1/responses`, KEY)
    c.send({ type: 'response.create', model: 'gpt-5.5', input: [user('hello')] })
    await c.until(isFinal)
    await own.stop(false)
    assert.equal(await c.closed, 1001)
  })

  it('a frame after a config reload is answered by the new config, the conversation kept', async () => {
    // The server's handler picks the app it serves now, as `switchyard start` does across a reload.
    const next = scriptedUpstream()
    const reloaded = await instance(next)
    let current = built
    const own = await runtime.serve((req) => current.app.fetch(req), { port: 0, hostname: '127.0.0.1' })
    const c = await connect(`ws://127.0.0.1:${own.port}/v1/responses`, KEY)
    c.send({ type: 'response.create', model: 'gpt-5.5', store: false, input: [user('before the reload')] })
    const first = (await c.until(isFinal)).at(-1)!
    current = reloaded
    c.send({
      type: 'response.create',
      model: 'gpt-5.5',
      store: false,
      previous_response_id: (first.response as JsonObject).id,
      input: [user('after the reload')],
    })
    await c.until((f) => f.type === 'response.completed' && f !== first)
    assert.equal(next.seen.length, 1)
    assert.match(JSON.stringify(next.seen[0]!.body), /before the reload.*after the reload/)
    c.close()
    await c.closed
    await own.stop(true)
    await reloaded.close()
  })

  it("serves the official OpenAI SDK's WebSocket client (ResponsesWS): two turns, the second continuing the first", async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${served.port}/v1` })
    const socket = new ResponsesWS(client)
    const seen = upstream.seen.length
    const events: { type: string; response?: { id: string } }[] = []
    let first: string | undefined
    socket.send({ type: 'response.create', model: 'gpt-5.5', store: false, input: 'sdk first' })
    for await (const m of socket.stream()) {
      if (m.type === 'error') throw m.error
      if (m.type !== 'message') continue
      events.push(m.message as never)
      if (m.message.type !== 'response.completed') continue
      if (first !== undefined) break
      first = m.message.response.id
      socket.send({
        type: 'response.create',
        model: 'gpt-5.5',
        store: false,
        previous_response_id: first,
        input: 'sdk second',
      })
    }
    socket.close()
    const done = events.filter((e) => e.type === 'response.completed').map((e) => e.response!.id)
    assert.equal(done.length, 2)
    assert.notEqual(done[0], done[1])
    assert.match(
      JSON.stringify(upstream.seen.slice(seen)[1]!.body),
      /sdk first.*Hello from the scripted upstream.*sdk second/,
    )
  })
})
