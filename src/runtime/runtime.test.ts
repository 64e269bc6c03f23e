import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { type DenoNative, glibcTrim } from './deno.ts'
import { runtime } from './index.ts'

describe('runtime adapter', () => {
  it('serves a handler on a random loopback port and stops', async () => {
    const served = await runtime.serve((req) => new Response(`hello ${new URL(req.url).pathname}`), {
      port: 0,
      hostname: '127.0.0.1',
    })
    try {
      assert.ok(served.port > 0)
      const res = await fetch(`http://127.0.0.1:${served.port}/x`)
      assert.equal(await res.text(), 'hello /x')
    } finally {
      await served.stop(true)
    }
    await assert.rejects(fetch(`http://127.0.0.1:${served.port}/x`))
  })

  it('requestBody: JSON text sent in its form arrives as the same UTF-8 bytes the text itself would send', async () => {
    const served = await runtime.serve(async (req) => new Response(await req.arrayBuffer()), {
      port: 0,
      hostname: '127.0.0.1',
    })
    try {
      const url = `http://127.0.0.1:${served.port}/`
      for (const text of ['{"a":1}', JSON.stringify({ t: 'h\u00e9llo \u{1F600} \u4e2d' }), '{"lone":"\ud800"}', '']) {
        const asText = new Uint8Array(await (await fetch(url, { method: 'POST', body: text })).arrayBuffer())
        const inForm = await fetch(url, { method: 'POST', body: runtime.requestBody(text) })
        assert.deepEqual(new Uint8Array(await inForm.arrayBuffer()), asText)
      }
    } finally {
      await served.stop(true)
    }
  })

  it('smallReads: every chunk of an upstream body has a buffer of its own size, and the bytes are intact', async () => {
    const parts = ['data: {"a":1}\n\n', 'data: {"b":"é"}\n\n', 'data: [DONE]\n\n']
    const served = await runtime.serve(() => {
      let i = 0
      const enc = new TextEncoder()
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 5))
          if (i < parts.length) c.enqueue(enc.encode(parts[i++]))
          else c.close()
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    }, { port: 0, hostname: '127.0.0.1' })
    try {
      const res = runtime.smallReads(await fetch(`http://127.0.0.1:${served.port}/`))
      const chunks: Uint8Array[] = []
      const reader = res.body!.getReader()
      for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value)
      assert.ok(chunks.length > 0)
      // Deno reads into one 4 KiB buffer: without a copy each chunk would be a view into it.
      for (const chunk of chunks) assert.equal(chunk.buffer.byteLength, chunk.byteLength)
      const dec = new TextDecoder()
      assert.equal(chunks.map((b) => dec.decode(b, { stream: true })).join(''), parts.join(''))
    } finally {
      await served.stop(true)
    }
  })
})

describe('glibcTrim (Deno: malloc_trim after a burst)', () => {
  /** A fake `Deno` slice that records what it was asked. */
  function fakeNative(os: string, ffi: string, opens: boolean) {
    const calls: string[] = []
    const native: DenoNative = {
      build: { os },
      permissions: {
        querySync: (d) => {
          calls.push(`query ${d.name}`)
          return { state: ffi }
        },
      },
      dlopen: (path, symbols) => {
        calls.push(`dlopen ${path} ${Object.keys(symbols).join()}`)
        if (!opens) throw new Error(`${path}: cannot open shared object file`)
        return {
          symbols: {
            malloc_trim: (pad) => {
              calls.push(`malloc_trim ${pad}`)
              return 1
            },
          },
        }
      },
    }
    return { native, calls }
  }

  it('calls malloc_trim(0) from libc.so.6 on Linux when FFI is granted', () => {
    const { native, calls } = fakeNative('linux', 'granted', true)
    const trim = glibcTrim(native)
    assert.ok(trim)
    assert.equal(trim(), 1)
    assert.deepEqual(calls, ['query ffi', 'dlopen libc.so.6 malloc_trim', 'malloc_trim 0'])
  })

  it('never opens a library without the FFI permission (asking would prompt), off Linux, or where libc is not glibc', () => {
    const prompt = fakeNative('linux', 'prompt', true)
    assert.equal(glibcTrim(prompt.native), undefined)
    assert.deepEqual(prompt.calls, ['query ffi'])
    const mac = fakeNative('darwin', 'granted', true)
    assert.equal(glibcTrim(mac.native), undefined)
    assert.deepEqual(mac.calls, [])
    const musl = fakeNative('linux', 'granted', false)
    assert.equal(glibcTrim(musl.native), undefined)
    assert.equal(glibcTrim(undefined), undefined)
  })

  it('on this Deno (Linux, -A) reaches the real malloc_trim', { skip: !('Deno' in globalThis) }, () => {
    const trim = glibcTrim((globalThis as unknown as { Deno: DenoNative }).Deno)
    assert.ok(trim, 'the tests run with -A on glibc Linux')
    assert.ok([0, 1].includes(trim()))
  })
})
