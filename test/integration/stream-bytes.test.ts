/**
 * A same-format stream that may be continued sends whole events only (a cut never leaves half
 * an event at the client). Upstream chunks that are whole events, passed on unchanged, go out as
 * the upstream's bytes; a chunk that starts or ends inside an event (or a character) is sent as
 * the whole events it completes, encoded again.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { anthropicBody, configOf, sseEvents, testConfigFile } from './helpers.ts'

const enc = new TextEncoder()

const HEAD = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",' +
  '"role":"assistant","model":"mock-a","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}\n\n' +
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
const delta = (text: string, eol = '\n') =>
  `event: content_block_delta${eol}data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${text}"}}${eol}${eol}`
const TAIL = 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}\n\n'

/** The client's body chunks (as text) of one stream whose upstream sends `chunks`, continuation on. */
async function clientChunks(chunks: readonly Uint8Array[]): Promise<string[]> {
  const dec = new TextDecoder()
  return (await clientBytes(chunks)).map((b) => dec.decode(b, { stream: true }))
}

/** The client's body chunks of one stream whose upstream sends `chunks`, continuation on. */
async function clientBytes(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const inst = await createInstance(configOf(testConfigFile({}, { default: 'anth,mock-a' })), {
    dataDir: ':memory:',
    log: createLogger({ enabled: false }),
    fetch: () => {
      let i = 0
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (i < chunks.length) c.enqueue(chunks[i++]!)
          else c.close()
        },
      }, { highWaterMark: 0 })
      return Promise.resolve(new Response(body, { headers: { 'content-type': 'text/event-stream' } }))
    },
  })
  try {
    const res = await inst.app.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(anthropicBody('anth,mock-a', { stream: true })),
    })
    assert.equal(res.status, 200)
    const out: Uint8Array[] = []
    const reader = res.body!.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value)
    return out
  } finally {
    await inst.close()
  }
}

const textOf = (body: string) =>
  sseEvents(body).filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join('')

describe('same-format stream, continuation on: whole events, the upstream bytes where they are whole', () => {
  it('chunks that are whole events go out byte for byte (CRLF line ends, an id field)', async () => {
    const head = HEAD + delta('a', '\r\n')
    const crlf = delta('b', '\r\n')
    const withId = `id: 7\n${delta('c')}`
    const out = await clientChunks([enc.encode(head), enc.encode(crlf), enc.encode(withId), enc.encode(TAIL)])
    assert.equal(out[0], head, 'the bytes read up to the commit point too')
    assert.ok(out.includes(crlf), 'the CRLF event is passed on untouched')
    assert.ok(out.includes(withId), 'the id line is passed on with its event')
    assert.equal(textOf(out.join('')), 'abc')
    assert.equal(sseEvents(out.join('')).at(-1)?.event, 'message_stop')
  })

  it('a chunk split inside an event or a character: every client chunk still ends at an event boundary', async () => {
    const rest = enc.encode(delta('b') + delta('café') + delta('d'))
    const cut1 = 40 // inside the first event
    const cutInE = rest.indexOf(0xc3) + 1 // between the two bytes of "é"
    const parts = [rest.subarray(0, cut1), rest.subarray(cut1, cutInE), rest.subarray(cutInE)]
    const out = await clientChunks([enc.encode(HEAD + delta('a')), ...parts, enc.encode(TAIL)])
    for (const chunk of out) assert.ok(chunk.endsWith('\n\n'), `chunk ends inside an event: ${JSON.stringify(chunk)}`)
    assert.equal(textOf(out.join('')), 'abcaféd')
    assert.equal(sseEvents(out.join('')).at(-1)?.event, 'message_stop')
  })
})
