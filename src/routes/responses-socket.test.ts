import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeSseAll, responsesEvents } from '../formats/index.ts'
import type { JsonObject } from '../formats/types.ts'
import type { SocketPeer } from '../lib/web-socket.ts'
import { ResponsesSocket } from './responses-socket.ts'

const answerOf = (id: string, text: string): JsonObject => ({
  id,
  object: 'response',
  status: 'completed',
  model: 'm',
  output: [{ id: `msg_${id}`, type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }],
  usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 },
})

const sse = (response: JsonObject) =>
  new Response(encodeSseAll(responsesEvents(response)), { headers: { 'content-type': 'text/event-stream' } })

/** A socket whose posts are answered by `reply` (default: a completed answer per post), with what it sent and was sent. */
function harness(reply?: (body: JsonObject, n: number, signal: AbortSignal) => Response | Promise<Response>) {
  const posted: JsonObject[] = []
  const frames: JsonObject[] = []
  const closed: number[] = []
  const socket = new ResponsesSocket({
    request: (body, signal) => new Request('http://sy.test/v1/responses', { method: 'POST', body, signal }),
    responseId: () => 'resp_warm',
    now: () => 1_700_000_000,
  })
  const peer: SocketPeer = {
    send: (text) => void frames.push(JSON.parse(text) as JsonObject),
    sendAll: (texts) => texts.forEach((text) => frames.push(JSON.parse(text) as JsonObject)),
    forward: async (req) => {
      assert.equal(new URL(req.url).pathname, '/v1/responses')
      const body = await req.json() as JsonObject
      posted.push(body)
      return await (reply ? reply(body, posted.length, req.signal) : sse(answerOf(`resp_${posted.length}`, 'hi')))
    },
    close: (code) => void closed.push(code ?? 1000),
  }
  socket.open(peer)
  /** Sends a frame and waits until every frame sent so far is answered. */
  const send = async (frame: unknown) => {
    socket.message(typeof frame === 'string' ? frame : JSON.stringify(frame))
    await (socket as unknown as { turn: Promise<void> }).turn
  }
  return { socket, posted, frames, closed, send }
}

const types = (frames: readonly JsonObject[]) => frames.map((f) => f.type)
const user = (text: string): JsonObject => ({ type: 'message', role: 'user', content: text })

describe('ResponsesSocket (the Responses API WebSocket mode)', () => {
  it('answers response.create as a streamed request, one frame per event, the type taken off', async () => {
    const h = harness()
    await h.send({ type: 'response.create', model: 'gpt-5.5', input: [user('hi')], stream: false })
    assert.deepEqual(h.posted, [{ model: 'gpt-5.5', input: [user('hi')], stream: true }])
    assert.equal(types(h.frames)[0], 'response.created')
    assert.equal(types(h.frames).at(-1), 'response.completed')
    assert.ok(types(h.frames).includes('response.output_text.delta'))
  })

  it('continues its latest answer: previous_response_id naming it gets the whole conversation, store: false or not', async () => {
    const h = harness()
    await h.send({ type: 'response.create', model: 'm', store: false, input: [user('one')] })
    await h.send({
      type: 'response.create',
      model: 'm',
      store: false,
      previous_response_id: 'resp_1',
      input: [user('two')],
    })
    const second = h.posted[1]!
    assert.equal('previous_response_id' in second, false)
    assert.deepEqual(second.input, [user('one'), (answerOf('resp_1', 'hi').output as JsonObject[])[0], user('two')])
    // And the chain goes on from the answer just given.
    await h.send({ type: 'response.create', model: 'm', previous_response_id: 'resp_2', input: [user('three')] })
    assert.equal((h.posted[2]!.input as unknown[]).length, 5)
  })

  it('leaves any other previous_response_id to the route (the store), and then remembers nothing of its own', async () => {
    const h = harness()
    await h.send({ type: 'response.create', model: 'm', previous_response_id: 'resp_elsewhere', input: [user('x')] })
    assert.equal(h.posted[0]!.previous_response_id, 'resp_elsewhere')
    assert.deepEqual(h.posted[0]!.input, [user('x')])
    // Its answer's conversation is not known here: a follow-up naming it goes to the route too.
    await h.send({ type: 'response.create', model: 'm', previous_response_id: 'resp_1', input: [user('y')] })
    assert.equal(h.posted[1]!.previous_response_id, 'resp_1')
  })

  it('answers a warm-up (generate: false) itself, and continues from it', async () => {
    const h = harness()
    await h.send({ type: 'response.create', model: 'm', generate: false, input: [user('instructions')] })
    assert.equal(h.posted.length, 0)
    assert.deepEqual(types(h.frames), ['response.created', 'response.in_progress', 'response.completed'])
    const done = h.frames.at(-1)!.response as JsonObject
    assert.equal(done.id, 'resp_warm')
    assert.deepEqual(done.output, [])
    await h.send({
      type: 'response.create',
      model: 'm',
      previous_response_id: 'resp_warm',
      input: [user('go')],
      generate: true,
    })
    assert.deepEqual(h.posted[0]!.input, [user('instructions'), user('go')])
    assert.equal('generate' in h.posted[0]!, false, 'the WebSocket-only field is not sent on')
  })

  it('a string input counts as one user message in the conversation it continues', async () => {
    const h = harness()
    await h.send({ type: 'response.create', model: 'm', input: 'one' })
    assert.equal(h.posted[0]!.input, 'one')
    await h.send({ type: 'response.create', model: 'm', previous_response_id: 'resp_1', input: 'two' })
    const texts = (h.posted[1]!.input as JsonObject[]).map((i) =>
      JSON.stringify(i.content).match(/"text":"(\w+)"/)?.[1]
    )
    assert.deepEqual(texts, ['one', 'hi', 'two'])
    assert.deepEqual((h.posted[1]!.input as JsonObject[]).map((i) => i.role), ['user', 'assistant', 'user'])
  })

  it('refuses bad frames with an error frame naming what is wrong, and keeps serving', async () => {
    const h = harness()
    await h.send('{not json')
    await h.send('[1]')
    await h.send({ type: 'response.append', input: [] })
    h.socket.message(new Uint8Array([1, 2]))
    await h.send({ type: 'response.create', model: 'm', input: [user('ok')] })
    const errors = h.frames.filter((f) => f.type === 'error')
    assert.equal(errors.length, 4)
    for (const e of errors) assert.equal(e.status, 400)
    const messages = errors.map((e) => (e.error as { message: string }).message)
    assert.match(messages[0]!, /not JSON/)
    assert.match(messages[1]!, /not a JSON object/)
    assert.match(messages[2]!, /^type: "response\.append"/)
    assert.equal((errors[2]!.error as { param: string }).param, 'type')
    assert.match(messages[3]!, /binary/)
    assert.equal(h.posted.length, 1)
    assert.equal(types(h.frames).at(-1), 'response.completed')
  })

  it('takes acknowledgements (response.processed) without an answer', async () => {
    const h = harness()
    await h.send({ type: 'response.processed', response_id: 'resp_1' })
    assert.deepEqual(h.frames, [])
    assert.deepEqual(h.posted, [])
  })

  it('hands on a refused request as one error frame: its status, its error object, its retry headers', async () => {
    const h = harness(() =>
      new Response(
        JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: null } }),
        {
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': '7', 'x-request-id': 'req_1' },
        },
      )
    )
    await h.send({ type: 'response.create', model: 'm', input: [user('x')] })
    assert.deepEqual(h.frames, [{
      type: 'error',
      status: 429,
      error: { message: 'slow down', type: 'rate_limit_error', param: null, code: null },
      headers: { 'retry-after': '7', 'x-request-id': 'req_1' },
    }])
  })

  it('answers frames one at a time, in the order they came', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const h = harness(async (_body, n) => {
      if (n === 1) await gate
      return sse(answerOf(`resp_${n}`, `answer ${n}`))
    })
    h.socket.message(JSON.stringify({ type: 'response.create', model: 'm', input: [user('a')] }))
    h.socket.message(JSON.stringify({ type: 'response.create', model: 'm', input: [user('b')] }))
    await new Promise((r) => setTimeout(r, 10))
    assert.equal(h.posted.length, 1, 'the second waits for the first')
    release()
    await (h.socket as unknown as { turn: Promise<void> }).turn
    const completed = h.frames.filter((f) => f.type === 'response.completed').map((f) => (f.response as JsonObject).id)
    assert.deepEqual(completed, ['resp_1', 'resp_2'])
  })

  it('refuses frames past 8 waiting with a 429 frame, and answers the 8 in order', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const h = harness(async (_body, n) => {
      await gate
      return sse(answerOf(`resp_${n}`, 'hi'))
    })
    for (let i = 0; i < 10; i++) {
      h.socket.message(JSON.stringify({ type: 'response.create', model: 'm', input: [user(`${i}`)] }))
    }
    const refused = h.frames.filter((f) => f.type === 'error')
    assert.deepEqual(refused.map((f) => f.status), [429, 429])
    assert.match((refused[0]!.error as { message: string }).message, /8 frames are already waiting/)
    release()
    await (h.socket as unknown as { turn: Promise<void> }).turn
    assert.equal(h.posted.length, 8)
    assert.deepEqual(h.posted.map((b) => ((b.input as JsonObject[])[0]!.content)), [
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
    ])
    // Room again once they are answered.
    await h.send({ type: 'response.create', model: 'm', input: [user('later')] })
    assert.equal(h.posted.length, 9)
  })

  it('stops reading the answer when the client goes, and cancels the request', async () => {
    let cancelled = false
    let aborted = false
    const h = harness((_body, _n, signal) => {
      signal.addEventListener('abort', () => (aborted = true))
      const body = new ReadableStream<Uint8Array>({
        start: (c) =>
          c.enqueue(new TextEncoder().encode('event: response.created\ndata: {"type":"response.created"}\n\n')),
        cancel: () => void (cancelled = true),
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    })
    h.socket.message(JSON.stringify({ type: 'response.create', model: 'm', input: [user('a')] }))
    await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(types(h.frames), ['response.created'])
    h.socket.close()
    await (h.socket as unknown as { turn: Promise<void> }).turn
    assert.ok(aborted && cancelled)
  })

  it('drains: closes (1001) at once when idle, else once the answer in flight is sent', async () => {
    const idle = harness()
    idle.socket.drain()
    assert.deepEqual(idle.closed, [1001])

    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const busy = harness(async () => {
      await gate
      return sse(answerOf('resp_1', 'hi'))
    })
    busy.socket.message(JSON.stringify({ type: 'response.create', model: 'm', input: [user('a')] }))
    busy.socket.drain()
    assert.deepEqual(busy.closed, [])
    release()
    await (busy.socket as unknown as { turn: Promise<void> }).turn
    assert.equal(types(busy.frames).at(-1), 'response.completed')
    assert.deepEqual(busy.closed, [1001])
  })
})
