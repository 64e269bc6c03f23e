import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
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
})
